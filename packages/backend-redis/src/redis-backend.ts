import { type CacheBackend, checkTtl, createCache } from '@tiercache/core';
import type { RedisChangeFeedOptions } from './change-feed-options.js';
import { createRedisDriver } from './redis-driver.js';
import { NAME } from './redis-errors.js';
import type { RedisBackendOptions } from './redis-options.js';

/**
 * Creates a Redis backend. Values are stored as the plain strings given (JSON text for `setJson`) with
 * native TTLs, so other programs and `redis-cli` read the same keys. Calls never hang: a hung server answers
 * `TIMEOUT` within `commandTimeout`, a lost connection answers `CONNECTION` at once, and the backend
 * reconnects by itself.
 *
 * It offers `getEntries` (values with their TTLs in one round trip) and `changes`, a feed of the changes
 * others make to its keys (see {@link RedisChangeFeedOptions}), for a tiered cache to keep its L1 coherent.
 */
export function createRedisBackend(options: RedisBackendOptions): CacheBackend {
  const { defaultTtl, getOrSet, ...driverOptions } = options;
  // The front checks it too, but only once the driver exists, and the driver connects: refuse it first.
  const ttlError = checkTtl(NAME, 'set', undefined, defaultTtl, 'defaultTtl');
  if (ttlError) throw new RangeError(ttlError.message);
  return createCache(createRedisDriver(driverOptions), { defaultTtl, getOrSet });
}
