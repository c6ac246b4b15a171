import { LRUCache } from 'lru-cache';
import type { Entries } from '../generate-entries.js';
import type { FillFactory, GetHitFactory } from './subject-contracts.js';

// The raw library that @tiercache/backend-memory is built on: the reference every tiercache figure is read against.

function filled({ keys, values }: Entries, capacity: number): LRUCache<string, string> {
  const lru = new LRUCache<string, string>({ max: capacity });
  for (let i = 0; i < keys.length; i++) lru.set(keys[i] as string, values[i] as string);
  return lru;
}

const isString = (value: string | undefined): boolean => typeof value === 'string';
const same = (value: string | undefined): string | undefined => value;

/** `lru.get(k)` with no await: faster than any async API can be, shown for scale. */
export const lruCacheSync: GetHitFactory = async (entries, capacity) => {
  const lru = filled(entries, capacity);
  return { mode: 'sync', read: (key) => lru.get(key), isHit: isString, valueOf: same };
};

/** `await Promise.resolve(lru.get(k))`: the least an async get on top of lru-cache can cost. */
export const lruCacheAwait: GetHitFactory = async (entries, capacity) => {
  const lru = filled(entries, capacity);
  return { mode: 'async', read: (key) => Promise.resolve(lru.get(key)), isHit: isString, valueOf: same };
};

export const lruCacheFill: FillFactory = (capacity) => {
  const lru = new LRUCache<string, string>({ max: capacity });
  return {
    async fill(keys, values) {
      for (let i = 0; i < keys.length; i++) lru.set(keys[i] as string, values[i] as string);
    },
    read: async (key) => lru.get(key),
  };
};
