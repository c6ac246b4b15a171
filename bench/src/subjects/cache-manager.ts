import { createCache } from 'cache-manager';
import type { AsyncReader } from '../measure.js';
import type { FillFactory, GetHitFactory } from './subject-contracts.js';

// cache-manager's default: one Keyv store over a Map, with no bound on entries and no serialization.

type Cache = ReturnType<typeof createCache>;

async function store(cache: Cache, keys: readonly string[], values: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i++) await cache.set(keys[i] as string, values[i] as string);
}

export const cacheManagerGetHit: GetHitFactory = async ({ keys, values }) => {
  const cache = createCache();
  await store(cache, keys, values);
  return {
    mode: 'async',
    read: (key) => cache.get<string>(key),
    isHit: (value) => typeof value === 'string',
    valueOf: (value) => value,
  } satisfies AsyncReader<string | undefined>;
};

export const cacheManagerFill: FillFactory = () => {
  const cache = createCache();
  return {
    fill: (keys, values) => store(cache, keys, values),
    read: (key) => cache.get<string>(key),
  };
};
