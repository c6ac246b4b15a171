import { type KeyCount, OPERATION_NAMES, type OperationName } from './cache-backend.js';

/** A fresh set of per-operation counters, every operation at zero. */
export function createOperationCounts(): Record<OperationName, number> {
  const counts = {} as Record<OperationName, number>;
  for (const name of OPERATION_NAMES) counts[name] = 0;
  return counts;
}

/** Hit and miss rates from the two counters, 0 and 0 before the first lookup. */
export function lookupRates(hits: number, misses: number): { hitRate: number; missRate: number } {
  const lookups = hits + misses;
  return lookups === 0
    ? { hitRate: 0, missRate: 0 }
    : { hitRate: hits / lookups, missRate: misses / lookups };
}

/** What a walk over a driver's keys tallied: keys, those with a TTL and the sum of their TTLs, and whether it saw all. */
export interface KeyTally {
  keys: number;
  keysWithTtl: number;
  ttlSumMs: number;
  complete: boolean;
}

/** A tally as `countKeys` answers it, with the mean TTL in seconds (`null` when no key has one). */
export function toKeyCount({ keys, keysWithTtl, ttlSumMs, complete }: KeyTally): KeyCount {
  return {
    keys,
    keysWithTtl,
    averageTtlSeconds: keysWithTtl === 0 ? null : ttlSumMs / keysWithTtl / 1000,
    complete,
  };
}
