import { createRedisBackend } from '@tiercache/backend-redis';
import { createTieredBackend } from '@tiercache/backend-tiered';
import type { CacheBackend } from '@tiercache/core';
import { createKeyvStore } from '@tiercache/keyv';
import { type Cache, createCache } from 'cache-manager';
import Keyv from 'keyv';

/** What each process of the example builds: cache-manager, over Keyv, over a tiered tiercache. */
export interface AppCache {
  /** cache-manager's API: `wrap`, `get`, `set`, `del`… */
  cache: Cache;
  /** The tiered cache under it, for its per-tier statistics. */
  backend: CacheBackend;
}

export function createAppCache(redisUrl: string, keyPrefix: string): AppCache {
  // L1 keeps a value for up to 5 minutes; what makes it change sooner is Redis telling every process.
  const backend = createTieredBackend({ l2: createRedisBackend({ url: redisUrl, keyPrefix }), l1Ttl: 300 });
  // closeBackend: cache.disconnect() closes the tiered cache (and its Redis connections) too.
  const keyv = new Keyv({ store: createKeyvStore(backend, { closeBackend: true }), namespace: 'shop' });
  return { cache: createCache({ stores: [keyv] }), backend };
}
