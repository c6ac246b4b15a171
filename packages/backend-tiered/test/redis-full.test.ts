import { createMemoryBackend } from '@tiercache/backend-memory';
import { createRedisBackend } from '@tiercache/backend-redis';
import type { CacheBackend } from '@tiercache/core';
import { backendFixture } from '@tiercache/core/testing';
import { eventually, fillUntilRefused, type RedisServer, startRedisServer } from '@tiercache/redis-harness';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTieredBackend } from '../src/index.js';

/*
 * Tiered over a Redis at its maxmemory under `noeviction`: every L1 miss reads L2, and those reads must go on;
 * a write L2 refuses answers CAPACITY and is never read back from L1.
 */
let server: RedisServer;
const backends = backendFixture();
const KEY_PREFIX = 'full:';

beforeAll(async () => {
  server = await startRedisServer({ args: ['--maxmemory', '2mb', '--maxmemory-policy', 'noeviction'] });
  const writer = createRedisBackend({ url: server.url, keyPrefix: KEY_PREFIX });
  expect((await writer.set('kept', 'old')).isOk()).toBe(true);
  expect((await writer.set('json', '{"n":1}')).isOk()).toBe(true);
  expect(
    (
      await fillUntilRefused(server, async (key, value) => {
        const written = await writer.set(key, value);
        return written.isErr() ? written.error : undefined;
      })
    ).code,
  ).toBe('CAPACITY');
  await writer.close();
});
afterAll(() => server.stop());
afterEach(backends.closeAll);

/** A tiered cache with an empty L1 of its own, so that every first read is an L1 miss. */
function tiered(onL2Failure?: 'miss' | 'error') {
  const l1 = createMemoryBackend({ maxEntries: 100 });
  const l2 = createRedisBackend({ url: server.url, keyPrefix: KEY_PREFIX });
  const cache = backends.track(createTieredBackend({ l1, l2, ...(onL2Failure ? { onL2Failure } : {}) }));
  return { cache, l1 };
}

describe('tiered over a full Redis (maxmemory, noeviction)', () => {
  it.each(['error', 'miss'] as const)('L1 misses read L2 (onL2Failure: %s)', async (onL2Failure) => {
    for (const read of [
      async (cache: CacheBackend) => (await cache.get('kept')).unwrap(),
      async (cache: CacheBackend) => (await cache.getMany(['kept', 'missing'])).unwrap().get('kept'),
      async (cache: CacheBackend) => JSON.stringify((await cache.getJson('json')).unwrap()),
      async (cache: CacheBackend) => (await cache.getOrSet('kept', () => 'loaded')).unwrap(),
    ]) {
      const { cache } = tiered(onL2Failure);
      expect(await read(cache)).toBe(read.toString().includes('json') ? '{"n":1}' : 'old');
    }
  });

  it('a write answers CAPACITY, and the refused value is never read back', async () => {
    const { cache, l1 } = tiered();
    // L1 takes copies once L2's change feed is armed.
    await eventually('L1 to hold the value', async () => {
      expect((await cache.get('kept')).unwrap()).toBe('old');
      return (await l1.get('kept')).unwrap() === 'old';
    });
    const refused = await cache.set('kept', 'refused');
    expect(refused.isErr() && refused.error.code).toBe('CAPACITY');
    expect((await l1.get('kept')).unwrap()).not.toBe('refused');
    expect((await cache.get('kept')).unwrap()).toBe('old');
    const refusedMany = await cache.setMany({ kept: 'refused', other: 'refused' }, 60);
    expect(refusedMany.isErr() && refusedMany.error.code).toBe('CAPACITY');
    expect([...(await cache.getMany(['kept', 'other'])).unwrap()]).toEqual([
      ['kept', 'old'],
      ['other', null],
    ]);
  });
});
