import { createMemoryBackend } from '@tiercache/backend-memory';
import type { CacheBackend } from '@tiercache/core';
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

/** getOrSet's options as an application passes them on each call; read (and checked) on every hit. */
const OPTIONS = { ttl: 60 };
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

/** `await backend.getOrSet(k, loader)` on keys that are all there: the hit path of getOrSet. */
export const tiercacheMemoryGetOrSetHit: GetHitFactory = async ({ keys, values }, capacity) => {
  const backend = createMemoryBackend({ maxEntries: capacity });
  await store(backend, keys, values);
  const loader = () => {
    throw new Error('getOrSet-hit: a key missed');
  };
  return {
    mode: 'async',
    read: (key) => backend.getOrSet(key, loader, OPTIONS),
    isHit: (result) => result.isOk(),
    valueOf: (result) => (result.isOk() ? result.value : undefined),
  } satisfies AsyncReader<Awaited<ReturnType<CacheBackend['getOrSet']>>>;
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
