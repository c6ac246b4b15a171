import type { Result } from 'ts-results-es';
import type { CacheError } from './cache-error.js';

/** Every operation of the protocol, as named in errors and in `CacheStats.operations`. */
export const OPERATION_NAMES = [
  'get',
  'getJson',
  'set',
  'setJson',
  'delete',
  'exists',
  'expire',
  'ttl',
  'increment',
  'decrement',
  'flush',
  'ping',
  'deletePattern',
  'getMany',
  'setMany',
  'getOrSet',
  'getOrSetJson',
  'getOrSetMany',
  'getOrSetManyJson',
  'getEntry',
  'getEntries',
  'announce',
  'stats',
  'countKeys',
  'close',
] as const;

export type OperationName = (typeof OPERATION_NAMES)[number];

/** What an operation resolves to: never a rejection, never a throw. */
export type CacheResult<T> = Promise<Result<T, CacheError>>;

/** Entries for `setMany`: a `Map` keeps your order, a plain object is read with `Object.entries`. */
export type CacheEntries = ReadonlyMap<string, string> | Readonly<Record<string, string>>;

export interface CountKeysOptions {
  /**
   * Keys to count at most: the walk stops once it has counted this many. A positive safe integer.
   * @default 100_000
   */
  limit?: number;
}

/** What `countKeys` found under a backend's prefix. */
export interface KeyCount {
  /**
   * Keys counted: every key under the prefix when `complete`; otherwise `limit` of them (fewer only when keys
   * went away during the walk).
   */
  keys: number;
  /** Of the keys counted, those that have a TTL. */
  keysWithTtl: number;
  /** Mean seconds left over the counted keys that have a TTL; `null` when none has one. */
  averageTtlSeconds: number | null;
  /** Whether every key under the prefix was counted: `false` when the walk stopped at `limit` with keys left. */
  complete: boolean;
}

/**
 * How getOrSet, getOrSetJson and getOrSetMany load and keep a value. Every option but `ttl` can also be given
 * once for the whole cache (the `getOrSet` option of the backend factories); an option given per call wins.
 */
export interface GetOrSetOptions {
  /** Seconds the loaded value lives. When omitted, the backend's `defaultTtl` applies (if any). */
  ttl?: number;
  /**
   * Seconds past its TTL the last good value is kept for emergencies: when the loader throws, rejects or
   * times out and a grace copy exists, it is answered (counted and published as stale) and the loader is not
   * called again for `graceBackoff`. The key itself keeps its plain value and real TTL; the copy lives in a
   * companion key (`<prefix>__tiercache:grace…:<key>`, in the key's Redis Cluster slot). 0 turns grace off.
   * @default 0
   */
  grace?: number;
  /** Seconds a grace copy is answered without calling a loader that just failed. @default 5 */
  graceBackoff?: number;
  /**
   * Seconds after which a caller that has a stale value to fall back on (a grace copy) gets it, while the loader
   * goes on in the background and updates the cache when it finishes. No effect without a grace copy.
   * @default no soft timeout
   */
  softTimeout?: number;
  /**
   * Seconds no caller waits longer than: past it the caller gets its grace copy if there is one, `Err TIMEOUT`
   * otherwise; the loader goes on in the background and stores its value if it finishes. A loader that is
   * still running after it no longer holds the key: the next caller starts a new one.
   * @default no bound
   */
  hardTimeout?: number;
  /**
   * One loader across processes: a lock in the store (Redis `SET NX PX` with a random token, a fencing number
   * checked when the value is stored) so that processes missing the same key run the loader once between them;
   * the others are woken by the change feed when the value is written. `true`, or `{ ttl }`: the seconds a lock
   * lives (a holder that dies releases it then). An efficiency tool, not mutual exclusion: see the README.
   * @default false
   */
  lock?: boolean | { ttl?: number };
  /**
   * A fraction of the TTL (0 < x < 1): a hit in the last `refreshAhead` part of the TTL of a value this
   * process loaded is answered at once, and starts one background reload.
   * @default no refresh ahead
   */
  refreshAhead?: number;
  /**
   * A fraction (0 ≤ x < 1) by which each stored TTL is shortened at random, so keys loaded together do not
   * expire together. Never lengthens a TTL.
   * @default 0
   */
  jitter?: number;
}

/** What a getOrSetMany loader answers: values by key, as a Map or a plain object; a key left out is a miss. */
export type LoadedValues<T> = ReadonlyMap<string, T> | Readonly<Record<string, T>>;

/** getOrSet's defaults for a whole cache: every {@link GetOrSetOptions} option but `ttl`. */
export type GetOrSetDefaults = Omit<GetOrSetOptions, 'ttl'>;

