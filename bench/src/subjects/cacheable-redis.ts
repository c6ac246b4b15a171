import { createKeyvNonBlocking, createKeyv as createRedisKeyv } from '@keyv/redis';
import { Cacheable, createKeyv as createMemoryKeyv } from 'cacheable';
import type { Keyv } from 'keyv';
import type { RedisTarget } from '../bench-redis.js';
import type { AsyncReader, Operation } from '../measure.js';
import type {
  GetOrSetFactory,
  OutageClient,
  OutageFactory,
  RedisGetManyFactory,
  TieredGetHitFactory,
} from './subject-contracts.js';

/*
 * cacheable with Redis, through Keyv and @keyv/redis (node-redis underneath), as its README sets it up:
 * - two tiers: the tuned in-memory primary of memory-get-hit (`useClone: false, storeHashSize: 1`, its
 *   fastest) and `createKeyv(url)` from @keyv/redis as the secondary, blocking (the default). No sync between
 *   processes: CacheableSync needs a Qified message provider, which this setup does not have.
 * - the same, non-blocking, as its README recommends for Redis: `createKeyvNonBlocking(url)` (no offline queue,
 *   no reconnect) and `nonBlocking: true`, where a get answers from the primary and looks at Redis afterwards.
 * - Redis alone, as the primary, for the batch get of redis-getmany-100.
 * Keys live under the run's prefix as the Keyv namespace (`<prefix>::<key>`).
 */

function redisKeyv(target: RedisTarget, nonBlocking = false): Keyv {
  const make = nonBlocking ? createKeyvNonBlocking : createRedisKeyv;
  const keyv = make(target.url, { namespace: target.prefix });
  // Keyv reports a failed call as an 'error' event as well as in its answer.
  keyv.on('error', () => {});
  return keyv;
}

function createTiered(target: RedisTarget, nonBlocking = false): Cacheable {
  const cache = new Cacheable({
    primary: createMemoryKeyv({ useClone: false, storeHashSize: 1 }),
    secondary: redisKeyv(target, nonBlocking),
    nonBlocking,
  });
  cache.on('error', () => {});
  return cache;
}

function closer(cache: Cacheable): () => Promise<void> {
  return async () => {
    await cache.disconnect();
  };
}

export const cacheableTieredGetHit: TieredGetHitFactory = async ({ keys, values }, _capacity, target) => {
  const cache = createTiered(target);
  const chunk = 1_000;
  for (let start = 0; start < keys.length; start += chunk) {
    const items = [];
    for (let i = start; i < Math.min(keys.length, start + chunk); i++) {
      items.push({ key: keys[i] as string, value: values[i] as string });
    }
    if (!(await cache.setMany(items))) throw new Error('cacheable setMany failed');
  }
  const reader: AsyncReader<string | undefined> = {
    mode: 'async',
    read: (key) => cache.get<string>(key),
    isHit: (value) => typeof value === 'string',
    valueOf: (value) => value,
  };
  return { reader, close: closer(cache) };
};

function outageClient(cache: Cacheable): OutageClient {
  return {
    async works() {
      try {
        // Blocking on the write, so Redis has the key before the fault whatever the mode.
        await cache.set('ready', 'yes', { nonBlocking: false });
        return (await cache.get<string>('ready', { nonBlocking: false })) === 'yes';
      } catch {
        return false;
      }
    },
    async get(key) {
      try {
        const value = await cache.get<string>(key);
        return { answer: value === undefined ? 'miss' : 'value' };
      } catch (error) {
        return { answer: 'error', detail: (error as Error).message };
      }
    },
    close: closer(cache),
  };
}

export const cacheableTieredOutage: OutageFactory = async (target) => outageClient(createTiered(target));

export const cacheableNonBlockingOutage: OutageFactory = async (target) =>
  outageClient(createTiered(target, true));

export const cacheableGetOrSet: GetOrSetFactory = async (target) => {
  const cache = createTiered(target);
  return {
    getOrSet: (key, loader) => cache.getOrSet<string>(key, loader, { ttl: '1m' }),
    close: closer(cache),
  };
};

/** Redis as cacheable's only store, so `getMany` is one batch read from Redis (MGET in @keyv/redis). */
export const cacheableGetMany: RedisGetManyFactory = async (target, { keys, values }, batches) => {
  const cache = new Cacheable({ primary: redisKeyv(target) });
  cache.on('error', () => {});
  const items = keys.map((key, i) => ({ key, value: values[i] as string }));
  if (!(await cache.setMany(items))) throw new Error('cacheable setMany failed');
  const { length } = batches;
  const operation: Operation<Array<string | undefined>> = {
    call: (i) => cache.getMany<string>(batches[i % length] as string[]),
    isGood: (found) => found.every((value) => typeof value === 'string'),
    text: (found) => found.map((value) => value ?? '∅').join('\n'),
  };
  return { operation, close: closer(cache) };
};
