import { type CacheBackend, createCache, type GetOrSetDefaults } from '@tiercache/core';
import { createMemoryDriver, type MemoryDriverOptions } from './memory-driver.js';

export interface MemoryBackendOptions extends MemoryDriverOptions {
  /** Seconds a key lives when `set` is called without a TTL. @default no expiry */
  defaultTtl?: number;
  /** getOrSet's options for every call that gives none (see `GetOrSetOptions`). @default none */
  getOrSet?: GetOrSetDefaults;
}

/**
 * Creates an in-memory backend with the semantics of Redis.
 *
 * @example
 * const cache = createMemoryBackend({ maxEntries: 50_000, keyPrefix: 'app:' });
 * await cache.set('greeting', 'hello', 60);
 */
export function createMemoryBackend(options: MemoryBackendOptions = {}): CacheBackend {
  const { defaultTtl, getOrSet, ...driverOptions } = options;
  // getOrSet's back-offs and grace ages run on the store's clock, as its TTLs do.
  const clock = options.store?.clock ?? options.clock;
  return createCache(createMemoryDriver(driverOptions), { defaultTtl, getOrSet, clock });
}
