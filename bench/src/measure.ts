import { getHeapStatistics } from 'node:v8';
import { OWN_TURNS, type Turns } from './turns.js';

/*
 * Timing and heap loops. Each child process measures one subject, so every call site below sees one kind of
 * reader and V8 optimises it for that reader alone: no subject pays for another's shape.
 */

/**
 * One way of reading a key. `sync` readers are timed without any `await`; `async` ones with exactly one per
 * read. `isHit` is the one check per read that a caller would make (a value is there, a Result is Ok).
 */
export type Reader<R = unknown> = SyncReader<R> | AsyncReader<R>;

interface ReaderChecks<R> {
  isHit(result: R): boolean;
  /** The string a read found, used only outside the timed loops to check reads return what was written. */
  valueOf(result: R): string | undefined;
}

export interface SyncReader<R> extends ReaderChecks<R> {
  mode: 'sync';
  read(key: string): R;
}

export interface AsyncReader<R> extends ReaderChecks<R> {
  mode: 'async';
  read(key: string): Promise<R>;
}

export interface ThroughputOptions {
  /** Time spent reading before anything is recorded, so every function on the path is optimised. */
  warmupMs: number;
  /** Timed batches; their median is the figure. */
  rounds: number;
  /** About how long one batch lasts; its size is set from the speed seen during warm-up. */
  roundMs: number;
}

export interface Throughput {
  /** Reads per second of each round, in the order measured. */
  roundsOpsPerSec: number[];
  batchOps: number;
}

const CALIBRATION_BATCH = 1_000;

function syncBatch<R>(reader: SyncReader<R>, keys: readonly string[], ops: number): number {
  const { length } = keys;
  let hits = 0;
  let k = 0;
  for (let i = 0; i < ops; i++) {
    if (reader.isHit(reader.read(keys[k] as string))) hits++;
    if (++k === length) k = 0;
  }
  return hits;
}

async function asyncBatch<R>(reader: AsyncReader<R>, keys: readonly string[], ops: number): Promise<number> {
  const { length } = keys;
  let hits = 0;
  let k = 0;
  for (let i = 0; i < ops; i++) {
    if (reader.isHit(await reader.read(keys[k] as string))) hits++;
    if (++k === length) k = 0;
  }
  return hits;
}

/** Runs one batch and returns its duration in nanoseconds; a read that misses is a broken subject. */
async function timeBatch<R>(reader: Reader<R>, keys: readonly string[], ops: number): Promise<number> {
  const start = process.hrtime.bigint();
  const hits = reader.mode === 'sync' ? syncBatch(reader, keys, ops) : await asyncBatch(reader, keys, ops);
  const elapsed = Number(process.hrtime.bigint() - start);
  if (hits !== ops) throw new Error(`expected ${ops} hits in a batch, got ${hits}`);
  return elapsed;
}

/** Reads every key once and checks it holds its value: a fast subject that returns the wrong thing is no result. */
export async function verifyReads<R>(
  reader: Reader<R>,
  keys: readonly string[],
  values: readonly string[],
): Promise<void> {
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const result = reader.mode === 'sync' ? reader.read(key) : await reader.read(key);
    if (reader.valueOf(result) !== values[i])
      throw new Error(`key ${JSON.stringify(key)} did not read back its value`);
  }
}

/** Reads in a sequential loop (each read done before the next starts) and reports reads per second. */
export async function measureThroughput<R>(
  reader: Reader<R>,
  keys: readonly string[],
  options: ThroughputOptions,
): Promise<Throughput> {
  let warmupOps = 0;
  let warmupNs = 0;
  do {
    warmupNs += await timeBatch(reader, keys, CALIBRATION_BATCH);
    warmupOps += CALIBRATION_BATCH;
  } while (warmupNs < options.warmupMs * 1e6);
  const batchOps = Math.max(CALIBRATION_BATCH, Math.round((warmupOps / warmupNs) * options.roundMs * 1e6));
  const roundsOpsPerSec: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const elapsedNs = await timeBatch(reader, keys, batchOps);
    roundsOpsPerSec.push((batchOps / elapsedNs) * 1e9);
  }
  return { roundsOpsPerSec, batchOps };
}

/**
 * Times each read on its own. The two clock reads around it are part of every sample; `sampleTimerOverhead`
 * measures what they cost alone, so the report can say how much of a sample is the clock.
 */
export async function sampleLatency<R>(
  reader: Reader<R>,
  keys: readonly string[],
  samples: number,
): Promise<Float64Array> {
  const out = new Float64Array(samples);
  const { length } = keys;
  let k = 0;
  let hits = 0;
  if (reader.mode === 'sync') {
    for (let i = 0; i < samples; i++) {
      const start = process.hrtime.bigint();
      const result = reader.read(keys[k] as string);
      out[i] = Number(process.hrtime.bigint() - start);
      if (reader.isHit(result)) hits++;
      if (++k === length) k = 0;
    }
  } else {
    for (let i = 0; i < samples; i++) {
      const start = process.hrtime.bigint();
      const result = await reader.read(keys[k] as string);
      out[i] = Number(process.hrtime.bigint() - start);
      if (reader.isHit(result)) hits++;
      if (++k === length) k = 0;
    }
  }
  if (hits !== samples) throw new Error(`expected ${samples} hits while sampling latency, got ${hits}`);
  return out;
}

