import fc from 'fast-check';
import type { CacheBackend } from '../cache-backend.js';

/*
 * `@tiercache/core/testing/operations`: a subpath of its own because it needs fast-check, an optional peer
 * dependency that `@tiercache/core/testing` does without.
 */

/**
 * Random operation sequences for property tests: the same sequence applied to two backends (or to a backend
 * and a model) must give the same answers. Results are reduced to plain data: values, or `{ error: code }`.
 */
export type CacheOperation =
  | { op: 'set'; key: string; value: string; ttl: number | undefined }
  | { op: 'get' | 'delete' | 'exists' | 'ttl'; key: string }
  | { op: 'increment'; key: string; amount: number }
  | { op: 'expire'; key: string; seconds: number }
  | { op: 'getMany'; keys: string[] }
  | { op: 'setMany'; entries: Array<[string, string]>; ttl: number | undefined }
  | { op: 'deletePattern'; pattern: string }
  | { op: 'flush' }
  | { op: 'advance'; ms: number };

export interface OperationArbitraryOptions {
  /**
   * Include `advance` steps and TTLs short enough to expire within a sequence. Only for backends whose
   * clock a test controls; otherwise TTLs are long and time does not move.
   */
  timeTravel: boolean;
}

const keys = fc.constantFrom('a', 'b', 'ab', 'a*', 'x:1', 'x:22', 'é', '[k]');
const values = fc.constantFrom('', 'v', '0', '7', '-3', '01', 'abc', '9007199254740990', '1.5', 'ключ');

/** An arbitrary operation over a small set of keys and values, chosen to collide often. */
export function cacheOperationArbitrary({
  timeTravel,
}: OperationArbitraryOptions): fc.Arbitrary<CacheOperation> {
  const ttls = timeTravel
    ? fc.constantFrom(undefined, 0.001, 0.5, 1, 2.5)
    : fc.constantFrom(undefined, 50, 100);
  const expireSeconds = timeTravel ? fc.constantFrom(0.001, 1, 3) : fc.constantFrom(30, 300);
  const operations: Array<fc.Arbitrary<CacheOperation>> = [
    fc.record({ op: fc.constant('set' as const), key: keys, value: values, ttl: ttls }),
    fc.record({
      op: fc.constantFrom('get' as const, 'delete' as const, 'exists' as const, 'ttl' as const),
      key: keys,
    }),
    fc.record({ op: fc.constant('increment' as const), key: keys, amount: fc.constantFrom(1, -1, 5, 100) }),
    fc.record({ op: fc.constant('expire' as const), key: keys, seconds: expireSeconds }),
    fc.record({ op: fc.constant('getMany' as const), keys: fc.array(keys, { maxLength: 4 }) }),
    fc.record({
      op: fc.constant('setMany' as const),
      entries: fc.array(fc.tuple(keys, values), { maxLength: 3 }),
      ttl: ttls,
    }),
    fc.record({
      op: fc.constant('deletePattern' as const),
      pattern: fc.constantFrom('*', 'a*', '?', '[ab]', 'x:*', 'a\\*', '\\[k\\]', '[^a]*'),
    }),
    fc.constant({ op: 'flush' as const }),
  ];
  if (timeTravel) {
    operations.push(
      fc.record({ op: fc.constant('advance' as const), ms: fc.constantFrom(1, 499, 500, 1000, 2500) }),
    );
  }
  return fc.oneof(...operations);
}

/**
 * Applies one operation and reduces its Result to plain data. `advance` calls `advanceTime`. A `setMany`
 * with one key twice keeps the last value, as a Map built from the entries would.
 */
export async function applyOperation(
  cache: CacheBackend,
  operation: CacheOperation,
  advanceTime: (ms: number) => void = () => {},
): Promise<unknown> {
  const settle = async (pending: Promise<{ isOk(): boolean; unwrap(): unknown; error?: unknown }>) => {
    const result = await pending;
    return result.isOk() ? result.unwrap() : { error: (result.error as { code: string }).code };
  };
  switch (operation.op) {
    case 'set':
      return settle(cache.set(operation.key, operation.value, operation.ttl));
    case 'get':
      return settle(cache.get(operation.key));
    case 'delete':
      return settle(cache.delete(operation.key));
    case 'exists':
      return settle(cache.exists(operation.key));
    case 'ttl':
      return settle(cache.ttl(operation.key));
    case 'increment':
      return settle(cache.increment(operation.key, operation.amount));
    case 'expire':
      return settle(cache.expire(operation.key, operation.seconds));
    case 'getMany': {
      const found = await settle(cache.getMany(operation.keys));
      return found instanceof Map ? [...found] : found;
    }
    case 'setMany':
      return settle(cache.setMany(new Map(operation.entries), operation.ttl));
    case 'deletePattern':
      return settle(cache.deletePattern(operation.pattern));
    case 'flush':
      return settle(cache.flush());
    case 'advance':
      advanceTime(operation.ms);
      return undefined;
  }
}
