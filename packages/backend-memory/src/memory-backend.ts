import { type CacheBackend, createCache } from '@tiercache/core';
import { createMemoryDriver, type MemoryDriverOptions } from './memory-driver.js';

export interface MemoryBackendOptions extends MemoryDriverOptions {
  /** Seconds a key lives when `set` is called without a TTL. @default no expiry */
  defaultTtl?: number;
}

/**
 * Creates an in-memory backend with the semantics of Redis.
 *
 * @example
 * const cache = createMemoryBackend({ maxEntries: 50_000, keyPrefix: 'app:' });
 * await cache.set('greeting', 'hello', 60);
 */
export function createMemoryBackend(options: MemoryBackendOptions = {}): CacheBackend {
  const { defaultTtl, ...driverOptions } = options;
  return createCache(createMemoryDriver(driverOptions), defaultTtl === undefined ? {} : { defaultTtl });
}