/** Samples of two back-to-back clock reads: the fixed cost inside every latency sample. */
export function sampleTimerOverhead(samples: number): Float64Array {
  const out = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    const start = process.hrtime.bigint();
    out[i] = Number(process.hrtime.bigint() - start);
  }
  return out;
}

/** Nearest-rank percentile, `p` in [0, 1]. */
export function percentile(samples: Float64Array | readonly number[], p: number): number {
  if (samples.length === 0) throw new RangeError('percentile of no samples');
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1] as number;
}

export function median(samples: Float64Array | readonly number[]): number {
  if (samples.length === 0) throw new RangeError('median of no samples');
  const sorted = Float64Array.from(samples).sort();
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/**
 * Bytes in use on the V8 heap once garbage is gone. Collects several times, with a turn of the event loop
 * between, because one collection can leave objects that only the next one finds unreachable.
 */
export async function settledHeapBytes(): Promise<number> {
  const collect = globalThis.gc;
  if (!collect) throw new Error('run with --expose-gc: heap figures need a full collection first');
  for (let i = 0; i < 3; i++) {
    collect();
    await new Promise((resolve) => setImmediate(resolve));
  }
  collect();
  return getHeapStatistics().used_heap_size;
}

/**
 * One call a concurrent loop makes: `call(i)` for the i-th call of a batch, and the one check a caller would
 * make on what it answers. `text` gives the value the answer carries, to check it outside the timed loops.
 */
export interface Operation<R = unknown> {
  call(index: number): Promise<R>;
  isGood(result: R): boolean;
  text(result: R): string | undefined;
}

export interface ConcurrentOptions extends ThroughputOptions {
  /** Calls in flight: each of this many loops awaits its call before it makes the next. */
  concurrency: number;
  /** When to work, in an interleaved scenario: the warm-up in one turn, each timed round in one of its own. */
  turns?: Turns;
}

/**
 * Makes `ops` calls from `concurrency` loops, each awaiting its call before taking the next index, and returns
 * the time taken in nanoseconds. With `latency`, also times each call on its own into `latency[i]`.
 */
async function concurrentBatch<R>(
  operation: Operation<R>,
  concurrency: number,
  ops: number,
  latency?: Float64Array,
): Promise<number> {
  let next = 0;
  let good = 0;
  const loop = async () => {
    while (next < ops) {
      const index = next++;
      if (latency) {
        const start = process.hrtime.bigint();
        const result = await operation.call(index);
        latency[index] = Number(process.hrtime.bigint() - start);
        if (operation.isGood(result)) good++;
      } else if (operation.isGood(await operation.call(index))) {
        good++;
      }
    }
  };
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: Math.min(concurrency, ops) }, loop));
  const elapsed = Number(process.hrtime.bigint() - start);
  if (good !== ops) throw new Error(`expected ${ops} good answers in a batch, got ${good}`);
  return elapsed;
}

/**
 * Throughput with a fixed number of calls in flight: warm-up batches until `warmupMs` have passed, then
 * `rounds` timed batches sized from the warm-up speed to last about `roundMs` each. No clock inside the loop.
 */
export async function measureConcurrentThroughput<R>(
  operation: Operation<R>,
  options: ConcurrentOptions,
): Promise<Throughput> {
  const { concurrency, turns = OWN_TURNS } = options;
  const calibration = Math.max(concurrency * 4, 200);
  let warmupOps = 0;
  let warmupNs = 0;
  await turns.take(async () => {
    do {
      warmupNs += await concurrentBatch(operation, concurrency, calibration);
      warmupOps += calibration;
    } while (warmupNs < options.warmupMs * 1e6);
  });
  const batchOps = Math.max(calibration, Math.round((warmupOps / warmupNs) * options.roundMs * 1e6));
  const roundsOpsPerSec: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const elapsedNs = await turns.take(() => concurrentBatch(operation, concurrency, batchOps));
    roundsOpsPerSec.push((batchOps / elapsedNs) * 1e9);
  }
  return { roundsOpsPerSec, batchOps };
}

/** Per-call latency at the same concurrency, in its own batch: each call timed from issue to answer. */
export async function sampleConcurrentLatency<R>(
  operation: Operation<R>,
  concurrency: number,
  samples: number,
): Promise<Float64Array> {
  const out = new Float64Array(samples);
  await concurrentBatch(operation, concurrency, samples, out);
  return out;
}

/** The figures of a throughput scenario: its timed rounds (median and range) and its latency samples. */
export function throughputFigures(
  roundsOpsPerSec: readonly number[],
  batchOps: number,
  latency: Float64Array | readonly number[],
): Record<string, number> {
  return {
    opsPerSec: median(roundsOpsPerSec),
    opsPerSecMin: Math.min(...roundsOpsPerSec),
    opsPerSecMax: Math.max(...roundsOpsPerSec),
    batchOps,
    p50Ns: percentile(latency, 0.5),
    p99Ns: percentile(latency, 0.99),
    p999Ns: percentile(latency, 0.999),
  };
}
