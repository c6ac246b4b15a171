import { type RedisServer, startRedisServer } from '@tiercache/redis-harness';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallDeadlines, TimedCommand } from '../src/timed-command.js';

/*
 * The deadline queue keeps calls only while they are in flight: a call kept past its reply would be kept past
 * the young generation's collections, with its arguments and its reply.
 */

const TIMEOUT_MS = 100;

let server: RedisServer;
let client: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  client = new Redis(server.url, { commandTimeout: TIMEOUT_MS });
  await client.hset('a-hash', 'field', 'value');
  await client.set('a-string', 'value');
});

afterAll(async () => {
  client.disconnect();
  await server.stop();
});

function send(deadlines: CallDeadlines, name: string, args: string[]): Promise<unknown> {
  return client.sendCommand(new TimedCommand(name, args, deadlines)) as Promise<unknown>;
}

describe('CallDeadlines', () => {
  it('holds a call only until it is answered', async () => {
    const deadlines = new CallDeadlines(true);
    const calls = [send(deadlines, 'get', ['a-string']), send(deadlines, 'get', ['a-string'])];
    expect(deadlines.size).toBe(2);
    expect(await Promise.all(calls)).toEqual(['value', 'value']);
    expect(deadlines.size).toBe(0);
  });

  it('on one connection, lets a call that failed go with the next answer, not at its deadline', async () => {
    const deadlines = new CallDeadlines(true);
    const failed = send(deadlines, 'get', ['a-hash']).catch((error: Error) => error.message);
    const answered = send(deadlines, 'get', ['a-string']);
    expect(await answered).toBe('value');
    expect(await failed).toMatch(/^WRONGTYPE/);
    expect(deadlines.size).toBe(0);
  });

  it('across connections (a Cluster), keeps a failed call until its deadline, and no longer', async () => {
    const deadlines = new CallDeadlines(false);
    const failed = send(deadlines, 'get', ['a-hash']).catch((error: Error) => error.message);
    await send(deadlines, 'get', ['a-string']);
    expect(await failed).toMatch(/^WRONGTYPE/);
    // The failed call is at the front, so the answered one behind it waits with it.
    expect(deadlines.size).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS + 50));
    expect(deadlines.size).toBe(0);
  });
});
