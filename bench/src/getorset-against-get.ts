import type { CacheBackend } from '@tiercache/core';
import { median, type Reader, type ThroughputOptions } from './measure.js';

/*
 * getOrSet's hit against get's hit on one cache (the getOrSet issue's figure), measured in pairs in one process.
 * Measured in two processes, the two figures come minutes apart, and this machine drifts in between: in one
 * full run a get pass ran 40 % slower than the others, and the ratio's spread over passes hid a figure that
 * cleared its target in every pass. Here batches alternate get, getOrSet, get, and each getOrSet batch is
 * divided by the mean of the two get batches around it, so that a drift moves both sides of each ratio alike.
 * Each loop is written out for its one call, so that each call site sees one function (see measure.ts).
 */

/** getOrSet's options as an application passes them on each call; read (and checked) on every hit. */
export const GET_OR_SET_OPTIONS = { ttl: 60 };

export function throwOnMiss(): never {
  throw new Error('getOrSet-hit: a key missed');
}

/** A getOrSet reader that can also measure itself against `get` on the same cache. */
export type PairedReader = Reader & {
  againstGet(keys: readonly string[], options: ThroughputOptions): Promise<number[]>;
};

/** `await cache.getOrSet(k, throwOnMiss, { ttl: 60 })`, and the same cache's get to measure it against. */
export function getOrSetReader(cache: CacheBackend): PairedReader {
  return {
    mode: 'async',
    read: (key) => cache.getOrSet(key, throwOnMiss, GET_OR_SET_OPTIONS),
    isHit: (result) => (result as Awaited<ReturnType<CacheBackend['getOrSet']>>).isOk(),
    valueOf: (result) => {
      const answer = result as Awaited<ReturnType<CacheBackend['getOrSet']>>;
      return answer.isOk() ? answer.value : undefined;
    },
    againstGet: (keys, options) => getOrSetAgainstGet(cache, keys, options),
  };
}

/** The ratio of getOrSet's hits per second to get's, one per round of `options` (after its warm-up). */
async function getOrSetAgainstGet(
  cache: CacheBackend,
  keys: readonly string[],
  options: ThroughputOptions,
): Promise<number[]> {
  const warmupEnd = process.hrtime.bigint() + BigInt(options.warmupMs * 1e6);
  let ops = 1_000;
  let elapsed = 0;
  while (process.hrtime.bigint() < warmupEnd) {
    elapsed = await timeGets(cache, keys, ops);
    await timeGetOrSets(cache, keys, ops);
  }
  // Batches of about roundMs each, sized from the last warm-up batch.
  ops = Math.max(1_000, Math.round((ops / elapsed) * options.roundMs * 1e6));
  const ratios: number[] = [];
  let before = await timeGets(cache, keys, ops);
  for (let round = 0; round < options.rounds; round++) {
    const getOrSet = await timeGetOrSets(cache, keys, ops);
    const after = await timeGets(cache, keys, ops);
    // Times per batch of equal size: get's mean time over getOrSet's time is getOrSet's rate over get's.
    ratios.push((before + after) / 2 / getOrSet);
    before = after;
  }
  return ratios;
}

/*
 * Two loops rather than one taking the call to make: each loop's call site then sees one method only, as an
 * application's does, and V8 optimises each for it.
 */
async function timeGets(cache: CacheBackend, keys: readonly string[], ops: number): Promise<number> {
  const { length } = keys;
  let hits = 0;
  const start = process.hrtime.bigint();
  for (let i = 0, k = 0; i < ops; i++) {
    const result = await cache.get(keys[k] as string);
    if (result.isOk() && result.value !== null) hits++;
    if (++k === length) k = 0;
  }
  const elapsed = Number(process.hrtime.bigint() - start);
  if (hits !== ops) throw new Error(`expected ${ops} get hits in a batch, got ${hits}`);
  return elapsed;
}

async function timeGetOrSets(cache: CacheBackend, keys: readonly string[], ops: number): Promise<number> {
  const { length } = keys;
  let hits = 0;
  const start = process.hrtime.bigint();
  for (let i = 0, k = 0; i < ops; i++) {
    const result = await cache.getOrSet(keys[k] as string, throwOnMiss, GET_OR_SET_OPTIONS);
    if (result.isOk()) hits++;
    if (++k === length) k = 0;
  }
  const elapsed = Number(process.hrtime.bigint() - start);
  if (hits !== ops) throw new Error(`expected ${ops} getOrSet hits in a batch, got ${hits}`);
  return elapsed;
}

/**
 * `{ getOrSetToGet }`, the median of the paired ratios, when `reader` is a getOrSet reader; nothing for any
 * other reader.
 */
export async function pairedWithGet(
  reader: Reader,
  keys: readonly string[],
  options: ThroughputOptions,
): Promise<{ getOrSetToGet?: number }> {
  if (!('againstGet' in reader)) return {};
  return { getOrSetToGet: median(await (reader as PairedReader).againstGet(keys, options)) };
}
