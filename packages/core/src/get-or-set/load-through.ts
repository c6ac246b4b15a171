import { Err, Ok, type Result } from 'ts-results-es';
import { describe, readKeys } from '../arguments.js';
import type { CacheResult, OperationName } from '../cache-backend.js';
import { CacheError, errorMessage } from '../cache-error.js';
import { type Awaitable, type CacheDriver, StaleCopy, toCacheError } from '../driver.js';
import type { DriverCalls } from '../driver-calls.js';
import type { Lookups } from '../lookups.js';
import { publishOperation } from '../observability.js';
import type { Codec } from './codecs.js';
import { callLoader, type Flights, type Landed, type LoadedText, type Outcome } from './flights.js';
import type { LoadPolicy } from './load-policy.js';

type Loaded = Result<LoadedText, CacheError>;

/**
 * getOrSet in all its forms — one key or many, text or JSON — over any driver: the cache is read first (L1,
 * then L2, one batch for many keys), and what is missing is loaded through {@link Flights}. Checks of the key
 * and of `close()` are the front's; the loader and the options are checked here.
 */
export class LoadThrough {
  readonly #driver: CacheDriver;
  readonly #lookups: Lookups;
  readonly #calls: DriverCalls;
  readonly #flights: Flights;
  readonly #ttlMs: (ttl: number | undefined) => number | undefined;

  constructor(
    driver: CacheDriver,
    lookups: Lookups,
    calls: DriverCalls,
    flights: Flights,
    ttlMs: (ttl: number | undefined) => number | undefined,
  ) {
    this.#driver = driver;
    this.#lookups = lookups;
    this.#calls = calls;
    this.#flights = flights;
    this.#ttlMs = ttlMs;
  }

