import { type RedisServer, startRedisServer } from '@tiercache/redis-harness';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CallDeadlines } from '../src/call-deadlines.js';
import { TimedCommand } from '../src/timed-command.js';

/*
 * The deadline queue keeps calls only while they are in flight (a call kept past its reply would be kept past
 * the young generation's collections, with its arguments and its reply), and fails each call at its own
 * deadline. Replies come from a real redis-server where the test needs Redis to answer; deadlines are kept on
 * the controllable clock, with replies handed to the commands as ioredis hands them.
 */

const TIMEOUT_MS = 100;

describe('CallDeadlines with a real server', () => {
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
});

describe('CallDeadlines on the controllable clock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A command started (as ioredis starts it when it sends it), and how it settled. */
  function started(deadlines: CallDeadlines) {
    const command = new TimedCommand('get', ['k'], deadlines);
    const settled = { how: 'pending' };
    command.promise.then(
      () => {
        settled.how = 'answered';
      },
      (error: Error) => {
        settled.how = error.message;
      },
    );
    command.setTimeout(TIMEOUT_MS);
    return { command, settled };
  }

  /** What ioredis does with a reply: the command converts and resolves it. */
  function reply(command: TimedCommand): void {
    command.resolve(Buffer.from('value'));
  }

  it('fails each call at its own deadline, and not before', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const deadlines = new CallDeadlines(true);
    const first = started(deadlines);
    await vi.advanceTimersByTimeAsync(60);
    const second = started(deadlines);
    await vi.advanceTimersByTimeAsync(TIMEOUT_MS - 60);
    expect([first.settled.how, second.settled.how]).toEqual(['Command timed out', 'pending']);
    await vi.advanceTimersByTimeAsync(59);
    expect(second.settled.how).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(second.settled.how).toBe('Command timed out');
    expect(deadlines.size).toBe(0);
  });

  it('a late reply to a call that timed out leaves the calls after it timed', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const deadlines = new CallDeadlines(true);
    const late = started(deadlines);
    await vi.advanceTimersByTimeAsync(TIMEOUT_MS);
    expect(late.settled.how).toBe('Command timed out');
    const after = started(deadlines);
    reply(late.command);
    expect(deadlines.size).toBe(1);
    await vi.advanceTimersByTimeAsync(TIMEOUT_MS);
    expect(after.settled.how).toBe('Command timed out');
  });

  it('across connections (a Cluster), keeps a failed call until its deadline, and no longer', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const deadlines = new CallDeadlines(false);
    const failed = started(deadlines);
    const answered = started(deadlines);
    failed.command.reject(new Error('WRONGTYPE'));
    reply(answered.command);
    await vi.advanceTimersByTimeAsync(0);
    expect([failed.settled.how, answered.settled.how]).toEqual(['WRONGTYPE', 'answered']);
    // The failed call is at the front, so the answered one behind it waits with it.
    expect(deadlines.size).toBe(2);
    await vi.advanceTimersByTimeAsync(TIMEOUT_MS);
    expect(deadlines.size).toBe(0);
    expect(failed.settled.how).toBe('WRONGTYPE');
  });
});
