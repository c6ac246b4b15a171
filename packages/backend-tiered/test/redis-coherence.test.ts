import { execFile } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createMemoryBackend } from '@tiercache/backend-memory';
import { createRedisBackend } from '@tiercache/backend-redis';
import { type BackendEvent, type CacheBackend, driverOf, EVENT_CHANNEL } from '@tiercache/core';
import { backendFixture, listenToChanges } from '@tiercache/core/testing';
import { eventually, type RedisServer, startRedisServer } from '@tiercache/redis-harness';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTieredBackend } from '../src/index.js';

/*
 * Coherence against a real Redis: writes in another process, writes by plain clients, expiry in Redis, a lost
 * invalidation connection, and the read-through race, all reaching (or rightly not reaching) this L1.
 */

let server: RedisServer;
let plain: Redis;
let run = 0;
const backends = backendFixture({ flush: true });

beforeAll(async () => {
  server = await startRedisServer();
  plain = new Redis(server.url);
});
afterAll(async () => {
  plain.disconnect();
  await server.stop();
});
afterEach(backends.closeAll);

function tiered(
  options: { l2Options?: Partial<Parameters<typeof createRedisBackend>[0]>; l1Ttl?: number } = {},
) {
  const keyPrefix = `coherence:${++run}:`;
  const l2 = createRedisBackend({ url: server.url, keyPrefix, ...options.l2Options });
  const l1 = createTieredL1();
  const cache = backends.track(createTieredBackend({ l1, l2, l1Ttl: options.l1Ttl ?? 300 }));
  return { cache, l1, l2, keyPrefix };
}

/** The L1 is made here so the tests can look inside it. */
function createTieredL1() {
  return createMemoryBackend({ maxEntries: 1000 });
}

/** Reads until the value has been copied into L1 (the feed must be armed first). */
async function warm(cache: CacheBackend, l1: CacheBackend, key: string): Promise<void> {
  await eventually('the change to reach L1', async () => {
    await cache.get(key);
    return (await l1.exists(key)).unwrap();
  });
}

const writer = fileURLToPath(new URL('./fixtures/write-through-tiered.ts', import.meta.url));
const runProcess = promisify(execFile);

