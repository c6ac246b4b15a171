import { createKeyv as createRedisKeyv } from '@keyv/redis';
import { createCache } from 'cache-manager';
import { Keyv } from 'keyv';
import type { RedisTarget } from '../bench-redis.js';
import type { AsyncReader, Operation } from '../measure.js';
import type {
  GetOrSetFactory,
  OutageFactory,
  RedisGetManyFactory,
  TieredGetHitFactory,
} from './subject-contracts.js';

/*
 * cache-manager with Redis, as its README sets up several tiers: a list of Keyv stores, read in order until
 * one has the key, written all at once. Here: its default in-memory store (Keyv over a Map, no serialization,
 * as `createCache()` makes it) and `createKeyv(url)` from @keyv/redis (node-redis underneath). cache-manager has
 * no way of keeping the memory stores of several processes coherent. Keys live under the run's prefix as the
 * Keyv namespace (`<prefix>::<key>`).
 */

function memoryKeyv(): Keyv {
  // What createCache() uses when given no store.
  const keyv = new Keyv();
  keyv.serialize = undefined;
  keyv.deserialize = undefined;
  return keyv;
}

function redisKeyv(target: RedisTarget): Keyv {
  const keyv = createRedisKeyv(target.url, { namespace: target.prefix });
  keyv.on('error', () => {});
  return keyv;
}

type Cache = ReturnType<typeof createCache>;

function createTiered(target: RedisTarget): Cache {
  return createCache({ stores: [memoryKeyv(), redisKeyv(target)] });
}

function closer(cache: Cache): () => Promise<void> {
  return async () => {
    await cache.disconnect();
  };
}

export const cacheManagerTieredGetHit: TieredGetHitFactory = async ({ keys, values }, _capacity, target) => {
  const cache = createTiered(target);
  const chunk = 1_000;
  for (let start = 0; start < keys.length; start += chunk) {
    const list = [];
    for (let i = start; i < Math.min(keys.length, start + chunk); i++) {
      list.push({ key: keys[i] as string, value: values[i] as string });
    }
    await cache.mset(list);
  }
  const reader: AsyncReader<string | undefined> = {
    mode: 'async',
    read: (key) => cache.get<string>(key),
    isHit: (value) => typeof value === 'string',
    valueOf: (value) => value,
  };
  return { reader, close: closer(cache) };
};

export const cacheManagerTieredOutage: OutageFactory = async (target) => {
  const cache = createTiered(target);
  return {
    async works() {
      try {
        await cache.set('ready', 'yes');
        return (await cache.get<string>('ready')) === 'yes';
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
};

export const cacheManagerWrap: GetOrSetFactory = async (target) => {
  const cache = createTiered(target);
  return {
    async getOrSet(key, loader) {
      try {
        return await cache.wrap(key, loader, 60_000);
      } catch {
        return undefined;
      }
    },
    close: closer(cache),
  };
};

/** Redis as cache-manager's only store, so `mget` is one batch read from Redis (MGET in @keyv/redis). */
export const cacheManagerGetMany: RedisGetManyFactory = async (target, { keys, values }, batches) => {
  const cache = createCache({ stores: [redisKeyv(target)] });
  await cache.mset(keys.map((key, i) => ({ key, value: values[i] as string })));
  const { length } = batches;
  const operation: Operation<Array<string | undefined>> = {
    call: (i) => cache.mget<string>(batches[i % length] as string[]),
    isGood: (found) => found.every((value) => typeof value === 'string'),
    text: (found) => found.map((value) => value ?? '∅').join('\n'),
  };
  return { operation, close: closer(cache) };
};
