import { type CacheBackend, type CacheError, EVENT_CHANNEL } from '@tiercache/core';
import { backendFixture, publishedDuring } from '@tiercache/core/testing';
import { eventually, type RedisServer, startRedisServer } from '@tiercache/redis-harness';
import { Redis } from 'ioredis';
import type { Result } from 'ts-results-es';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedisBackend } from '../src/index.js';

/*
 * Faults on a real redis-server that each test starts for itself: frozen (SIGSTOP), killed (SIGKILL),
 * restarted, out of memory, read-only. Each test checks what the calls answer and how long they took: the
 * bounds are generous for a loaded machine, and far below the seconds other clients hang for.
 */

const TIMEOUT_MS = 100;
// Generous for a loaded 2-core machine, and still far below the seconds other clients hang for.
const MARGIN_MS = 400;

function codeOf(result: Result<unknown, CacheError>): string {
  return result.isErr() ? result.error.code : 'OK';
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await work();
  return [value, performance.now() - started];
}

let server: RedisServer;
const backends = backendFixture();

function backend(options: Partial<Parameters<typeof createRedisBackend>[0]> = {}): CacheBackend {
  return backends.track(
    createRedisBackend({
      url: server.url,
      commandTimeout: TIMEOUT_MS,
      reconnect: { minDelayMs: 10, maxDelayMs: 100 },
      ...options,
    }),
  );
}

beforeEach(async () => {
  server = await startRedisServer();
});

afterEach(async () => {
  await backends.closeAll();
  await server.stop();
});

describe('a hung server (SIGSTOP)', () => {
  it('turns every call into TIMEOUT within the command timeout, then recovers on SIGCONT', async () => {
    const cache = backend();
    expect(codeOf(await cache.set('k', 'v'))).toBe('OK');
    server.pause();
    const [results, elapsed] = await timed(() =>
      Promise.all([
        cache.get('k'),
        cache.set('k', 'x'),
        cache.getMany(['k', 'j']),
        cache.increment('n'),
        cache.ping(),
      ]),
    );
    expect(results.map(codeOf)).toEqual(['TIMEOUT', 'TIMEOUT', 'TIMEOUT', 'TIMEOUT', 'TIMEOUT']);
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
    const error = (await cache.get('k')) as Result<never, CacheError>;
    expect(error.isErr() && error.error.message).toBe(
      `[tiercache:redis] get "k": timed out after ${TIMEOUT_MS} ms`,
    );
    server.resume();
    // The set above timed out on our side but reached Redis once it woke: a timeout means "unknown outcome".
    await eventually('the server to answer again', async () => codeOf(await cache.get('k')) === 'OK');
    expect((await cache.get('k')).unwrap()).toMatch(/^[vx]$/);
  });

  it('times out each call at its own deadline: calls sent later do not fail with the earlier ones', async () => {
    const cache = backend();
    expect(codeOf(await cache.set('k', 'v'))).toBe('OK');
    server.pause();
    const timedGet = () => timed(() => cache.get('k'));
    const first = [timedGet(), timedGet()];
    await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS / 2));
    const second = [timedGet(), cache.set('k', 'x').then((result) => [result, 0] as const), timedGet()];
    const answers = await Promise.all([...first, ...second]);
    expect(answers.map(([result]) => codeOf(result))).toEqual(Array(5).fill('TIMEOUT'));
    for (const [, elapsed] of answers.filter(([, elapsed]) => elapsed > 0)) {
      // Never before its own deadline (a timer may be a millisecond early against performance.now()).
      expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 2);
      expect(elapsed).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
    }
    server.resume();
  });

  it('bounds calls on a client the caller made without a commandTimeout of its own', async () => {
    const client = new Redis(server.url);
    const cache = createRedisBackend({ client, closeClient: true, commandTimeout: TIMEOUT_MS });
    backends.track(cache);
    expect(codeOf(await cache.set('k', 'v'))).toBe('OK');
    server.pause();
    const [result, elapsed] = await timed(() => cache.get('k'));
    expect(codeOf(result)).toBe('TIMEOUT');
    expect(elapsed).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
    server.resume();
  });
});

describe('a dead server (SIGKILL)', () => {
  it('answers CONNECTION at once instead of queueing, and works again after a restart', async () => {
    const cache = backend();
    expect(codeOf(await cache.set('k', 'v'))).toBe('OK');
    await server.kill();
    // The first call may race the socket's close; it still ends within the timeout.
    const [first, firstElapsed] = await timed(() => cache.get('k'));
    expect(codeOf(first)).toBe('CONNECTION');
    expect(firstElapsed).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
    for (let i = 0; i < 20; i++) {
      const [result, elapsed] = await timed(() => cache.get('k'));
      expect(codeOf(result)).toBe('CONNECTION');
      // Far below the 100 ms timeout: the call did not wait for the server, it failed at once.
      expect(elapsed).toBeLessThan(TIMEOUT_MS / 2);
    }
    await server.restart();
    await eventually('the server to answer again', async () => codeOf(await cache.set('k', 'back')) === 'OK');
    expect((await cache.get('k')).unwrap()).toBe('back');
  });

  it('a server that never answers gives CONNECTION within the timeout, not a hang', async () => {
    await server.kill();
    const cache = backend();
    const [result, elapsed] = await timed(() => cache.get('k'));
    expect(codeOf(result)).toBe('CONNECTION');
    expect(elapsed).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
  });

  it('leaks no listeners and raises no errors over many reconnects', async () => {
    const client = new Redis(server.url, { commandTimeout: TIMEOUT_MS, retryStrategy: () => 10 });
    const cache = createRedisBackend({ client, closeClient: true });
    backends.track(cache);
    expect(codeOf(await cache.ping())).toBe('OK');
    const listeners = () => client.eventNames().map((name) => client.listenerCount(name));
    const before = listeners();
    for (let round = 0; round < 5; round++) {
      await server.kill();
      expect(codeOf(await cache.get('k'))).not.toBe('OK');
      await server.restart();
      await eventually('the server to answer again', async () => codeOf(await cache.ping()) === 'OK');
    }
    expect(listeners()).toEqual(before);
  });
});

