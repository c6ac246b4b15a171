import type { RedisTarget } from '../bench-redis.js';
import type { Entries } from '../generate-entries.js';
import type { Operation, Reader } from '../measure.js';

/*
 * What each scenario asks of a subject. A subject module adapts one library to these shapes and is imported
 * only by the child process that measures it, so no other library's code is loaded beside it.
 */

/**
 * For `memory-get-hit`: makes a cache, stores every entry, and returns how to read it. `capacity` is the bound on
 * entries, for the subjects that have one.
 */
export type GetHitFactory = (entries: Entries, capacity: number) => Promise<Reader>;

/** For `memory-per-entry`: a cache to fill. */
export interface FillTarget {
  /** Stores every pair, each write done before the next, as an application would. */
  fill(keys: readonly string[], values: readonly string[]): Promise<void>;
  /** The value stored under `key`, used after the heap is measured to prove every entry is there. */
  read(key: string): Promise<string | undefined>;
}

export type FillFactory = (capacity: number) => FillTarget;

/** For the Redis scenarios: the subject's client, with the operation to time, and how to let go of it. */
export interface TimedClient {
  operation: Operation;
  close(): Promise<void>;
}

/**
 * For `redis-get-64`: stores every entry under `target.prefix`, in the subject's own format, and returns an
 * operation whose call `i` gets the key `i mod entries`.
 */
export type RedisGetFactory = (target: RedisTarget, entries: Entries) => Promise<TimedClient>;

/** For `redis-set-ttl-64`: call `i` sets the key `i mod entries` to its value with a TTL of `ttlSeconds`. */
export type RedisSetFactory = (
  target: RedisTarget,
  entries: Entries,
  ttlSeconds: number,
) => Promise<TimedClient>;

/**
 * For `redis-getmany-100`: stores every entry, and returns an operation whose call `i` reads the keys of
 * `batches[i mod batches.length]` in one call; its `text` is the values found, one per line, in that order.
 */
export type RedisGetManyFactory = (
  target: RedisTarget,
  entries: Entries,
  batches: readonly (readonly string[])[],
) => Promise<TimedClient>;

/**
 * For `tiered-l1-hit`: a two-tier cache with the run's Redis as L2, holding every entry in its L1, and how to
 * read it. `capacity` bounds L1 where the library has a bound.
 */
export type TieredGetHitFactory = (
  entries: Entries,
  capacity: number,
  target: RedisTarget,
) => Promise<{ reader: Reader; close(): Promise<void> }>;

/** What a get answered while Redis was down. */
export type OutageAnswer = 'value' | 'miss' | 'error';

/** For `outage`: a cache on a server the scenario will stop. Nothing here throws or rejects. */
export interface OutageClient {
  /** Writes and reads a key back: true when the cache works, before the server is stopped. */
  works(): Promise<boolean>;
  /** A get of `key`, never in L1: what it answered, and the error's code or message if it failed. */
  get(key: string): Promise<{ answer: OutageAnswer; detail?: string }>;
  /** Closes the cache; the caller bounds how long it waits. */
  close(): Promise<void>;
}

export type OutageFactory = (target: RedisTarget) => Promise<OutageClient>;

/** For `coherence`: process B, which reads a key until it sees the value process A wrote. */
export interface CoherenceReader {
  /** The value a get answers, or undefined on a miss. */
  read(key: string): Promise<string | undefined>;
  /** Whether B's L1 holds `value` for `key` right now (always true for a reader without L1). */
  holds(key: string, value: string): boolean;
  /** Resolves once the reader hears changes (its feed or bus is up), or after `timeoutMs`: true if it does. */
  listening(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** For `coherence`: process A, which writes. */
export interface CoherenceWriter {
  write(key: string, value: string): Promise<void>;
  close(): Promise<void>;
}

export type CoherenceReaderFactory = (target: RedisTarget) => Promise<CoherenceReader>;
export type CoherenceWriterFactory = (target: RedisTarget) => Promise<CoherenceWriter>;

/** For `getorset-stampede`: the library's get-or-load call, answering the value or undefined on failure. */
export interface GetOrSetClient {
  getOrSet(key: string, loader: () => Promise<string>): Promise<string | undefined>;
  close(): Promise<void>;
}

export type GetOrSetFactory = (target: RedisTarget) => Promise<GetOrSetClient>;
