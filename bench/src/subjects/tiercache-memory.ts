import { createMemoryBackend } from '@tiercache/backend-memory';
import type { CacheBackend } from '@tiercache/core';
import { getOrSetReader } from '../getorset-against-get.js';
import type { AsyncReader } from '../measure.js';
import type { FillFactory, GetHitFactory } from './subject-contracts.js';

async function store(
  backend: CacheBackend,
  keys: readonly string[],
  values: readonly string[],
): Promise<void> {
  for (let i = 0; i < keys.length; i++) {
    const written = await backend.set(keys[i] as string, values[i] as string);
    if (written.isErr()) throw written.error;
  }
}

/** `await backend.get(k)` and one `.isOk()` on what comes back, as a caller would write it. */
export const tiercacheMemoryGetHit: GetHitFactory = async ({ keys, values }, capacity) => {
  const backend = createMemoryBackend({ maxEntries: capacity });
  await store(backend, keys, values);
  return {
    mode: 'async',
    read: (key) => backend.get(key),
    isHit: (result) => result.isOk(),
    valueOf: (result) => (result.isOk() ? (result.value ?? undefined) : undefined),
  } satisfies AsyncReader<Awaited<ReturnType<CacheBackend['get']>>>;
};

/**
 * `await backend.getOrSet(k, loader, { ttl: 60 })` on keys that are all there: the hit path of getOrSet, which
 * also measures itself against the same backend's get, in pairs (see getorset-against-get.ts).
 */
export const tiercacheMemoryGetOrSetHit: GetHitFactory = async ({ keys, values }, capacity) => {
  const backend = createMemoryBackend({ maxEntries: capacity });
  await store(backend, keys, values);
  return getOrSetReader(backend);
};

export const tiercacheMemoryFill: FillFactory = (capacity) => {
  const backend = createMemoryBackend({ maxEntries: capacity });
  return {
    fill: (keys, values) => store(backend, keys, values),
    read: async (key) => {
      const result = await backend.get(key);
      return result.isOk() ? (result.value ?? undefined) : undefined;
    },
  };
};
