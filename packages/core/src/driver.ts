import type {
  CacheEntry,
  CacheStats,
  ChangeFeed,
  CoherenceMode,
  KeyCount,
  OperationName,
} from './cache-backend.js';
import { CacheError, type CacheErrorCode, isTransient } from './cache-error.js';

/*
 * The store contract: the few primitives a backend implements. Everything users call — argument checks,
 * counters, JSON, getOrSet, the observability seam — lives once in the front (`createCache`), over a driver.
 */

/** A value now, or later. A driver whose reads are local answers at once; a remote one answers with a Promise. */
export type Awaitable<T> = T | Promise<T>;

/** `T` for a local driver, whose calls all answer synchronously; `T` or a Promise of it otherwise. */
export type DriverAnswer<T, Local extends boolean> = Local extends true ? T : Awaitable<T>;

/**
 * What a driver knows about its keys, for `stats()`, without walking a remote keyspace. The front adds the
 * counters it keeps itself.
 */
export interface DriverStats {
  /** Keys under the prefix, where the driver counts them in this process; `null` where that means a walk. */
  totalKeys: number | null;
  memoryUsageBytes: number;
  expiredKeys: number;
  evictedKeys: number;
  /** Over the keys under the prefix that have a TTL; `null` when none has one, or where that means a walk. */
  averageTtlSeconds: number | null;
  mostAccessedKeys: CacheStats['mostAccessedKeys'];
  /** Per-tier figures, for drivers made of other drivers. */
  tiers?: Record<string, TierStats>;
  /** How a tiered driver keeps its L1 coherent now. */
  coherence?: CoherenceMode;
}

/** One tier of a driver made of several, as that tier saw the reads that reached it. */
export type TierStats = Omit<CacheStats, 'operations' | 'tiers' | 'loadsNotStored'>;

/**
 * A store of string keys and values with millisecond TTLs: what a backend package implements.
 *
 * The front checks every argument before calling a driver, so a driver receives only well-formed keys (non-empty,
 * well-formed UTF-16, without its prefix), string values, whole-millisecond TTLs (`undefined`: no expiry) and
 * safe-integer amounts. Key lists have no duplicates. A driver never sees a call after `close()`.
 *
 * A call fails by throwing or rejecting. A {@link DriverError} says what happened; anything else is turned into
 * one by {@link CacheDriver.classify}. The front turns either into a `CacheError` naming the operation and key.
 *
 * `Local` declares how the driver answers: `true` for one that holds its data in this process and answers every
 * call synchronously (the L1 of a tiered cache), `false` for one that may answer with a Promise.
 */
export interface CacheDriver<Local extends boolean = boolean> {
  /** Short name used in errors and stats: `memory`, `redis`, `tiered`. */
  readonly name: string;
  /** Prepended to every key the driver touches; `flush` and `deletePattern` stay inside it. */
  readonly keyPrefix: string;
  /** Whether every call answers synchronously. */
  readonly local: Local;
  /**
   * Changes made to the driver's keys by anyone else — other processes, other programs, expiry, eviction — where
   * the driver can hear them; `null` where it cannot. A tiered cache keeps its L1 coherent with it.
   */
  readonly changes: ChangeFeed | null;
  /**
   * For drivers that hold keys in this process: the value if this process holds the key, at once, and
   * `undefined` otherwise, without asking any further (no network, no fill, no count of a miss). `null` for
   * drivers that hold nothing in this process. The front asks it first on a `get` that nobody observes, before it
   * checks the key for lone surrogates: a key held here was checked when it was written, and peeking changes
   * nothing. It is what keeps an L1 hit cheap.
   */
  readonly peek: ((key: string) => string | undefined) | null;

