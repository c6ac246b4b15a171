import { createMemoryDriver } from '@tiercache/backend-memory';
import { createTieredBackend } from '@tiercache/backend-tiered';
import type { CacheBackend, LocalDriver } from '@tiercache/core';
import type { RedisTarget } from '../bench-redis.js';
import type { Entries } from '../generate-entries.js';
import { getOrSetReader } from '../getorset-against-get.js';
import type { AsyncReader, Reader } from '../measure.js';
import type {
  CoherenceReaderFactory,
  CoherenceWriterFactory,
  GetOrSetFactory,
  OutageFactory,
  TieredGetHitFactory,
} from './subject-contracts.js';
import { createBackend, tiercacheGetOrSet, tiercacheOutageClient } from './tiercache-redis.js';

/*
 * @tiercache/backend-tiered as a caller makes it: `createTieredBackend({ l1: { maxEntries }, l2:
 * createRedisBackend({ url, keyPrefix }) })`, every other option at its default (coherence through L2's change
 * feed when L2 has one, the circuit breaker opening after 5 failures).
 */

const L1_ENTRIES = 20_000;

interface Tiered {
  tiered: CacheBackend;
  l2: CacheBackend;
}

function createTiered(target: RedisTarget, l1: LocalDriver | { maxEntries: number }): Tiered {
  const l2 = createBackend(target);
  return { tiered: createTieredBackend({ l1, l2 }), l2 };
}

/**
 * Resolves true once L2's change feed hears changes, false if L2 has no feed or it does not arm within
 * `timeoutMs`. Until it arms, the tiered backend keeps nothing in L1: it cannot yet hear what would make a copy
 * stale.
 */
export async function feedArmed(l2: CacheBackend, timeoutMs: number): Promise<boolean> {
  const feed = l2.changes;
  if (!feed) return false;
  const deadline = Date.now() + timeoutMs;
  while (!feed.armed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  return feed.armed;
}

type GetResult = Awaited<ReturnType<CacheBackend['get']>>;

export const tiercacheTieredGetHit: TieredGetHitFactory = (entries, capacity, target) =>
  tieredHits(
    entries,
    capacity,
    target,
    (tiered): AsyncReader<GetResult> => ({
      mode: 'async',
      read: (key) => tiered.get(key),
      isHit: (result) => result.isOk() && result.value !== null,
      valueOf: (result) => (result.isOk() ? (result.value ?? undefined) : undefined),
    }),
  );

/**
 * `await tiered.getOrSet(k, loader, { ttl: 60 })` on keys that are all in L1: the hit path of getOrSet, which
 * also measures itself against the same cache's get, in pairs (see getorset-against-get.ts).
 */
export const tiercacheTieredGetOrSetHit: TieredGetHitFactory = (entries, capacity, target) =>
  tieredHits(entries, capacity, target, getOrSetReader);

async function tieredHits(
  { keys, values }: Entries,
  capacity: number,
  target: RedisTarget,
  readerOf: (tiered: CacheBackend) => Reader,
) {
  const { tiered, l2 } = createTiered(target, { maxEntries: capacity });
  await feedArmed(l2, 5_000);
  // Written through the tiered backend: each value lands in L2 and then in L1.
  const chunk = 1_000;
  for (let start = 0; start < keys.length; start += chunk) {
    const batch = new Map<string, string>();
    for (let i = start; i < Math.min(keys.length, start + chunk); i++) {
      batch.set(keys[i] as string, values[i] as string);
    }
    const written = await tiered.setMany(batch);
    if (written.isErr()) throw written.error;
  }
  return {
    reader: readerOf(tiered),
    close: async () => {
      await tiered.close();
    },
  };
}

export const tiercacheTieredOutage: OutageFactory = async (target) =>
  tiercacheOutageClient(createTiered(target, { maxEntries: L1_ENTRIES }).tiered);

export const tiercacheTieredCoherenceReader: CoherenceReaderFactory = async (target) => {
  // An L1 driver of our own making, so the scenario can see what it holds without going through the tiered backend.
  const l1 = createMemoryDriver({ maxEntries: L1_ENTRIES });
  const { tiered, l2 } = createTiered(target, l1);
  return {
    async read(key) {
      const result = await tiered.get(key);
      return result.isOk() ? (result.value ?? undefined) : undefined;
    },
    holds: (key, value) => l1.get(key) === value,
    listening: (timeoutMs) => feedArmed(l2, timeoutMs),
    close: async () => {
      await tiered.close();
    },
  };
};

export const tiercacheTieredCoherenceWriter: CoherenceWriterFactory = async (target) => {
  const { tiered, l2 } = createTiered(target, { maxEntries: L1_ENTRIES });
  await feedArmed(l2, 5_000);
  return {
    async write(key, value) {
      const written = await tiered.set(key, value);
      if (written.isErr()) throw written.error;
    },
    close: async () => {
      await tiered.close();
    },
  };
};

export const tiercacheTieredGetOrSet: GetOrSetFactory = async (target) => {
  const { tiered, l2 } = createTiered(target, { maxEntries: L1_ENTRIES });
  await feedArmed(l2, 5_000);
  return tiercacheGetOrSet(tiered);
};

export const tiercacheTieredLockedGetOrSet: GetOrSetFactory = async (target) => {
  const { tiered, l2 } = createTiered(target, { maxEntries: L1_ENTRIES });
  await feedArmed(l2, 5_000);
  return tiercacheGetOrSet(tiered, true);
};
