import { createMemoryBackend } from '@tiercache/backend-memory';
import { createRedisBackend } from '@tiercache/backend-redis';
import { createTieredBackend } from '@tiercache/backend-tiered';
import type { CacheBackend } from '@tiercache/core';

/**
 * Builds the cache a program was configured with. Libraries that accept a `CacheBackend` let their users
 * choose; programs usually choose once, at startup, from one setting:
 *
 * - `memory://` (or nothing at all): the in-memory backend. Options: `maxEntries`, `maxBytes`.
 * - `redis://host:port/db` (or `rediss://`): the Redis backend. Options: `commandTimeout` (ms).
 * - `tiered+redis://host:port/db`: an in-process L1 in front of that Redis. Options: `l1MaxEntries`, `l1Ttl`.
 *
 * Every scheme also takes `prefix` (the key prefix) and `defaultTtl` (seconds) as query options, e.g.
 * `redis://localhost:6379/0?prefix=app:&commandTimeout=200`.
 */
export function cacheFromUrl(url: string | undefined): CacheBackend {
  const parsed = new URL(url && url.length > 0 ? url : 'memory://');
  const options = parsed.searchParams;
  const keyPrefix = options.get('prefix') ?? '';
  const defaultTtl = numberOption(options, 'defaultTtl');
  switch (parsed.protocol) {
    case 'memory:':
      return createMemoryBackend({
        keyPrefix,
        ...defaultTtl,
        ...numberOption(options, 'maxEntries'),
        ...numberOption(options, 'maxBytes'),
      });
    case 'redis:':
    case 'rediss:':
      return createRedisBackend({
        url: serverUrl(parsed),
        keyPrefix,
        ...defaultTtl,
        ...numberOption(options, 'commandTimeout'),
      });
    case 'tiered+redis:':
    case 'tiered+rediss:': {
      const l1MaxEntries = numberOption(options, 'l1MaxEntries').l1MaxEntries;
      return createTieredBackend({
        l1: { maxEntries: l1MaxEntries ?? 10_000 },
        l2: createRedisBackend({
          url: serverUrl(parsed, 'tiered+'),
          keyPrefix,
          ...numberOption(options, 'commandTimeout'),
        }),
        ...defaultTtl,
        ...numberOption(options, 'l1Ttl'),
      });
    }
    default:
      throw new Error(
        `Unsupported cache URL scheme "${parsed.protocol}" in ${url}; use memory://, redis://, rediss:// or tiered+redis://`,
      );
  }
}

/** The URL ioredis connects to: the same, without the scheme's `tiered+` and without our query options. */
function serverUrl(parsed: URL, schemePrefix = ''): string {
  const server = new URL(parsed.href.slice(schemePrefix.length));
  server.search = '';
  return server.href;
}

function numberOption<Name extends string>(
  options: URLSearchParams,
  name: Name,
): Partial<Record<Name, number>> {
  const text = options.get(name);
  if (text === null) return {};
  const value = Number(text);
  if (!Number.isFinite(value)) throw new Error(`Cache URL option ${name} must be a number, got "${text}"`);
  return { [name]: value } as Partial<Record<Name, number>>;
}