  /**
   * The value, or `null` on a miss; a {@link StaleCopy} where the driver answers a copy that may be out of date
   * because the truth cannot be asked (only drivers that promise so: a tiered cache with `staleIfError`).
   */
  get(key: string): DriverAnswer<string | StaleCopy | null, Local>;
  /** Values of distinct keys, in the order asked, `null` for each miss, a {@link StaleCopy} as `get` answers. */
  getMany(keys: readonly string[]): DriverAnswer<Array<string | StaleCopy | null>, Local>;
  /**
   * Entries of distinct keys, value and TTL read together, in the order asked, `null` for each miss. A key the
   * store holds but cannot read as a string (a Redis key of another type) answers a {@link DriverError} in its
   * place (`WRONG_TYPE`), and the other keys are answered all the same. Users see such a key as `null` in
   * `getMany` and `getEntries`, as Redis's MGET answers it, and a `get` or `getEntry` of it fails with that
   * error (as `get` does): the front does this for `getEntries` and `getEntry`, a driver that reads through
   * `getEntries` (a tiered cache) for its own `get` and `getMany`. A store of strings only never answers one.
   */
  getEntries(keys: readonly string[]): DriverAnswer<EntryReply[], Local>;
  /**
   * Stores one value; without `ttlMs` it never expires (an earlier TTL is cleared, as Redis SET does). What it
   * answers is dropped (so a driver can hand back its client's own promise, such as SET's `'OK'`).
   */
  set(key: string, value: string, ttlMs: number | undefined): DriverAnswer<unknown, Local>;
  /** Stores distinct keys, all with one TTL rule; all or nothing where the store can promise it. */
  setMany(
    entries: ReadonlyArray<readonly [string, string]>,
    ttlMs: number | undefined,
  ): DriverAnswer<void, Local>;
  /** Whether the key was there. */
  delete(key: string): DriverAnswer<boolean, Local>;
  exists(key: string): DriverAnswer<boolean, Local>;
  /** Sets a new TTL; `false` when the key does not exist. */
  expire(key: string, ttlMs: number): DriverAnswer<boolean, Local>;
  /** Milliseconds left, or `null` for a missing key or one without TTL. */
  ttl(key: string): DriverAnswer<number | null, Local>;
  /**
   * Adds `delta` atomically and answers the new value; a missing key counts from 0 with no TTL, an existing one
   * keeps its TTL. Fails with `WRONG_TYPE` (not an integer) or `OUT_OF_RANGE` (beyond ±(2^53 − 1)), changing
   * nothing.
   */
  increment(key: string, delta: number): DriverAnswer<number, Local>;
  /** Deletes the keys under the prefix whose unprefixed name matches a Redis glob pattern; answers how many. */
  deletePattern(pattern: string): DriverAnswer<number, Local>;
  /** Removes every key under the prefix, and nothing else. What it answers is dropped. */
  flush(): DriverAnswer<unknown, Local>;
  /** Succeeds when the store can serve. What it answers is dropped. */
  ping(): DriverAnswer<unknown, Local>;
  /**
   * What the driver knows cheaply: its own counters and what the store reports of itself. It must not walk a
   * remote keyspace (users call it in metrics loops): `countKeys` does that.
   */
  stats(): DriverAnswer<DriverStats, Local>;
  /**
   * Walks the keys under the prefix and counts them, those with a TTL and their average TTL. The walk stops
   * once it has counted `limit` keys (a positive safe integer): `keys` is never above `limit`, and `complete`
   * is `false` when a key under the prefix was left uncounted (a store that reads keys in pages drops the rest
   * of the page). With exactly `limit` keys under the prefix the answer is complete.
   */
  countKeys(limit: number): DriverAnswer<KeyCount, Local>;
  /**
   * Stores values a getOrSet loaded: each key with its TTL and, when `graceMs` is above 0, its grace copy (the
   * value and when it was stored) under its companion key, living TTL + grace. With a `fence`, stores nothing
   * and answers `false` when a newer lock on the key was granted since (a late writer must not overwrite the
   * newer holder's value); answers `true` once stored.
   */
  storeLoaded(entries: readonly LoadedEntry[], fence: LockGrant | null): DriverAnswer<boolean, Local>;
  /** The grace copies of distinct keys, in the order asked, `null` where there is none. */
  readGrace(keys: readonly string[]): DriverAnswer<Array<GraceCopy | null>, Local>;
  /**
   * Takes the loader's lock on `key` for `ttlMs` if no one holds it and the key holds no value: a grant carries
   * a random token (to release only one's own lock) and a fencing number that grows with every grant on the
   * key. A refusal says how long the holder's lock still lives, 0 when the key holds a value already (read it).
   */
  lock(key: string, ttlMs: number): DriverAnswer<LockGrant | LockRefusal, Local>;
  /** Releases `grant`'s lock if it is still the holder's, and tells waiting processes to look again. */
  unlock(key: string, grant: LockGrant): DriverAnswer<unknown, Local>;
  /**
   * Calls `onChange` whenever `key` may have changed here or in another process (a write, a delete, a release
   * of its lock, a flush, a loss of the feed), until the returned function is called. `null` when the driver
   * cannot hear changes: waiters then wait out the lock.
   */
  watch(key: string, onChange: () => void): (() => void) | null;
  /** Releases what the driver holds. Called once. */
  close(): Promise<void>;
  /** Names a failure that is not a {@link DriverError} (an error of the underlying client). */
  classify(cause: unknown): DriverError;
}