describe('a server that refuses writes', () => {
  it('out of memory with noeviction: writes answer CAPACITY, reads go on', async () => {
    const cache = backend();
    expect(codeOf(await cache.set('kept', 'v'))).toBe('OK');
    await server.cli('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    await server.cli('CONFIG', 'SET', 'maxmemory', '1');
    const write = await cache.set('new', 'x'.repeat(1000));
    expect(codeOf(write)).toBe('CAPACITY');
    expect(write.isErr() && write.error.message).toContain('out of memory');
    expect(codeOf(await cache.setMany({ a: '1' }, 10))).toBe('CAPACITY');
    expect((await cache.get('kept')).unwrap()).toBe('v');
    expect((await cache.exists('new')).unwrap()).toBe(false);
  });

  it('a read-only replica: writes answer Err, reads go on', async () => {
    const master = server;
    const replica = await startRedisServer({ args: ['--replicaof', master.host, String(master.port)] });
    try {
      await master.cli('SET', 'shared', 'from-master');
      await eventually(
        'the server to answer again',
        async () => (await replica.cli('GET', 'shared')) === 'from-master',
      );
      const cache = createRedisBackend({ url: replica.url, commandTimeout: TIMEOUT_MS });
      backends.track(cache);
      const write = await cache.set('k', 'v');
      expect(codeOf(write)).toBe('BACKEND');
      expect(write.isErr() && write.error.message).toContain('READONLY');
      expect((await cache.get('shared')).unwrap()).toBe('from-master');
      expect((await cache.exists('k')).unwrap()).toBe(false); // the refused write left nothing behind
    } finally {
      await replica.stop();
    }
  });
});

describe('client ownership', () => {
  it("closeClient: false leaves the caller's client open; true quits it", async () => {
    const kept = new Redis(server.url);
    const keptCache = createRedisBackend({ client: kept, closeClient: false });
    expect(codeOf(await keptCache.ping())).toBe('OK');
    await keptCache.close();
    expect(await kept.ping()).toBe('PONG');
    kept.disconnect();

    const owned = new Redis(server.url);
    const ownedCache = createRedisBackend({ client: owned, closeClient: true });
    expect(codeOf(await ownedCache.ping())).toBe('OK');
    await ownedCache.close();
    expect(owned.status).toBe('end');
  });

  it('refuses ambiguous options at construction, saying how to fix them', () => {
    expect(() => createRedisBackend({})).toThrow(/exactly one of url, redis, cluster or client \(got none\)/);
    expect(() => createRedisBackend({ url: server.url, redis: {} })).toThrow(/got url, redis/);
    const client = new Redis(server.url, { lazyConnect: true });
    expect(() => createRedisBackend({ client })).toThrow(/closeClient: true lets close\(\) quit it/);
    // A client of another library (node-redis, say) is refused here, not at its first call.
    const notIoredis = { get: async () => null } as unknown as Redis;
    expect(() => createRedisBackend({ client: notIoredis, closeClient: true })).toThrow(
      /client must be an ioredis Redis or Cluster/,
    );
    expect(() => createRedisBackend({ url: 'http://x' })).toThrow(/redis:\/\/ or rediss:\/\//);
    expect(() => createRedisBackend({ url: server.url, commandTimeout: 0 })).toThrow(/commandTimeout/);
    client.disconnect();
  });
});

describe('getOrSet when Redis fails', () => {
  it('answers the loaded value when Redis is killed, counts it as not stored and says so on the seam', async () => {
    const cache = backend();
    await server.kill();
    let calls = 0;
    const events = await publishedDuring(async () => {
      const [result, elapsed] = await timed(() => cache.getOrSet('k', () => `loaded ${++calls}`));
      expect(result.unwrap()).toBe('loaded 1');
      expect(elapsed).toBeLessThan(TIMEOUT_MS * 2 + MARGIN_MS);
    }, EVENT_CHANNEL);
    expect(events).toContainEqual(expect.objectContaining({ type: 'not-stored', key: 'k' }));
    await server.restart();
    await eventually('the backend reconnects', async () => (await cache.ping()).isOk());
    expect((await cache.stats()).unwrap().loadsNotStored).toBe(1);
  });

  it('answers the loaded value when Redis hangs, within the command timeouts of the read and the write', async () => {
    const cache = backend();
    server.pause();
    const [result, elapsed] = await timed(() => cache.getOrSet('k', () => 'loaded'));
    server.resume();
    expect(result.unwrap()).toBe('loaded');
    expect(elapsed).toBeLessThan(TIMEOUT_MS * 2 + MARGIN_MS);
  });
});
