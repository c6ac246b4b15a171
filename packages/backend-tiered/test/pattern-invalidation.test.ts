import { createManualClock, createMemoryBackend, createMemoryDriver } from '@tiercache/backend-memory';
import { createRedisBackend } from '@tiercache/backend-redis';
import type { CacheBackend, CacheDriver, LocalDriver } from '@tiercache/core';
import { backendFixture, expectOk } from '@tiercache/core/testing';
import { eventually, type RedisServer, startRedisServer } from '@tiercache/redis-harness';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTieredBackend } from '../src/index.js';
import { handFedFeed } from './fixtures/hand-fed-feed.js';

/*
 * deletePattern through a tiered cache must leave nothing in L1 that L2 deleted, even where L2 matches the
 * pattern differently from this process's matcher: a Redis built for ARM compares unsigned chars in ranges, where
 * x86-64 (and compileKeyPattern) compare signed ones; a Redis older than its nesting limit matches patterns with
 * more than 1,000 stars that a newer one gives up on. Here L2 is a memory driver made to delete what such a Redis
 * would, and the cache must not serve those keys from L1 afterwards.
 */

const ARM_DELETES: Record<string, string[]> = {
  // On ARM `k[é-z]` is the literal C3 and the range A9-z read as 0x7A..0xA9: `kz` and `k{`, not `ka`.
  'k[é-z]': ['kz', 'k{'],
  // A Redis without the nesting limit matches this pattern like any other.
  ['*a'.repeat(1001)]: ['a'.repeat(1001)],
};

function setup() {
  const clock = createManualClock();
  const l1: LocalDriver = createMemoryDriver({ clock });
  const store = createMemoryDriver({ clock, keyPrefix: 'app:' });
  const { feed, emit } = handFedFeed();
  /** Deletes in L2 what a Redis on ARM, or one without the nesting limit, would delete. */
  const deleteAsOtherRedis = (pattern: string) => {
    let deleted = 0;
    for (const key of ARM_DELETES[pattern] ?? []) if (store.delete(key)) deleted++;
    return deleted;
  };
  const l2 = new Proxy(store as CacheDriver, {
    get(object, property) {
      if (property === 'deletePattern') return async (pattern: string) => deleteAsOtherRedis(pattern);
      if (property === 'changes') return feed;
      const value = Reflect.get(object, property, object);
      return typeof value === 'function' ? value.bind(object) : value;
    },
  });
  const cache = createTieredBackend({ l1, l2, clock });
  return { l1, store, cache, emit, deleteAsOtherRedis };
}

/** Each pattern, with a name short enough for a test title. */
const LABELLED = Object.keys(ARM_DELETES).map((p) => [
  p.length > 20 ? `${p.slice(0, 20)}… (${p.length} chars)` : p,
  p,
]);

const KEYS = ['ka', 'kz', 'k{', 'other', 'a'.repeat(1001)];

describe('deletePattern drops from L1 at least what L2 deleted', () => {
  it.each(LABELLED)('when this process deletes %s', async (_, pattern) => {
    const { l1, store, cache } = setup();
    for (const key of KEYS) expectOk(await cache.set(key, `v:${key}`));
    for (const key of KEYS) expect(l1.get(key)).toBe(`v:${key}`);

    expectOk(await cache.deletePattern(pattern));

    for (const key of KEYS) {
      // Whatever L1 still holds, L2 holds too; and every read answers what L2 holds.
      if (l1.get(key) !== null) expect(store.get(key)).toBe(l1.get(key));
      expect(expectOk(await cache.get(key))).toBe(store.get(key));
    }
    for (const key of ARM_DELETES[pattern] ?? []) expect(expectOk(await cache.get(key))).toBeNull();
  });

  it.each(LABELLED)('when another process deletes %s', async (_, pattern) => {
    const { l1, store, cache, emit, deleteAsOtherRedis } = setup();
    for (const key of KEYS) expectOk(await cache.set(key, `v:${key}`));

    deleteAsOtherRedis(pattern);
    emit({ type: 'pattern', pattern });

    for (const key of KEYS) {
      if (l1.get(key) !== null) expect(store.get(key)).toBe(l1.get(key));
      expect(expectOk(await cache.get(key))).toBe(store.get(key));
    }
  });

  it('keeps the rest of L1 for a pattern every Redis matches alike', async () => {
    const { l1, cache, emit } = setup();
    for (const key of ['user:1', 'user:2', 'other']) expectOk(await cache.set(key, 'v'));

    expectOk(await cache.deletePattern('user:*'));
    expect(l1.get('other')).toBe('v');

    expectOk(await cache.set('user:3', 'v'));
    emit({ type: 'pattern', pattern: 'user:*' });
    expect(l1.get('user:3')).toBeNull();
    expect(l1.get('other')).toBe('v');
  });
});

describe('deletePattern through a tiered cache over a real Redis', () => {
  let server: RedisServer;
  let plain: Redis;
  const backends = backendFixture({ flush: true });
  let run = 0;
  beforeAll(async () => {
    server = await startRedisServer();
    plain = new Redis(server.url);
  });
  afterAll(async () => {
    plain?.disconnect();
    await server?.stop();
  });
  afterEach(backends.closeAll);

  /** A process: a tiered cache over the prefix, and its L1, made here so the test can look inside it. */
  const tiered = (keyPrefix: string) => {
    const l1 = createMemoryBackend({ maxEntries: 1000 });
    const l2 = createRedisBackend({ url: server.url, keyPrefix });
    return { l1, cache: backends.track(createTieredBackend({ l1, l2, l1Ttl: 300 })) };
  };

  /** Reads every key until L1 holds it (the feed must be armed first). */
  const warm = (cache: CacheBackend, l1: CacheBackend, keys: string[]) =>
    eventually('every key to reach L1', async () => {
      for (const key of keys) {
        await cache.get(key);
        if (!expectOk(await l1.exists(key))) return false;
      }
      return true;
    });

  const keys = ['ka', 'k-', 'k]', 'kz', 'k{', 'k~', 'k©', 'other', 'a'.repeat(1001)];
  const patterns = ['k[é-z]', 'k[z-é]', 'k[a-é]?', 'k[^é-z]', '*a'.repeat(1000), '*a'.repeat(1001), 'k*'];

  it.each(patterns.map((p) => [p.length > 20 ? `${p.slice(0, 20)}… (${p.length} chars)` : p, p]))(
    'leaves in no L1 a key Redis deleted, for %s',
    async (_, pattern) => {
      const keyPrefix = `pattern:${++run}:`;
      const here = tiered(keyPrefix);
      const elsewhere = tiered(keyPrefix);
      for (const key of keys) expectOk(await here.cache.set(key, 'v'));
      await warm(here.cache, here.l1, keys);
      await warm(elsewhere.cache, elsewhere.l1, keys);

      expectOk(await here.cache.deletePattern(pattern));

      const inRedis = (key: string) => plain.get(`${keyPrefix}${key}`);
      for (const key of keys) expect(expectOk(await here.cache.get(key)), key).toBe(await inRedis(key));
      await eventually('the other process to drop what Redis deleted', async () => {
        for (const key of keys)
          if (expectOk(await elsewhere.cache.get(key)) !== (await inRedis(key))) return false;
        return true;
      });
    },
  );
});