/** A source of the current time in milliseconds since the epoch. Backends that take one let tests move time. */
export interface Clock {
  now(): number;
}

/** One stored key with what the backend knows about it. Fields a backend cannot tell are `null`. */
export interface CacheEntry {
  key: string;
  value: string;
  /** Seconds left, with millisecond precision; `null` when the key has no TTL. */
  ttl: number | null;
  /** When the key expires, in epoch milliseconds; `null` when it has no TTL. */
  expiresAt: number | null;
  /** When the current value was written, in epoch milliseconds. */
  createdAt: number | null;
  /** Reads of the current value. */
  accessCount: number | null;
  lastAccessedAt: number | null;
  /** Increases with every write to the store; two reads with the same version saw the same write. */
  version: number | null;
}

/** A change to keys under a backend's prefix. Keys are named as the backend's callers name them (no prefix). */
export type KeyChange =
  | { readonly type: 'keys'; readonly keys: readonly string[] }
  /** Keys matching a Redis glob pattern went away (deletePattern). */
  | { readonly type: 'pattern'; readonly pattern: string }
  /** Every key under the prefix went away (flush). */
  | { readonly type: 'all' };

/** What a {@link ChangeFeed} tells its listeners. */
export type ChangeEvent =
  | KeyChange
  /**
   * The feed stopped hearing changes (a lost connection, a broken redirect, a missed heartbeat): anything may
   * have changed since. A listener that caches must drop what it holds and stop trusting it until `armed`.
   */
  | { readonly type: 'lost'; readonly reason: string }
  /**
   * The feed hears changes from now on: every change, or only those announced, as its `hears` says then.
   * `reason` says why a feed hears less than it was asked to (what the server answered).
   */
  | { readonly type: 'armed'; readonly reason?: string };

/**
 * What a {@link ChangeFeed} hears while armed: `all` — every change by anyone (Redis key tracking, a memory
 * store); `announced` — only what tiercache writers `announce` (Redis refused tracking, or it was not asked
 * for); `nothing` — not armed, or not known yet.
 */
export type FeedHearing = 'all' | 'announced' | 'nothing';

/** How a subscriber wants a feed to listen: `announced` never asks the server for more (no key tracking). */
export interface FeedSubscribeOptions {
  hears?: 'all' | 'announced';
}

/**
 * Changes made to a backend's keys by anyone — other processes, other programs, expiry and eviction — where
 * the backend can hear them. A tiered cache uses it to keep its in-process copy coherent.
 */
export interface ChangeFeed {
  /** Whether the feed hears changes right now. While it does not, nothing heard can be trusted. */
  readonly armed: boolean;
  /** What the feed hears now (see {@link FeedHearing}); `nothing` while it is not armed. */
  readonly hears: FeedHearing;
  /**
   * Calls `listener` with every event from now on, and returns a function that stops. The first subscription
   * starts the feed (it starts un-armed and reports `armed` once it hears); closing the backend ends it.
   */
  subscribe(listener: (event: ChangeEvent) => void, options?: FeedSubscribeOptions): () => void;
  /**
   * Tells the feeds of other processes about a change made here, for changes they could not hear by themselves
   * or would hear late. It is not reported back to this process. Resolves once sent; never rejects.
   */
  announce(change: KeyChange): CacheResult<void>;
}

/**
 * How a tiered cache keeps its L1 coherent: `tracking` — it hears every change (Redis key tracking);
 * `announce` — it hears the changes tiercache writers announce, and L1's TTL bounds everything else;
 * `ttl` — it hears nothing, and L1's TTL bounds every change.
 */
export type CoherenceMode = 'tracking' | 'announce' | 'ttl';

