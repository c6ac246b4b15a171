import { Ok, type Result } from 'ts-results-es';
import {
  checkAmount,
  checkKey,
  checkPattern,
  checkTtl,
  checkValue,
  closedError,
  readCountKeysOptions,
  readEntries,
  readKeys,
  toMilliseconds,
} from './arguments.js';
import type {
  CacheBackend,
  CacheEntries,
  CacheEntry,
  CacheResult,
  CacheStats,
  ChangeFeed,
  Clock,
  CountKeysOptions,
  GetOrSetDefaults,
  GetOrSetOptions,
  KeyCount,
  LoadedValues,
  OperationName,
} from './cache-backend.js';
import { CacheError } from './cache-error.js';
import { type Awaitable, type CacheDriver, DriverError, type StaleCopy } from './driver.js';
import { DriverCalls } from './driver-calls.js';
import { type Codec, JSON_TEXT, TEXT } from './get-or-set/codecs.js';
import { Flights } from './get-or-set/flights.js';
import { LoadPolicies } from './get-or-set/load-policy.js';
import { LoadThrough } from './get-or-set/load-through.js';
import { decodeJson, encodeJson } from './json.js';
import { type CacheLogger, silentLogger } from './logger.js';
import { type Fresh, Lookups } from './lookups.js';
import { observationStart } from './observability.js';
import { createOperationCounts, lookupRates } from './stats.js';

export interface CacheOptions {
  /** Seconds a key lives when `set`, `setMany` or `getOrSet` is given no TTL. @default no expiry */
  defaultTtl?: number | undefined;
  /**
   * getOrSet's options for every call that does not give its own (all but `ttl`: see `defaultTtl`).
   * @example { grace: 3600, hardTimeout: 2, lock: true }
   */
  getOrSet?: GetOrSetDefaults | undefined;
  /** Where the few things worth a line go (a loaded value that could not be stored). @default silent */
  logger?: CacheLogger | undefined;
  /** The time getOrSet's back-offs, refresh-ahead and grace ages are measured by. @default Date.now */
  clock?: Clock | undefined;
}

// Answers that carry no per-call data are shared: a hit path that allocates less is a faster hit path.
const OK_VOID: Result<void, never> = new Ok(undefined);

/** The driver behind each cache made here, for a tiered cache that is handed a cache as a tier. */
const drivers = new WeakMap<CacheBackend, CacheDriver>();

/**
 * The whole user API, written once over any driver: argument checks, `CLOSED`, counters and `stats()`, JSON,
 * `decrement`, getMany's order and duplicates, getOrSet, and the observability seam. Driver failures, thrown
 * or rejected, come back as `Err` naming the backend, the operation and the key.
 */
class Cache implements CacheBackend {
  readonly name: string;
  readonly keyPrefix: string;
  readonly defaultTtl: number | undefined;
  readonly changes: ChangeFeed | null;
  readonly #driver: CacheDriver;
  readonly #peek: ((key: string) => string | undefined) | null;
  readonly #defaultTtlMs: number | undefined;
  readonly #operations = createOperationCounts();
  readonly #loads: LoadThrough;
  readonly #policies: LoadPolicies;
  readonly #flights: Flights;
  readonly #lookups: Lookups;
  readonly #calls: DriverCalls;
  #closed = false;

