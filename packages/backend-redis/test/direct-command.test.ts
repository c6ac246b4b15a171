import { tracingChannel } from 'node:diagnostics_channel';
import { expectOk } from '@tiercache/core/testing';
import { type RedisServer, startRedisServer } from '@tiercache/redis-harness';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OwnRedis } from '../src/direct-command.js';
import { createRedisBackend } from '../src/index.js';
import { Transport } from '../src/transport.js';

/*
 * GET, SET and MGET are written straight to the socket of the backend's own clients, in the order they were
 * made; a caller's client, and every client while someone watches ioredis's commands, gets them through
 * ioredis's sendCommand. Each case on a server of this file's own.
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

/** A transport over a client made as the backend makes its own, to reach the client's socket. */
async function ownTransport(keyPrefix: string) {
  const client = new OwnRedis(server.url, {
    autoResendUnfulfilledCommands: false,
    enableOfflineQueue: false,
    commandTimeout: 5_000,
  });
  const transport = new Transport(client, { timeoutMs: 5_000, needsOwnTimeout: false, keyPrefix });
  await new Promise((resolve) => client.once('ready', resolve));
  const close = () => {
    transport.close();
    transport.detach();
    client.disconnect();
  };
  return { client, transport, close };
}

describe('commands written to the socket directly', () => {
  it('16 made in one tick are written before the tick ends; fewer are held until it does', async () => {
    const { client, transport, close } = await ownTransport('early:');
    try {
      const get = (key: string) => transport.sendCommand<string | null>('get', [key], 1);
      const sent = client.stream.bytesWritten;
      const fifteen = Array.from({ length: 15 }, (_, i) => get(`k${i}`));
      // Held until the tick ends.
      expect(client.stream.bytesWritten).toBe(sent);
      const sixteenth = get('k15');
      // Written at once, all sixteen.
      const sixteen = client.stream.bytesWritten;
      const wire = (key: string) => `*2\r\n$3\r\nget\r\n$${key.length}\r\n${key}\r\n`;
      const expected = Array.from({ length: 16 }, (_, i) => wire(`early:k${i}`)).join('');
      expect(sixteen - sent).toBe(expected.length);
      // And not left in the socket's buffer, corked: handed to the kernel, which loopback takes at once.
      expect(client.stream.writableLength).toBe(0);
      const seventeenth = get('k16');
      expect(client.stream.bytesWritten).toBe(sixteen);
      expect(await Promise.all([...fifteen, sixteenth, seventeenth])).toEqual(Array(17).fill(null));
    } finally {
      close();
    }
  });

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

  it('a program that wraps sendCommand, as shimmer-based instrumentations do, sees GET, SET and MGET', async () => {
    const cache = createRedisBackend({ url: server.url, keyPrefix: 'wrapped:' });
    const seen: string[] = [];
    const original = Redis.prototype.sendCommand;
    try {
      expectOk(await cache.set('k', 'v'));
      // What shimmer's wrap leaves on the prototype (OpenTelemetry's ioredis instrumentation wraps it so): a
      // function marked `__wrapped`, calling the original.
      const wrapper = function (this: Redis, ...args: Parameters<Redis['sendCommand']>) {
        seen.push(args[0].name);
        return original.apply(this, args);
      };
      Object.defineProperty(wrapper, '__wrapped', { value: true });
      Redis.prototype.sendCommand = wrapper;
      expectOk(await cache.set('k', 'w'));
      expect(expectOk(await cache.get('k'))).toBe('w');
      expect([...expectOk(await cache.getMany(['k'])).values()]).toEqual(['w']);
      expect(seen).toEqual(['set', 'get', 'mget']);
    } finally {
      Redis.prototype.sendCommand = original;
      await cache.close();
    }
  });

  it('a command sent through ioredis after a direct one, in the same tick, leaves after it', async () => {
    const cache = createRedisBackend({ url: server.url, keyPrefix: 'ordered:' });
    try {
      expectOk(await cache.set('k', 'old'));
      // set is written directly at the tick's end; getEntry (GET and PTTL in an ioredis pipeline) and delete
      // (UNLINK) go through ioredis at once, and must still find the set done, as sent.
      const written = cache.set('k', 'new', 60);
      const entry = cache.getEntry('k');
      const rewritten = cache.set('gone', 'soon');
      const deleted = cache.delete('gone');
      expectOk(await written);
      expectOk(await rewritten);
      const read = expectOk(await entry);
      expect([read?.value, read?.ttl !== null && read?.ttl !== undefined && read.ttl > 59]).toEqual([
        'new',
        true,
      ]);
      expect(expectOk(await deleted)).toBe(true);
      expect(await plain.exists('ordered:gone')).toBe(0);
    } finally {
      await cache.close();
    }
  });

  it("a caller's client gets ioredis's own commands, which it resends after a reconnect", async () => {
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

  it('a command sent as the connection drops, in the same tick, fails at once, and the next ones are served', async () => {
    const { client, transport, close } = await ownTransport('dropped:');
    try {
      await plain.set('dropped:k', 'v');
      const read = transport.sendCommand('get', ['k'], 1);
      client.stream.destroy();
      await expect(read).rejects.toThrow('Connection is closed.');
      await new Promise((resolve) => client.once('ready', resolve));
      expect(await transport.sendCommand('get', ['k'], 1)).toBe('v');
    } finally {
      close();
    }
  });
});

describe("replies read ahead of ioredis's parser", () => {
  /** Whether the socket's data goes first to a ReplyReader (its listener is the reader's `read`). */
  const readerIsFirst = (client: OwnRedis) => client.stream.listeners('data')[0]?.name === 'read';

  it('large values, cut across socket reads, come back whole among small ones sent in the same tick', async () => {
    const { client, transport, close } = await ownTransport('large:');
    try {
      expect(readerIsFirst(client)).toBe(true);
      const big = `${'é'.repeat(700_000)}|${'x'.repeat(300_000)}`;
      const values = Array.from({ length: 30 }, (_, i) => `${i}:${'€'.repeat(20_000 + i)}`);
      await plain.set('large:big', big);
      await plain.mset(...values.flatMap((value, i) => [`large:${i}`, value]));
      await plain.set('large:small', 'tiny');
      const keys = values.map((_, i) => String(i));
      const answers = await Promise.all([
        transport.sendCommand('get', ['small'], 1),
        transport.sendCommand('get', ['big'], 1),
        transport.sendCommand('mget', [...keys, 'absent'], keys.length + 1),
        transport.sendCommand('get', ['small'], 1),
        transport.sendCommand('set', ['small', 'again'], 1),
        transport.sendCommand('get', ['absent'], 1),
      ]);
      expect(answers).toEqual(['tiny', big, [...values, null], 'tiny', 'OK', null]);
    } finally {
      close();
    }
  });

  it("an error reply, and another command's reply, between direct ones reach ioredis and only their callers", async () => {
    const { client, transport, close } = await ownTransport('mixed:');
    try {
      await plain.set('mixed:k', 'v');
      await plain.rpush('mixed:list', 'a');
      const answers = await Promise.allSettled([
        transport.sendCommand('get', ['k'], 1),
        transport.sendCommand('get', ['list'], 1),
        client.lrange('mixed:list', 0, -1),
        transport.sendCommand('mget', ['k', 'list'], 2),
        transport.sendCommand('get', ['k'], 1),
      ]);
      expect(answers.map((a) => (a.status === 'fulfilled' ? a.value : String(a.reason)))).toEqual([
        'v',
        expect.stringContaining('WRONGTYPE'),
        ['a'],
        ['v', null],
        'v',
      ]);
    } finally {
      close();
    }
  });

  it('is in place again on the connection made after one drops', async () => {
    const { client, transport, close } = await ownTransport('again:');
    try {
      await plain.set('again:k', 'v');
      client.stream.destroy();
      await new Promise((resolve) => client.once('ready', resolve));
      expect(readerIsFirst(client)).toBe(true);
      expect(await transport.sendCommand('mget', ['k', 'k'], 2)).toEqual(['v', 'v']);
    } finally {
      close();
    }
  });

  it('works behind the replies a connection starts with: a database chosen, a client name', async () => {
    // The backend's own options, on database 3: SELECT and CLIENT SETNAME are answered before any call's reply.
    const cache = createRedisBackend({
      redis: { host: server.host, port: server.port, db: 3, connectionName: 'tiercache-reader' },
      keyPrefix: 'db3:',
    });
    try {
      expectOk(await cache.set('k', 'três'));
      const many = cache.getMany(['k', 'absent', 'k2']);
      const one = cache.get('k');
      expect([...expectOk(await many).values()]).toEqual(['três', null, null]);
      expect(expectOk(await one)).toBe('três');
      const db3 = new Redis(`${server.url}/3`);
      try {
        expect(await db3.get('db3:k')).toBe('três');
      } finally {
        db3.disconnect();
      }
      expect(await plain.exists('db3:k')).toBe(0);
    } finally {
      await cache.close();
    }
  });
});