/** A snapshot of a backend's counters. Counters start at zero when the backend is created. */
export interface CacheStats {
  backend: string;
  /**
   * Keys currently stored under this backend's prefix, where the backend can tell without walking a remote
   * keyspace: the memory backend counts its own keys (O(keys) in this process); the Redis backend, and a tiered
   * cache over it, answer `null`. For an exact count anywhere, at a cost you choose, call `countKeys`.
   */
  totalKeys: number | null;
  /** Lookups (get, getJson, getMany per key, getOrSet) that found a value. */
  hits: number;
  /** Lookups that found nothing. */
  misses: number;
  /**
   * Answers given with a copy that may be out of date: a tiered cache's L1 copy while Redis could not be asked
   * (a lookup that found it: counted in `hits` too), or a getOrSet's grace copy while its loader failed (the key
   * itself had expired: counted in `misses`).
   */
  staleHits: number;
  /** Values getOrSet loaded but could not store (they were answered all the same). */
  loadsNotStored: number;
  /** hits / (hits + misses); 0 before the first lookup. */
  hitRate: number;
  /** misses / (hits + misses); 0 before the first lookup. */
  missRate: number;
  /** Bytes of keys and values (UTF-8) under this prefix, or the server's own figure where it has one. */
  memoryUsageBytes: number;
  /** Keys removed because their TTL ran out (store-wide, as Redis counts them). */
  expiredKeys: number;
  /** Keys removed to respect a size bound (store-wide, as Redis counts them). */
  evictedKeys: number;
  /**
   * Mean seconds left over the keys under this prefix that have a TTL; `null` when none has one, and `null`
   * where it would mean walking a remote keyspace (Redis, and a tiered cache over it), as for `totalKeys`. The
   * memory backend computes it over its own keys (O(keys) in this process). `countKeys` gives it anywhere.
   */
  averageTtlSeconds: number | null;
  /** The most read keys, most read first, where the backend tracks reads; otherwise empty. */
  mostAccessedKeys: Array<{ key: string; accessCount: number }>;
  /** Calls made to each operation, including those that returned `Err`. */
  operations: Record<OperationName, number>;
  /** Per-tier figures, for backends made of other backends: each tier as it saw the reads that reached it. */
  tiers?: Record<string, Omit<CacheStats, 'operations' | 'tiers' | 'loadsNotStored'>>;
  /** How a tiered cache keeps its L1 coherent now (see {@link CoherenceMode}); only tiered caches say. */
  coherence?: CoherenceMode;
}

/**
 * The cache protocol. Every backend implements it with the same semantics, which are those of Redis:
 * keys and values are strings, TTLs are seconds (fractional, millisecond precision), and a key expires once
 * its TTL has fully passed.
 *
 * Every method resolves to a `Result`: `Ok` with the value described below, or `Err` with a {@link CacheError}.
 * No method throws or rejects, and none waits longer than the backend's own time limit.
 *
 * Arguments are checked before anything is touched: an empty or non-string key, a non-string value, a key or
 * value that is not well-formed UTF-16 (a lone surrogate), a TTL that is not a finite number of seconds of at
 * least 0.001, an amount that is not a safe integer, or an argument that throws when read (a Proxy, a getter)
 * gives `Err` with code `INVALID_ARGUMENT`, and nothing stored is changed.
 *
 * Made by `createCache(driver)` over a `CacheDriver`; the backend packages' factories do that for you.
 */
export interface CacheBackend {
  /** Short name used in error messages and stats: `memory`, `redis`, `tiered`. */
  readonly name: string;
  /** Prepended to every key this backend touches; `flush` and `deletePattern` stay inside it. */
  readonly keyPrefix: string;
  /** Seconds a key lives when a write is given no TTL; `undefined` when such keys never expire. */
  readonly defaultTtl: number | undefined;

  /** Hit: the stored string (`""` is a hit). Miss: `null`. */
  get(key: string): CacheResult<string | null>;

  /**
   * Hit: the stored text parsed as JSON. Miss: `null`. Text that is not JSON gives `Err` `SERIALIZATION`.
   * The type parameter is not checked at run time.
   */
  getJson<T = unknown>(key: string): CacheResult<T | null>;

  /**
   * Stores `value`. With `ttl` (seconds) the key expires; without it the backend's `defaultTtl` applies, and if
   * there is none the key never expires — like Redis `SET`, an earlier TTL is cleared.
   */
  set(key: string, value: string, ttl?: number): CacheResult<void>;

  /**
   * Stores `JSON.stringify(value)` as plain text, so other programs can read it. Values JSON cannot carry
   * (`undefined`, functions, symbols, BigInt, circular structures) give `Err` `SERIALIZATION`.
   */
  setJson(key: string, value: unknown, ttl?: number): CacheResult<void>;

  /** `true` if the key was there and is now gone, `false` if there was nothing to delete. */
  delete(key: string): CacheResult<boolean>;

  exists(key: string): CacheResult<boolean>;

  /** Sets the key's TTL to `seconds` from now. `false` if the key does not exist. */
  expire(key: string, seconds: number): CacheResult<boolean>;

  /** Seconds left (millisecond precision), or `null` when the key does not exist or has no TTL. */
  ttl(key: string): CacheResult<number | null>;

  /**
   * Adds `amount` (a safe integer, default 1) atomically and resolves to the new value. A missing key counts
   * from 0 and gets no TTL; an existing key keeps its TTL. A value that is not a base-10 integer gives
   * `WRONG_TYPE`; a result beyond ±(2^53 − 1) gives `OUT_OF_RANGE`. Either way nothing changes.
   */
  increment(key: string, amount?: number): CacheResult<number>;

  /** `increment(key, -amount)`. */
  decrement(key: string, amount?: number): CacheResult<number>;