  /** A hit the front found by peeking: answered, and a reload started when it is due for refresh ahead. */
  held<T>(
    operation: OperationName,
    key: string,
    text: string,
    loader: () => unknown,
    policy: LoadPolicy,
    codec: Codec<T>,
  ): Result<T, CacheError> {
    this.#lookups.hits++;
    this.#refreshIfDue(operation, key, loader, policy, codec);
    return codec.decode(this.#driver.name, operation, key, text);
  }

  /** One key: read, and loaded on a miss. */
  one<T>(
    operation: OperationName,
    key: string,
    loader: () => unknown,
    policy: LoadPolicy,
    codec: Codec<T>,
    started: number,
    missedAlready: boolean,
  ): Awaitable<Result<T, CacheError>> {
    if (missedAlready) return this.#load(operation, key, loader, policy, codec, started);
    let answer: Awaitable<string | StaleCopy | null>;
    try {
      answer = this.#driver.get(key);
    } catch (cause) {
      return this.#afterReadFailure(operation, key, loader, policy, codec, started, cause);
    }
    if (answer instanceof Promise) {
      return answer.then(
        (value) => this.#read(operation, key, value, 'l2', loader, policy, codec, started),
        (cause) => this.#afterReadFailure(operation, key, loader, policy, codec, started, cause),
      );
    }
    return this.#read(operation, key, answer, 'l1', loader, policy, codec, started);
  }

  /** Several keys: one read of them all, one loader call for the missing ones, one store. */
  async many<T>(
    operation: OperationName,
    keys: readonly string[],
    loadMany: unknown,
    policy: LoadPolicy,
    codec: Codec<T>,
    started: number,
  ): CacheResult<Map<string, T | null>> {
    const name = this.#driver.name;
    const distinct = readKeys(name, operation, keys);
    if (distinct instanceof CacheError) return this.#calls.refused(distinct, started);
    const values = new Map<string, T | null>();
    let read: Array<string | StaleCopy | null>;
    try {
      read = distinct.length === 0 ? [] : await this.#driver.getMany(distinct);
    } catch (cause) {
      // A store that cannot be read does not stop the load (unless it failed for another reason than reach).
      const error = toCacheError(this.#driver, cause, operation, undefined);
      if (!error.transient) return this.#calls.refused(error, started);
      read = distinct.map(() => null);
    }
    const missing: string[] = [];
    let stale = 0;
    for (const [i, key] of distinct.entries()) {
      const found = read[i] ?? null;
      if (found === null) {
        missing.push(key);
        continue;
      }
      if (found instanceof StaleCopy) stale++;
      const decoded = codec.decode(name, operation, key, found instanceof StaleCopy ? found.value : found);
      if (decoded.isErr()) return this.#calls.refused(decoded.error, started);
      values.set(key, decoded.value);
    }
    this.#lookups.hits += distinct.length - missing.length;
    this.#lookups.staleHits += stale;
    this.#lookups.misses += missing.length;
    if (missing.length > 0) {
      const answers = this.#flights.batch(operation, missing, policy, this.#ttlMs(policy.ttl), (asked) =>
        this.#runMany(operation, asked, loadMany, codec),
      );
      // Every key's wait starts now, so the hard timeout bounds the whole call, not each key in turn.
      const outcomes = await Promise.all(
        missing.map((key) =>
          this.#flights.await(operation, key, policy, answers.get(key) as Promise<Outcome>),
        ),
      );
      for (const [i, key] of missing.entries()) {
        const answer = this.#landed(operation, key, outcomes[i] as Outcome, codec, 0);
        if (answer.isErr()) return this.#calls.refused(answer.error, started);
        values.set(key, answer.value);
      }
    }
    const ordered = new Map<string, T | null>();
    for (const key of distinct) ordered.set(key, values.get(key) ?? null);
    if (started !== 0) {
      const hits = distinct.length - missing.length;
      publishOperation(name, operation, undefined, 'ok', undefined, hits, missing.length, undefined, started);
    }
    return new Ok(ordered);
  }

  #read<T>(
    operation: OperationName,
    key: string,
    value: string | StaleCopy | null,
    tier: 'l1' | 'l2',
    loader: () => unknown,
    policy: LoadPolicy,
    codec: Codec<T>,
    started: number,
  ): Awaitable<Result<T, CacheError>> {
    if (value === null) return this.#load(operation, key, loader, policy, codec, started);
    if (value instanceof StaleCopy) {
      // The truth cannot be asked: the copy is answered rather than loaded over a store that is down.
      this.#lookups.foundStale(value, operation, key, started);
      return codec.decode(this.#driver.name, operation, key, value.value);
    }
    this.#lookups.found(value, operation, key, tier, started);
    this.#refreshIfDue(operation, key, loader, policy, codec);
    return codec.decode(this.#driver.name, operation, key, value);
  }

  /** A read that failed: loaded all the same when the store could not be reached, answered `Err` otherwise. */
  #afterReadFailure<T>(
    operation: OperationName,
    key: string,
    loader: () => unknown,
    policy: LoadPolicy,
    codec: Codec<T>,
    started: number,
    cause: unknown,
  ): Awaitable<Result<T, CacheError>> {
    const error = toCacheError(this.#driver, cause, operation, key);
    if (!error.transient) return this.#calls.failed(cause, operation, key, started);
    return this.#load(operation, key, loader, policy, codec, started);
  }

  async #load<T>(
    operation: OperationName,
    key: string,
    loader: () => unknown,
    policy: LoadPolicy,
    codec: Codec<T>,
    started: number,
  ): Promise<Result<T, CacheError>> {
    this.#lookups.misses++;
    const flight = this.#flights.flight(operation, key, policy, this.#ttlMs(policy.ttl), () =>
      this.#run(operation, key, loader, codec),
    );
    const outcome = await this.#flights.await(operation, key, policy, flight);
    // A flight for one key always lands a value or an error; `null` is only a batch's answer.
    return this.#landed(operation, key, outcome, codec, started) as Result<T, CacheError>;
  }

