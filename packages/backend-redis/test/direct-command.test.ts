import { tracingChannel } from 'node:diagnostics_channel';
import { expectOk } from '@tiercache/core/testing';
import { type RedisServer, startRedisServer } from '@tiercache/redis-harness';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisBackend } from '../src/index.js';

/*
 * GET, SET and MGET are written straight to the socket of a client that never resends a command itself (the
 * backend's own, or a caller's set up the same way); every other client, and every client while someone
 * traces ioredis's commands, gets them through ioredis's sendCommand. Each case on a server of this file's own.
 */
let server: RedisServer;
let plain: Redis;
beforeAll(async () => {
  server = await startRedisServer();
  plain = new Redis(server.url);
});
afterAll(async () => {
  plain.disconnect();
  await server.stop();
});

describe('commands written to the socket directly', () => {
  it("a program tracing ioredis's commands sees the backend's GET, SET and MGET", async () => {
    const cache = createRedisBackend({ url: server.url, keyPrefix: 'traced:' });
    const traced: string[] = [];
    const commands = tracingChannel<object, { command: string; args: string[] }>('ioredis:command');
    const ignore = () => {};
    const handlers = {
      start: ({ command, args }: { command: string; args: string[] }) => {
        // ioredis shows the arguments of some commands only (MGET's as `?`).
        traced.push(command === 'mget' ? command : `${command} ${args[0]}`);
      },
      end: ignore,
      asyncStart: ignore,
      asyncEnd: ignore,
      error: ignore,
    };
    try {
      expectOk(await cache.set('before', 'v'));
      commands.subscribe(handlers);
      expectOk(await cache.set('k', 'v', 60));
      expect(expectOk(await cache.get('k'))).toBe('v');
      expect([...expectOk(await cache.getMany(['k', 'absent'])).values()]).toEqual(['v', null]);
      commands.unsubscribe(handlers);
      // Untraced again: written directly, and answered as before.
      expect(expectOk(await cache.get('before'))).toBe('v');
      expect(traced).toEqual(['set traced:k', 'get traced:k', 'mget']);
    } finally {
      commands.unsubscribe(handlers);
      await cache.close();
    }
  });

  it("a caller's client that resends unanswered commands after a reconnect gets its calls in flight answered", async () => {
    // ioredis's defaults: autoResendUnfulfilledCommands and the offline queue. ioredis resends through
    // sendCommand what was in flight when the connection dropped, so these calls must be its own commands.
    const client = new Redis(server.url, { commandTimeout: 5_000 });
    const cache = createRedisBackend({ client, closeClient: true, keyPrefix: 'resent:' });
    try {
      await plain.set('resent:k', 'v');
      expectOk(await cache.get('k'));
      const read = cache.get('k');
      const written = cache.set('other', 'w');
      const many = cache.getMany(['k', 'other']);
      // Before the tick ends, so the commands are queued for replies but never reach the server.
      client.stream.destroy();
      expect(expectOk(await read)).toBe('v');
      expectOk(await written);
      expect([...expectOk(await many).values()]).toEqual(['v', 'w']);
    } finally {
      await cache.close();
    }
  });

  it("times calls on a caller's client set up as the backend's own, without a commandTimeout", async () => {
    const client = new Redis(server.url, { autoResendUnfulfilledCommands: false });
    const cache = createRedisBackend({ client, closeClient: true, commandTimeout: 100, keyPrefix: 'own:' });
    try {
      expectOk(await cache.set('k', 'v'));
      server.pause();
      const started = performance.now();
      const result = await cache.get('k');
      const elapsed = performance.now() - started;
      server.resume();
      expect(result.isErr() && result.error.code).toBe('TIMEOUT');
      // Generous for a loaded machine, and far below what an untimed call would wait (for ever).
      expect(elapsed).toBeLessThan(1_000);
      expect(expectOk(await cache.get('k'))).toBe('v');
    } finally {
      await cache.close();
    }
  });

  it('a call sent as the connection drops, in the same tick, answers CONNECTION, and the next ones are served', async () => {
    const client = new Redis(server.url, { autoResendUnfulfilledCommands: false, enableOfflineQueue: false });
    const cache = createRedisBackend({ client, closeClient: true, keyPrefix: 'dropped:' });
    try {
      expectOk(await cache.set('k', 'v'));
      const read = cache.get('k');
      client.stream.destroy();
      const result = await read;
      expect(result.isErr() && result.error.code).toBe('CONNECTION');
      await new Promise((resolve) => client.once('ready', resolve));
      expect(expectOk(await cache.get('k'))).toBe('v');
    } finally {
      await cache.close();
    }
  });
});