  /** Removes every key under this backend's prefix, and nothing else. */
  flush(): CacheResult<void>;

  /** `true` when the backend can serve. */
  ping(): CacheResult<true>;

  /**
   * Deletes the keys under this prefix whose (unprefixed) name matches a Redis glob pattern: `*`, `?`,
   * `[abc]`, `[^a]`, `[a-z]`, and `\` to take the next character literally. Resolves to how many were deleted.
   */
  deletePattern(pattern: string): CacheResult<number>;

  /**
   * Resolves to a `Map` from each key asked to its value or `null`, in the order asked. A key asked twice
   * appears once, at its first position.
   */
  getMany(keys: readonly string[]): CacheResult<Map<string, string | null>>;

  /**
   * Stores every entry, all with the same TTL rule as `set`. All or nothing: if any key or value is invalid,
   * nothing is written.
   */
  setMany(entries: CacheEntries, ttl?: number): CacheResult<void>;

  /**
   * Hit: the stored value. Miss: calls `loader`, stores what it returns (a string) with `options.ttl`, and
   * resolves to it. Concurrent calls for the same key in this process share one loader call. A loader that
   * throws, rejects or returns a non-string gives `Err` `LOADER` and stores nothing.
   */
  getOrSet(
    key: string,
    loader: () => string | Promise<string>,
    options?: GetOrSetOptions,
  ): CacheResult<string>;

  /**
   * getOrSet for any value JSON carries: stored as plain JSON text (other programs read it), answered as the
   * loader's value, or decoded from the stored text on a hit. A value JSON cannot carry is `Err SERIALIZATION`
   * and is not stored.
   */
  getOrSetJson<T>(key: string, loader: () => T | Promise<T>, options?: GetOrSetOptions): CacheResult<T>;

  /**
   * Several keys at once, answered by key in the order asked: cached keys from the cache (L1, then one L2
   * batch), the missing ones by one call of `loadMany` with all of them, stored in one batch. A key `loadMany`
   * leaves out answers `null` (a miss, not an error). Keys already being loaded in this process are joined, not
   * loaded again. Takes the options of getOrSet but `lock` and `softTimeout` (batches coalesce in this process).
   */
  getOrSetMany(
    keys: readonly string[],
    loadMany: (keys: string[]) => LoadedValues<string> | Promise<LoadedValues<string>>,
    options?: GetOrSetOptions,
  ): CacheResult<Map<string, string | null>>;

  /** getOrSetMany for values JSON carries, stored as getOrSetJson stores them. */
  getOrSetManyJson<T>(
    keys: readonly string[],
    loadMany: (keys: string[]) => LoadedValues<T> | Promise<LoadedValues<T>>,
    options?: GetOrSetOptions,
  ): CacheResult<Map<string, T | null>>;

  /** The stored entry with what the backend knows about it, or `null` on a miss. Counts as a lookup. */
  getEntry(key: string): CacheResult<CacheEntry | null>;

  /**
   * `getEntry` for several keys in one round trip, value and TTL read together. Same order and duplicate rules
   * as `getMany`; counts hits and misses as `getMany` does.
   */
  getEntries(keys: readonly string[]): CacheResult<Map<string, CacheEntry | null>>;

  /** Changes to this backend's keys made by anyone else, where the backend can hear them; otherwise `null`. */
  readonly changes: ChangeFeed | null;

  /**
   * Counters kept by this client (hits, misses, operations) and what the store reports of itself (memory,
   * expired and evicted keys). Cheap enough for a metrics loop: on Redis it is one `INFO` per master and never
   * walks the keyspace, so `totalKeys` and `averageTtlSeconds` are `null` there (see `countKeys`).
   */
  stats(): CacheResult<CacheStats>;

  /**
   * Counts the keys under this prefix, those with a TTL and their average TTL, by walking them: an explicit,
   * bounded request, not one for a metrics loop. The walk stops once it has counted `options.limit` keys
   * (default 100,000); `complete` says whether it reached the end. `limit` must be a positive safe integer.
   *
   * Cost: the memory backend walks its store in this process, O(keys in the store). The Redis backend (and a
   * tiered cache over it) walks every master with `SCAN … MATCH prefix* COUNT 1000`, one page at a time, and
   * sends one pipelined `PTTL` per key of each page: about `keys / 1000` round trips per master, plus the pages
   * of other keys the database holds (SCAN visits them all and MATCH filters them out). 500,000 keys took about
   * 4 s on one local Redis.
   */
  countKeys(options?: CountKeysOptions): CacheResult<KeyCount>;

  /** Releases what the backend holds. Any later call gives `Err` `CLOSED`; closing twice is `Ok`. */
  close(): CacheResult<void>;
}