  /** A flight's outcome as the caller's answer: the loader's own value, or the stored text decoded. */
  #landed<T>(
    operation: OperationName,
    key: string,
    outcome: Outcome,
    codec: Codec<T>,
    started: number,
  ): Result<T | null, CacheError> {
    if (outcome.isErr()) {
      const { backend, code } = outcome.error;
      if (started !== 0) publishOperation(backend, operation, key, 'error', undefined, 0, 1, code, started);
      return outcome;
    }
    const landed: Landed | null = outcome.value;
    if (landed === null) return new Ok(null);
    if (landed.source === 'grace') this.#lookups.staleHits++;
    if (started !== 0) {
      const kind = landed.source === 'grace' ? 'stale' : landed.source === 'l2' ? 'hit' : 'miss';
      const tier = landed.source === 'loader' ? 'none' : 'l2';
      const hits = landed.source === 'loader' ? 0 : 1;
      publishOperation(
        this.#driver.name,
        operation,
        key,
        kind,
        tier,
        hits,
        1 - hits,
        undefined,
        started,
        landed.ageMs,
      );
    }
    // The loader's own value goes to callers of the form that ran it; others (getOrSet joined by
    // getOrSetJson) read the stored text as their form reads it.
    if (landed.codec === codec) return new Ok(landed.loaded as T);
    return codec.decode(this.#driver.name, operation, key, landed.text);
  }

  /** Runs a loader and encodes its value; a value the codec refuses is not stored, and fails the call. */
  async #run<T>(
    operation: OperationName,
    key: string,
    loader: () => unknown,
    codec: Codec<T>,
  ): Promise<Loaded> {
    const value = await callLoader(this.#driver.name, operation, key, loader);
    if (value.isErr()) return value;
    const text = codec.encode(this.#driver.name, operation, key, value.value);
    if (text.isErr()) return text;
    return new Ok({ text: text.value, loaded: value.value, codec });
  }

  /** A batch loader's call: its Map or plain object read into text per key; keys it did not return are misses. */
  async #runMany<T>(
    operation: OperationName,
    keys: string[],
    loadMany: unknown,
    codec: Codec<T>,
  ): Promise<Result<Map<string, LoadedText>, CacheError>> {
    const name = this.#driver.name;
    const result = await callLoader(name, operation, keys[0] as string, () =>
      (loadMany as (k: string[]) => unknown)([...keys]),
    );
    if (result.isErr()) return result;
    const returned = result.value;
    const byKey = new Map<string, LoadedText>();
    let read: (key: string) => unknown;
    if (returned instanceof Map) read = (key) => returned.get(key);
    else if (returned !== null && typeof returned === 'object' && !Array.isArray(returned))
      read = (key) => (Object.hasOwn(returned, key) ? (returned as Record<string, unknown>)[key] : undefined);
    else {
      const reason = `loader returned ${describe(returned)}; ${operation}'s loader answers a Map or a plain object by key`;
      return new Err(new CacheError({ code: 'LOADER', backend: name, operation, key: keys[0], reason }));
    }
    try {
      for (const key of keys) {
        const value = read(key);
        if (value === undefined || value === null) continue;
        const text = codec.encode(name, operation, key, value);
        if (text.isErr()) return text;
        byKey.set(key, { text: text.value, loaded: value, codec });
      }
    } catch (cause) {
      const reason = `loader's answer could not be read: ${errorMessage(cause)}`;
      return new Err(new CacheError({ code: 'LOADER', backend: name, operation, reason, cause }));
    }
    return new Ok(byKey);
  }

  #refreshIfDue<T>(
    operation: OperationName,
    key: string,
    loader: () => unknown,
    policy: LoadPolicy,
    codec: Codec<T>,
  ): void {
    if (policy.refreshAhead === 0 || !this.#flights.refreshing || !this.#flights.dueForRefresh(key)) return;
    // Nobody waits for it: the reload stores its value, or leaves the current one to expire as it would have.
    // It takes no lock: the store would refuse it while the value is there, and only the process that loaded
    // the value plans its refresh.
    const refresh = policy.lockTtlMs === undefined ? policy : { ...policy, lockTtlMs: undefined };
    void this.#flights.flight(operation, key, refresh, this.#ttlMs(policy.ttl), () =>
      this.#run(operation, key, loader, codec),
    );
  }
}