describe('tiered over Redis: coherence', () => {
  it('a write through tiercache in another process reaches this L1', async () => {
    const { cache, l1, keyPrefix } = tiered();
    await cache.set('price', '100');
    await warm(cache, l1, 'price');
    await runProcess(process.execPath, [
      '--import',
      'tsx',
      '--conditions=@tiercache/source',
      writer,
      server.url,
      keyPrefix,
      'price',
      '120',
    ]);
    await eventually('the change to reach L1', async () => (await cache.get('price')).unwrap() === '120');
  }, 30_000);

  it('writes by plain Redis clients (another language, redis-cli) reach this L1', async () => {
    const { cache, l1, keyPrefix } = tiered();
    await cache.set('k', 'v1');
    await warm(cache, l1, 'k');
    await plain.set(`${keyPrefix}k`, 'from-ioredis');
    await eventually(
      'the change to reach L1',
      async () => (await cache.get('k')).unwrap() === 'from-ioredis',
    );
    await server.cli('SET', `${keyPrefix}k`, 'from-redis-cli');
    await eventually(
      'the change to reach L1',
      async () => (await cache.get('k')).unwrap() === 'from-redis-cli',
    );
    await server.cli('DEL', `${keyPrefix}k`);
    await eventually('the change to reach L1', async () => (await cache.get('k')).unwrap() === null);
  });

  it('a key expiring in Redis leaves L1 too, even when L1 was told a longer life', async () => {
    const { cache, l1, l2, keyPrefix } = tiered();
    await eventually('the change to reach L1', async () => l2.changes?.armed === true);
    await cache.set('short-lived', 'v');
    // L1 holds its copy for l1Ttl (300 s); Redis is then told, by another client, to expire the key soon.
    expect((await l1.ttl('short-lived')).unwrap()).toBeGreaterThan(100);
    await plain.pexpire(`${keyPrefix}short-lived`, 300);
    await eventually(
      'the change to reach L1',
      async () => (await cache.get('short-lived')).unwrap() === null,
    );
  });

  it('a read-through that began before an invalidation does not put the old value into L1', async () => {
    const keyPrefix = `coherence:${++run}:`;
    const l2 = createRedisBackend({ url: server.url, keyPrefix });
    const l1 = createTieredL1();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let replied: () => void = () => {};
    const reply = new Promise<void>((resolve) => {
      replied = resolve;
    });
    const heard = listenToChanges(l2.changes);
    // The reply from Redis is held back, as a slow network would hold it, while the invalidation overtakes it.
    const l2Driver = driverOf(l2);
    if (!l2Driver) throw new Error('a Redis backend has a driver');
    const slowL2 = new Proxy(l2Driver, {
      get(target, property) {
        if (property === 'getEntries') {
          return async (keys: readonly string[]) => {
            const entries = await target.getEntries(keys);
            replied();
            await gate;
            return entries;
          };
        }
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const cache = createTieredBackend({ l1, l2: slowL2 });
    backends.track(cache);
    await plain.set(`${keyPrefix}k`, 'old');
    await eventually('the change to reach L1', async () => l2.changes?.armed === true);
    const pending = cache.get('k');
    await reply;
    await plain.set(`${keyPrefix}k`, 'new');
    await eventually('the change to reach L1', async () => heard.keys().length > 0);
    release();
    expect((await pending).unwrap()).toBe('old');
    expect((await l1.exists('k')).unwrap()).toBe(false);
    expect((await cache.get('k')).unwrap()).toBe('new');
  });

  it('when the invalidation connection is killed, L1 is emptied as the feed re-arms, then filled again', async () => {
    const { cache, l1, l2 } = tiered();
    await cache.set('k', 'v');
    await warm(cache, l1, 'k');
    const events: BackendEvent[] = [];
    const onEvent = (event: unknown) => events.push(event as BackendEvent);
    subscribe(EVENT_CHANNEL, onEvent);
    try {
      await server.cli('CLIENT', 'KILL', 'TYPE', 'pubsub');
      await eventually('the change to reach L1', async () => !(await l1.exists('k')).unwrap());
    } finally {
      unsubscribe(EVENT_CHANNEL, onEvent);
    }
    // Kept while the feed was lost (for reads Redis could not answer), emptied once it heard again.
    expect(events.map((event) => ('state' in event ? `${event.type} ${event.state}` : event.type))).toEqual([
      'feed lost',
      'feed armed',
      'l1-emptied',
    ]);
    await eventually('the change to reach L1', async () => l2.changes?.armed === true);
    await warm(cache, l1, 'k');
    await plain.set(`${(l2 as CacheBackend).keyPrefix}k`, 'after re-arm');
    await eventually(
      'the change to reach L1',
      async () => (await cache.get('k')).unwrap() === 'after re-arm',
    );
  });
});

describe('tiered over Redis: outages', () => {
  it('with Redis frozen, L1 hits go on; a miss answers within the L2 timeout; then the breaker answers at once', async () => {
    const own = await startRedisServer();
    const cache = createTieredBackend({
      l1: { maxEntries: 100 },
      l2: createRedisBackend({ url: own.url, commandTimeout: 100, keyPrefix: 'outage:' }),
      breaker: { failureThreshold: 3, resetAfterMs: 60_000 },
    });
    try {
      await cache.set('cached', 'v');
      await eventually('the change to reach L1', async () => {
        await cache.get('cached');
        return (await cache.stats()).unwrap().tiers?.l1?.totalKeys === 1;
      });
      own.pause();
      const timed = async (call: () => Promise<unknown>) => {
        const started = performance.now();
        await call();
        return performance.now() - started;
      };
      expect((await cache.get('cached')).unwrap()).toBe('v');
      for (let i = 0; i < 3; i++) {
        const elapsed = await timed(async () => {
          const miss = await cache.get(`miss-${i}`);
          expect(miss.isErr() && miss.error.code).toBe('TIMEOUT');
        });
        expect(elapsed).toBeLessThan(100 + 400);
      }
      const refused = await timed(async () => {
        const miss = await cache.get('miss-after');
        expect(miss.isErr() && miss.error.code).toBe('CONNECTION');
      });
      // Without the breaker it would wait the 100 ms timeout; the bench measures the real figure (< 1 ms).
      expect(refused).toBeLessThan(50);
      expect((await cache.get('cached')).unwrap()).toBe('v');
    } finally {
      own.resume();
      await cache.close();
      await own.stop();
    }
  });

  it('with Redis killed, misses answer CONNECTION at once, and all works again after a restart', async () => {
    const own = await startRedisServer();
    const cache = createTieredBackend({
      l1: { maxEntries: 100 },
      l2: createRedisBackend({
        url: own.url,
        commandTimeout: 100,
        reconnect: { minDelayMs: 10, maxDelayMs: 50 },
      }),
      breaker: { failureThreshold: 3, resetAfterMs: 100 },
    });
    try {
      await cache.set('k', 'v');
      await own.kill();
      const miss = await cache.get('absent');
      expect(miss.isErr() && miss.error.code).toBe('CONNECTION');
      await own.restart();
      await eventually('the change to reach L1', async () => (await cache.set('k', 'back')).isOk(), 5000);
      expect((await cache.get('k')).unwrap()).toBe('back');
    } finally {
      await cache.close();
      await own.stop();
    }
  });
});