/** What `getEntries` answers for one key: its entry, `null` for a miss, or why this key could not be read. */
export type EntryReply = CacheEntry | null | DriverError;

/** A value a getOrSet loaded, to be stored with its TTL and grace. */
export interface LoadedEntry {
  key: string;
  value: string;
  ttlMs: number | undefined;
  /** How long past its TTL a copy is kept for when the loader fails; 0 for none. */
  graceMs: number;
}

/** The last good value of a key, kept past its TTL for emergencies. */
export interface GraceCopy {
  value: string;
  /** When it was stored, in ms since the epoch (the storing process's clock). */
  storedAt: number;
}

/** A loader's lock, held. */
export interface LockGrant {
  readonly held: true;
  readonly token: string;
  readonly fence: number;
}

/** A loader's lock, held by someone else for `remainingMs` more. */
export interface LockRefusal {
  readonly held: false;
  readonly remainingMs: number;
}

/**
 * A value a driver answers although it may be out of date: the copy it still holds of a key whose source of
 * truth cannot be asked just now (a tiered cache's L1 copy while Redis is down). The front answers its value,
 * and counts and publishes it as stale, so degraded service is visible.
 */
export class StaleCopy {
  constructor(
    readonly value: string,
    /** Milliseconds since the copy was known to be the truth (stored or read from the source). */
    readonly ageMs: number,
    /** Where the copy was held. */
    readonly tier: 'l1' | 'l2',
  ) {}
}

/** A driver whose calls all answer synchronously: an in-process tier. */
export type LocalDriver = CacheDriver<true>;

/** A failure reported by a driver: the stable code, and what went wrong, phrased to follow operation and key. */
export class DriverError extends Error {
  override readonly name = 'DriverError';
  readonly code: CacheErrorCode;

  constructor(code: CacheErrorCode, reason: string, cause?: unknown) {
    super(reason, cause === undefined ? undefined : { cause });
    this.code = code;
  }

  /** Whether the store could not be reached (see {@link isTransient}). */
  get transient(): boolean {
    return isTransient(this.code);
  }
}

/** `cause` as a DriverError: itself when it is one, otherwise as `driver` classifies it. */
export function toDriverError(driver: Pick<CacheDriver, 'classify'>, cause: unknown): DriverError {
  return cause instanceof DriverError ? cause : driver.classify(cause);
}

/** `cause`, a driver's failure, as the CacheError a caller gets for `operation` on `key`. */
export function toCacheError(
  driver: Pick<CacheDriver, 'classify' | 'name'>,
  cause: unknown,
  operation: OperationName,
  key: string | undefined,
): CacheError {
  const failure = toDriverError(driver, cause);
  return new CacheError({
    code: failure.code,
    backend: driver.name,
    operation,
    key,
    reason: failure.message,
    cause: failure.cause ?? (failure === cause ? undefined : cause),
  });
}