  constructor(driver: CacheDriver, options: CacheOptions) {
    const ttlError = checkTtl(driver.name, 'set', undefined, options.defaultTtl, 'defaultTtl');
    if (ttlError) throw new RangeError(ttlError.message);
    this.name = driver.name;
    this.keyPrefix = driver.keyPrefix;
    this.defaultTtl = options.defaultTtl;
    this.changes = driver.changes;
    this.#driver = driver;
    this.#peek = driver.peek;
    this.#defaultTtlMs = options.defaultTtl === undefined ? undefined : toMilliseconds(options.defaultTtl);
    this.#lookups = new Lookups(driver.name);
    this.#calls = new DriverCalls(driver, this.#lookups);
    this.#policies = new LoadPolicies(driver.name, options.getOrSet);
    this.#flights = new Flights(driver, options.logger ?? silentLogger, options.clock ?? Date);
    this.#loads = new LoadThrough(driver, this.#lookups, this.#calls, this.#flights, (ttl) =>
      this.#ttlMs(ttl),
    );
  }

  get(key: string): CacheResult<string | null> {
    this.#operations.get++;
    const started = observationStart();
    const held = this.#held(key, started);
    if (typeof held === 'string') return this.#heldAnswer(held);
    return this.#getElsewhere(key, started, held === undefined);
  }

  /**
   * get's every answer but an unobserved hit: kept out of `get`, so that what V8 inlines into a caller's loop is
   * the hit path alone. `peeked`: a local driver's peek just found nothing.
   */
  #getElsewhere(key: string, started: number, peeked: boolean): CacheResult<string | null> {
    const refused = this.#refuseKey('get', key);
    if (refused) return this.#calls.refused(refused, started);
    // A local driver that was just peeked at would answer the same miss again.
    if (peeked && this.#driver.local) return this.#lookups.missedAnswer();
    let answer: Awaitable<string | StaleCopy | null>;
    try {
      answer = this.#driver.get(key);
    } catch (cause) {
      return Promise.resolve(this.#calls.failed(cause, 'get', key, started));
    }
    return this.#answerLookup(answer, 'get', key, started);
  }

  /** Any other answer of a lookup: a miss, an observed hit, or one the driver gives later. */
  #answerLookup(
    answer: Awaitable<string | StaleCopy | null>,
    operation: OperationName,
    key: string,
    started: number,
  ) {
    if (answer instanceof Promise) return this.#calls.lookUpLater(answer, operation, key, started);
    if (answer === null && started === 0) return this.#lookups.missedAnswer();
    return Promise.resolve(this.#lookups.lookedUp(answer, operation, key, 'l1', started));
  }

  async getJson<T = unknown>(key: string): CacheResult<T | null> {
    this.#operations.getJson++;
    const started = observationStart();
    const refused = this.#refuseKey('getJson', key);
    if (refused) return this.#calls.refused(refused, started);
    const text = await this.#calls.call(
      'getJson',
      key,
      started,
      () => this.#driver.get(key),
      undefined,
      (value, tier) => this.#lookups.lookedUp(value, 'getJson', key, tier, started),
    );
    if (text.isErr() || text.value === null) return text as Result<null, CacheError>;
    return decodeJson<T>(this.name, 'getJson', key, text.value);
  }

  set(key: string, value: string, ttl?: number): CacheResult<void> {
    this.#operations.set++;
    const started = observationStart();
    const refused =
      this.#refuseKey('set', key) ??
      checkValue(this.name, 'set', key, value) ??
      checkTtl(this.name, 'set', key, ttl);
    if (refused) return this.#calls.refused(refused, started);
    const ttlMs = this.#ttlMs(ttl);
    return this.#calls.call('set', key, started, () => this.#driver.set(key, value, ttlMs), nothing);
  }

  setJson(key: string, value: unknown, ttl?: number): CacheResult<void> {
    this.#operations.setJson++;
    const started = observationStart();
    const refused = this.#refuseKey('setJson', key) ?? checkTtl(this.name, 'setJson', key, ttl);
    if (refused) return this.#calls.refused(refused, started);
    const text = encodeJson(this.name, 'setJson', key, value);
    if (text.isErr()) return this.#calls.refused(text.error, started);
    const ttlMs = this.#ttlMs(ttl);
    return this.#calls.call('setJson', key, started, () => this.#driver.set(key, text.value, ttlMs), nothing);
  }

  delete(key: string): CacheResult<boolean> {
    return this.#onKey('delete', key, () => this.#driver.delete(key));
  }

  exists(key: string): CacheResult<boolean> {
    return this.#onKey('exists', key, () => this.#driver.exists(key));
  }

  expire(key: string, seconds: number): CacheResult<boolean> {
    this.#operations.expire++;
    const started = observationStart();
    const refused = this.#refuseKey('expire', key) ?? checkTtl(this.name, 'expire', key, seconds, 'seconds');
    if (refused) return this.#calls.refused(refused, started);
    const ttlMs = toMilliseconds(seconds);
    return this.#calls.call('expire', key, started, () => this.#driver.expire(key, ttlMs));
  }

  ttl(key: string): CacheResult<number | null> {
    return this.#onKey('ttl', key, () => this.#driver.ttl(key), toSeconds);
  }

  increment(key: string, amount = 1): CacheResult<number> {
    return this.#addTo('increment', key, amount, 1);
  }

  decrement(key: string, amount = 1): CacheResult<number> {
    return this.#addTo('decrement', key, amount, -1);
  }

  flush(): CacheResult<void> {
    return this.#onAll('flush', undefined, () => this.#driver.flush(), nothing);
  }

  ping(): CacheResult<true> {
    return this.#onAll(
      'ping',
      undefined,
      () => this.#driver.ping(),
      () => true as const,
    );
  }

  deletePattern(pattern: string): CacheResult<number> {
    const invalidPattern = checkPattern(this.name, 'deletePattern', pattern);
    return this.#onAll('deletePattern', invalidPattern, () => this.#driver.deletePattern(pattern));
  }

  getMany(keys: readonly string[]): CacheResult<Map<string, string | null>> {
    return this.#lookUpMany('getMany', keys, (distinct) => this.#driver.getMany(distinct));
  }

  setMany(entries: CacheEntries, ttl?: number): CacheResult<void> {
    this.#operations.setMany++;
    const started = observationStart();
    const pairs = this.#closed
      ? closedError(this.name, 'setMany')
      : (checkTtl(this.name, 'setMany', undefined, ttl) ?? readEntries(this.name, 'setMany', entries));
    if (pairs instanceof CacheError) return this.#calls.refused(pairs, started);
    if (pairs.length === 0) return this.#calls.call('setMany', undefined, started, nothing, nothing);
    const ttlMs = this.#ttlMs(ttl);
    return this.#calls.call('setMany', undefined, started, () => this.#driver.setMany(pairs, ttlMs), nothing);
  }

  getOrSet(
    key: string,
    loader: () => string | Promise<string>,
    options?: GetOrSetOptions,
  ): CacheResult<string> {
    this.#operations.getOrSet++;
    const started = observationStart();
    // A hit whose options are none or those of a call before is answered as get answers its hit: the options
    // are compared with the last ones read (they must still answer Err when wrong), not read anew.
    const policy = this.#policies.known(loader, options);
    const held = policy === undefined || policy.refreshAhead !== 0 ? null : this.#held(key, started);
    if (typeof held === 'string') return this.#heldAnswer(held);
    return this.#getOrSet('getOrSet', key, loader, options, TEXT, started, held);
  }

  getOrSetJson<T>(key: string, loader: () => T | Promise<T>, options?: GetOrSetOptions): CacheResult<T> {
    this.#operations.getOrSetJson++;
    return this.#getOrSet(
      'getOrSetJson',
      key,
      loader,
      options,
      JSON_TEXT as Codec<T>,
      observationStart(),
      null,
    );
  }

  getOrSetMany(
    keys: readonly string[],
    loadMany: (keys: string[]) => LoadedValues<string> | Promise<LoadedValues<string>>,
    options?: GetOrSetOptions,
  ): CacheResult<Map<string, string | null>> {
    this.#operations.getOrSetMany++;
    return this.#getOrSetMany('getOrSetMany', keys, loadMany, options, TEXT);
  }

  getOrSetManyJson<T>(
    keys: readonly string[],
    loadMany: (keys: string[]) => LoadedValues<T> | Promise<LoadedValues<T>>,
    options?: GetOrSetOptions,
  ): CacheResult<Map<string, T | null>> {
    this.#operations.getOrSetManyJson++;
    return this.#getOrSetMany('getOrSetManyJson', keys, loadMany, options, JSON_TEXT as Codec<T>);
  }

  /**
   * getOrSet's every answer but the hit getOrSet answers itself. `held`: what getOrSet peeked (see #held), or
   * `null` when it did not.
   */
  #getOrSet<T>(
    operation: OperationName,
    key: string,
    loader: () => unknown,
    options: GetOrSetOptions | undefined,
    codec: Codec<T>,
    started: number,
    held: string | undefined | null,
  ): CacheResult<T> {
    const policy = this.#policies.read(operation, key, loader, options);
    if (policy instanceof CacheError) return this.#calls.refused(policy, started);
    const peeked = held === null ? this.#held(key, started) : held;
    if (typeof peeked === 'string') {
      return Promise.resolve(this.#loads.held(operation, key, peeked, loader, policy, codec));
    }
    const refused = this.#refuseKey(operation, key);
    if (refused) return this.#calls.refused(refused, started);
    // A local driver that was just peeked at would answer the same miss: go straight to the load.
    const missed = peeked === undefined && this.#driver.local;
    return Promise.resolve(this.#loads.one(operation, key, loader, policy, codec, started, missed));
  }

  #getOrSetMany<T>(
    operation: OperationName,
    keys: readonly string[],
    loadMany: unknown,
    options: GetOrSetOptions | undefined,
    codec: Codec<T>,
  ): CacheResult<Map<string, T | null>> {
    const started = observationStart();
    const policy = this.#closed
      ? closedError(this.name, operation)
      : this.#policies.read(operation, undefined, loadMany, options);
    if (policy instanceof CacheError) return this.#calls.refused(policy, started);
    return this.#loads.many(operation, keys, loadMany, policy, codec, started);
  }

  getEntry(key: string): CacheResult<CacheEntry | null> {
    this.#operations.getEntry++;
    const started = observationStart();
    const refused = this.#refuseKey('getEntry', key);
    if (refused) return this.#calls.refused(refused, started);
    return this.#calls.call(
      'getEntry',
      key,
      started,
      () => this.#driver.getEntries([key]),
      undefined,
      (entries, tier) => {
        const entry = entries[0] ?? null;
        // A key of another type fails a read of it alone, as `get` does.
        if (entry instanceof DriverError) return this.#calls.failed(entry, 'getEntry', key, started);
        return this.#lookups.lookedUp(entry, 'getEntry', key, tier, started);
      },
    );
  }

  getEntries(keys: readonly string[]): CacheResult<Map<string, CacheEntry | null>> {
    return this.#lookUpMany('getEntries', keys, (distinct) => this.#driver.getEntries(distinct));
  }

  stats(): CacheResult<CacheStats> {
    return this.#onAll(
      'stats',
      undefined,
      () => this.#driver.stats(),
      (figures) => ({
        backend: this.name,
        ...figures,
        hits: this.#lookups.hits,
        misses: this.#lookups.misses,
        staleHits: this.#lookups.staleHits,
        loadsNotStored: this.#flights.notStored,
        ...lookupRates(this.#lookups.hits, this.#lookups.misses),
        operations: { ...this.#operations },
      }),
    );
  }

  countKeys(options?: CountKeysOptions): CacheResult<KeyCount> {
    const limit = readCountKeysOptions(this.name, options);
    const refused = limit instanceof CacheError ? limit : undefined;
    return this.#onAll('countKeys', refused, () => this.#driver.countKeys(limit as number));
  }

  async close(): CacheResult<void> {
    this.#operations.close++;
    if (this.#closed) return OK_VOID;
    this.#closed = true;
    this.#flights.close();
    try {
      await this.#driver.close();
    } catch (cause) {
      return this.#calls.failed(cause, 'close', undefined, 0);
    }
    return OK_VOID;
  }

  // ---- the shared steps of every operation ----

  /**
   * The hit nobody observes, kept to the least work: the one path a cache must make fast. What this process
   * holds for `key` (see CacheDriver.peek): the value, `undefined` when it holds none, `null` when it was not
   * asked (no peek, an observed call, a closed cache, a key that is not a string, or a peek that failed: the
   * driver is then asked, and its failure, if any, answered). The key is checked for lone surrogates only if
   * this process does not hold it.
   */
  #held(key: unknown, started: number): string | undefined | null {
    const peek = this.#peek;
    if (peek === null || started !== 0 || this.#closed || typeof key !== 'string') return null;
    try {
      return peek(key);
    } catch {
      return null;
    }
  }

  /** The answer of a hit found by #held: get's, and getOrSet's when there is nothing else to do on a hit. */
  #heldAnswer(value: string): CacheResult<string> {
    this.#lookups.hits++;
    return Promise.resolve(new Ok(value));
  }

  /** getMany and getEntries: distinct keys read in one driver call, answered by key in the order asked. */
  #lookUpMany<T>(
    operation: 'getMany' | 'getEntries',
    keys: readonly string[],
    read: (distinct: string[]) => Awaitable<ReadonlyArray<T | null | DriverError>>,
  ): CacheResult<Map<string, Fresh<T> | null>> {
    this.#operations[operation]++;
    const started = observationStart();
    const distinct = this.#closed ? closedError(this.name, operation) : readKeys(this.name, operation, keys);
    if (distinct instanceof CacheError) return this.#calls.refused(distinct, started);
    return this.#calls.call(
      operation,
      undefined,
      started,
      () => read(distinct),
      undefined,
      (values, tier) => this.#lookups.byKey(operation, distinct, values, tier, started),
    );
  }

  /** An operation on one key with nothing else to check. */
  #onKey<T, U = T>(
    operation: OperationName,
    key: string,
    invoke: () => Awaitable<T>,
    convert?: (reply: T) => U,
  ): CacheResult<U> {
    this.#operations[operation]++;
    const started = observationStart();
    const refused = this.#refuseKey(operation, key);
    if (refused) return this.#calls.refused(refused, started);
    return this.#calls.call(operation, key, started, invoke, convert);
  }

  /** An operation on no particular key: flush, ping, deletePattern, stats, countKeys. */
  #onAll<T, U = T>(
    operation: OperationName,
    invalidArgument: CacheError | undefined,
    invoke: () => Awaitable<T>,
    convert?: (reply: T) => U,
  ): CacheResult<U> {
    this.#operations[operation]++;
    const started = observationStart();
    const refused = this.#closed ? closedError(this.name, operation) : invalidArgument;
    if (refused) return this.#calls.refused(refused, started);
    return this.#calls.call(operation, undefined, started, invoke, convert);
  }

  #addTo(operation: 'increment' | 'decrement', key: string, amount: number, sign: 1 | -1) {
    this.#operations[operation]++;
    const started = observationStart();
    const refused = this.#refuseKey(operation, key) ?? checkAmount(this.name, operation, key, amount);
    if (refused) return this.#calls.refused(refused, started);
    const delta = sign * amount;
    return this.#calls.call(operation, key, started, () => this.#driver.increment(key, delta));
  }

  #refuseKey(operation: OperationName, key: unknown): CacheError | undefined {
    return this.#closed ? closedError(this.name, operation, key) : checkKey(this.name, operation, key);
  }

  #ttlMs(ttl: number | undefined): number | undefined {
    return ttl === undefined ? this.#defaultTtlMs : toMilliseconds(ttl);
  }
}

/** The answer of an operation that answers nothing, whatever the store replied (Redis SET answers 'OK'). */
function nothing(): undefined {
  return undefined;
}

function toSeconds(ms: number | null): number | null {
  return ms === null ? null : ms / 1000;
}

/**
 * Makes the cache users call over a driver: every operation of {@link CacheBackend}, with its checks and
 * counters, written once. The backend packages' factories (`createMemoryBackend`, …) call it for you.
 *
 * @example
 * const cache = createCache(createMemoryDriver({ maxEntries: 1000 }), { defaultTtl: 60 });
 */
export function createCache(driver: CacheDriver, options: CacheOptions = {}): CacheBackend {
  const cache = new Cache(driver, options);
  drivers.set(cache, driver);
  return cache;
}

/** The driver behind a cache made by {@link createCache}, or `undefined` for anything else. */
export function driverOf(cache: CacheBackend): CacheDriver | undefined {
  return drivers.get(cache);
}
