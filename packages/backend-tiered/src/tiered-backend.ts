import { createMemoryBackend, type MemoryBackendOptions } from '@tiercache/backend-memory';
import {
  type CacheBackend,
  type CacheEntries,
  type CacheEntry,
  CacheError,
  type CacheResult,
  type CacheStats,
  type ChangeEvent,
  type Clock,
  checkAmount,
  checkKey,
  checkKeys,
  checkPattern,
  checkTtl,
  checkValue,
  closedError,
  createOperationCounts,
  decodeJson,
  encodeJson,
  entriesToPairs,
  type GetOrSetOptions,
  type KeyChange,
  LoadThrough,
  lookupRates,
  type OperationName,
  SingleFlight,
} from '@tiercache/core';
import { Err, Ok, type Result } from 'ts-results-es';
import { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.js';

export interface TieredBackendOptions {
  /**
   * The in-process tier: a memory backend, or the options to make one. It must not share a store with L2.
   * @default createMemoryBackend({ maxEntries: 10_000 })
   */
  l1?: CacheBackend | MemoryBackendOptions;
  /** The shared tier every process reads through to: normally the Redis backend. */
  l2: CacheBackend;
  /**
   * Longest a value stays in L1, in seconds, whatever its TTL in L2. It bounds how stale L1 can be even if
   * every invalidation were lost.
   * @default 60
   */
  l1Ttl?: number;
  /** Seconds a key lives when `set` is given no TTL, in both tiers. @default no expiry */
  defaultTtl?: number;
  /**
   * Keep L1 coherent by listening to L2's change feed, when L2 has one (the Redis and memory backends do).
   * Without it, L1 may serve a value up to `l1Ttl` old.
   * @default true
   */
  coherence?: boolean;
  /**
   * What a read answers when L1 misses and L2 fails: `'error'` returns the `Err`; `'miss'` answers as if the key
   * were absent (getOrSet then calls its loader). Writes always return the `Err`.
   * @default 'error'
   */
  onL2Failure?: 'error' | 'miss';
  /** The circuit breaker around L2. */
  breaker?: CircuitBreakerOptions;
  /** Whether `close()` also closes both tiers. @default true */
  closeTiers?: boolean;
  /** Where the circuit breaker reads the time; tests pass a manual clock. @default the system clock */
  clock?: Clock;
}

const NAME = 'tiered';
const DEFAULT_L1_TTL_SECONDS = 60;
/** Codes that say L2 could not be reached, which the breaker counts. Anything else means L2 answered. */
const UNREACHABLE: ReadonlySet<string> = new Set(['CONNECTION', 'TIMEOUT']);

const OK_VOID: Result<void, never> = new Ok(undefined);

class TieredBackend implements CacheBackend {
  readonly name = NAME;
  readonly keyPrefix: string;
  readonly #l1: CacheBackend;
  readonly #l2: CacheBackend;
  readonly #l1TtlMs: number;
  readonly #defaultTtl: number | undefined;
  readonly #missOnFailure: boolean;
  readonly #closeTiers: boolean;
  readonly #breaker: CircuitBreaker;
  readonly #operations = createOperationCounts();
  readonly #reads = new SingleFlight<Result<string | null, CacheError>>();
  readonly #loads = new LoadThrough(NAME);
  readonly #unsubscribe: (() => void) | undefined;
  /**
   * The read-through or write in flight for each key. An invalidation, or a later write, removes or replaces
   * the entry, and a reply whose entry is gone does not go into L1: the answer it carries may be older than
   * the change that was heard meanwhile.
   */
  readonly #inFlight = new Map<string, number>();
  #lastToken = 0;
  /** Bumped by changes that touch many keys at once (flush, pattern, a lost feed): in-flight replies from before are not cached. */
  #epoch = 0;
  /** Whether L1 may be filled: the feed hears changes (or there is no feed to wait for). */
  #coherent: boolean;
  #l1Hits = 0;
  #l2Hits = 0;
  #misses = 0;
  #closed = false;

  constructor(options: TieredBackendOptions) {
    const {
      l2,
      l1Ttl = DEFAULT_L1_TTL_SECONDS,
      defaultTtl,
      coherence = true,
      onL2Failure = 'error',
    } = options;
    if (!isBackend(l2)) {
      throw new TypeError('[tiercache:tiered] l2 must be a cache backend, e.g. createRedisBackend({ url })');
    }
    const l1TtlError = checkTtl(NAME, 'set', undefined, l1Ttl, 'l1Ttl');
    if (l1TtlError) throw new RangeError(l1TtlError.message);
    const defaultTtlError = checkTtl(NAME, 'set', undefined, defaultTtl, 'defaultTtl');
    if (defaultTtlError) throw new RangeError(defaultTtlError.message);
    if (onL2Failure !== 'error' && onL2Failure !== 'miss') {
      throw new TypeError(
        `[tiercache:tiered] onL2Failure must be 'error' or 'miss', got ${String(onL2Failure)}`,
      );
    }
    this.#l1 = isBackend(options.l1) ? options.l1 : createMemoryBackend(options.l1 ?? { maxEntries: 10_000 });
    if (this.#l1 === l2) throw new TypeError('[tiercache:tiered] l1 and l2 must be different backends');
    if (typeof this.#l1.readSync !== 'function') {
      throw new TypeError(
        '[tiercache:tiered] l1 must answer reads in-process (readSync): pass a memory backend or its options',
      );
    }
    this.#l2 = l2;
    this.keyPrefix = l2.keyPrefix;
    this.#l1TtlMs = Math.round(l1Ttl * 1000);
    this.#defaultTtl = defaultTtl;
    this.#missOnFailure = onL2Failure === 'miss';
    this.#closeTiers = options.closeTiers ?? true;
    const clock = options.clock;
    this.#breaker = new CircuitBreaker(options.breaker, clock ? () => clock.now() : undefined);
    const feed = coherence ? l2.changes : undefined;
    this.#coherent = feed ? feed.armed : true;
    this.#unsubscribe = feed?.subscribe((event) => this.#heard(event));
  }

  get(key: string): CacheResult<string | null> {
    this.#operations.get++;
    const refused = this.#refuse('get', key);
    if (refused) return Promise.resolve(new Err(refused));
    // The L1 hit path: no await, no allocation beyond the Result.
    const local = this.#l1.readSync?.(key);
    if (typeof local === 'string') {
      this.#l1Hits++;
      return Promise.resolve(new Ok(local));
    }
    return this.#readThrough('get', key);
  }

  async getJson<T = unknown>(key: string): CacheResult<T | null> {
    this.#operations.getJson++;
    const refused = this.#refuse('getJson', key);
    if (refused) return new Err(refused);
    const local = this.#l1.readSync?.(key);
    if (typeof local === 'string') {
      this.#l1Hits++;
      return decodeJson<T>(NAME, 'getJson', key, local);
    }
    const text = await this.#readThrough('getJson', key);
    if (text.isErr() || text.value === null) return text as Result<null, CacheError>;
    return decodeJson<T>(NAME, 'getJson', key, text.value);
  }

  async set(key: string, value: string, ttl?: number): CacheResult<void> {
    this.#operations.set++;
    const refused =
      this.#refuse('set', key) ?? checkValue(NAME, 'set', key, value) ?? checkTtl(NAME, 'set', key, ttl);
    if (refused) return new Err(refused);
    return this.#writeThrough('set', [[key, value]], ttl ?? this.#defaultTtl);
  }

  async setJson(key: string, value: unknown, ttl?: number): CacheResult<void> {
    this.#operations.setJson++;
    const refused = this.#refuse('setJson', key) ?? checkTtl(NAME, 'setJson', key, ttl);
    if (refused) return new Err(refused);
    const text = encodeJson(NAME, 'setJson', key, value);
    if (text.isErr()) return text;
    return this.#writeThrough('setJson', [[key, text.value]], ttl ?? this.#defaultTtl);
  }

  async delete(key: string): CacheResult<boolean> {
    this.#operations.delete++;
    const refused = this.#refuse('delete', key);
    if (refused) return new Err(refused);
    return this.#changeInL2('delete', [key], () => this.#l2.delete(key));
  }

  async exists(key: string): CacheResult<boolean> {
    this.#operations.exists++;
    const refused = this.#refuse('exists', key);
    if (refused) return new Err(refused);
    // L1's own exists, not readSync: a look at a key is not a read of it in L1's hit counts.
    const local = await this.#l1.exists(key);
    if (local.isOk() && local.value) return local;
    const reply = await this.#callL2('exists', key, () => this.#l2.exists(key));
    return reply.isErr() && this.#missOnFailure && UNREACHABLE.has(reply.error.code) ? new Ok(false) : reply;
  }

  async expire(key: string, seconds: number): CacheResult<boolean> {
    this.#operations.expire++;
    const refused = this.#refuse('expire', key) ?? checkTtl(NAME, 'expire', key, seconds, 'seconds');
    if (refused) return new Err(refused);
    // L1's copy may now outlive the new TTL: drop it here and everywhere.
    return this.#changeInL2('expire', [key], () => this.#l2.expire(key, seconds));
  }

  async ttl(key: string): CacheResult<number | null> {
    this.#operations.ttl++;
    const refused = this.#refuse('ttl', key);
    if (refused) return new Err(refused);
    return this.#callL2('ttl', key, () => this.#l2.ttl(key));
  }

  async increment(key: string, amount = 1): CacheResult<number> {
    this.#operations.increment++;
    const refused = this.#refuse('increment', key) ?? checkAmount(NAME, 'increment', key, amount);
    if (refused) return new Err(refused);
    // Atomic in L2; L1 then holds nothing, so the next read sees the new count with L2's TTL.
    return this.#changeInL2('increment', [key], () => this.#l2.increment(key, amount));
  }

  async decrement(key: string, amount = 1): CacheResult<number> {
    this.#operations.decrement++;
    const refused = this.#refuse('decrement', key) ?? checkAmount(NAME, 'decrement', key, amount);
    if (refused) return new Err(refused);
    return this.#changeInL2('decrement', [key], () => this.#l2.decrement(key, amount));
  }

  async flush(): CacheResult<void> {
    this.#operations.flush++;
    const refused = this.#refuseIfClosed('flush');
    if (refused) return new Err(refused);
    return this.#changeEverywhere('flush', { type: 'all' }, () => this.#l2.flush());
  }

  async ping(): CacheResult<true> {
    this.#operations.ping++;
    const refused = this.#refuseIfClosed('ping');
    if (refused) return new Err(refused);
    return this.#callL2('ping', undefined, () => this.#l2.ping());
  }

  async deletePattern(pattern: string): CacheResult<number> {
    this.#operations.deletePattern++;
    const refused = this.#refuseIfClosed('deletePattern') ?? checkPattern(NAME, 'deletePattern', pattern);
    if (refused) return new Err(refused);
    return this.#changeEverywhere('deletePattern', { type: 'pattern', pattern }, () =>
      this.#l2.deletePattern(pattern),
    );
  }

  async getMany(keys: readonly string[]): CacheResult<Map<string, string | null>> {
    this.#operations.getMany++;
    const refused = this.#refuseIfClosed('getMany') ?? checkKeys(NAME, 'getMany', keys);
    if (refused) return new Err(refused);
    const found = new Map<string, string | null>();
    const missing: string[] = [];
    for (const key of keys) {
      if (found.has(key)) continue;
      const local = this.#l1.readSync?.(key);
      if (typeof local === 'string') this.#l1Hits++;
      else missing.push(key);
      // Every key takes its place now, so the answer keeps the order asked.
      found.set(key, local ?? null);
    }
    if (missing.length === 0) return new Ok(found);
    const fetched = await this.#fetchMany(missing);
    if (fetched.isErr()) {
      if (!(this.#missOnFailure && UNREACHABLE.has(fetched.error.code))) return fetched;
      this.#misses += missing.length;
      return new Ok(found);
    }
    for (const [key, value] of fetched.value) {
      found.set(key, value);
      if (value === null) this.#misses++;
      else this.#l2Hits++;
    }
    return new Ok(found);
  }

  async setMany(entries: CacheEntries, ttl?: number): CacheResult<void> {
    this.#operations.setMany++;
    const refused = this.#refuseIfClosed('setMany') ?? checkTtl(NAME, 'setMany', undefined, ttl);
    if (refused) return new Err(refused);
    const pairs = entriesToPairs(NAME, 'setMany', entries);
    if (pairs instanceof CacheError) return new Err(pairs);
    if (pairs.length === 0) return OK_VOID;
    return this.#writeThrough('setMany', pairs, ttl ?? this.#defaultTtl);
  }

  async getOrSet(
    key: string,
    loader: () => string | Promise<string>,
    options: GetOrSetOptions = {},
  ): CacheResult<string> {
    this.#operations.getOrSet++;
    const refused = this.#refuse('getOrSet', key) ?? checkTtl(NAME, 'getOrSet', key, options.ttl);
    if (refused) return new Err(refused);
    const local = this.#l1.readSync?.(key);
    if (typeof local === 'string') {
      this.#l1Hits++;
      return new Ok(local);
    }
    const cached = await this.#readThrough('getOrSet', key);
    if (cached.isErr()) return cached;
    if (cached.value !== null) return new Ok(cached.value);
    return this.#loads.load(key, key, loader, (value) =>
      this.#writeThrough('getOrSet', [[key, value]], options.ttl ?? this.#defaultTtl),
    );
  }

  async getEntry(key: string): CacheResult<CacheEntry | null> {
    this.#operations.getEntry++;
    const refused = this.#refuse('getEntry', key);
    if (refused) return new Err(refused);
    return this.#callL2('getEntry', key, () => this.#readEntry(key));
  }

  async stats(): CacheResult<CacheStats> {
    this.#operations.stats++;
    const refused = this.#refuseIfClosed('stats');
    if (refused) return new Err(refused);
    const [l1, l2] = await Promise.all([
      this.#l1.stats(),
      this.#callL2('stats', undefined, () => this.#l2.stats()),
    ]);
    if (l1.isErr()) return l1;
    if (l2.isErr()) return l2;
    const hits = this.#l1Hits + this.#l2Hits;
    return new Ok({
      backend: NAME,
      // L2 holds the truth; L1 holds copies of some of it.
      totalKeys: l2.value.totalKeys,
      hits,
      misses: this.#misses,
      ...lookupRates(hits, this.#misses),
      memoryUsageBytes: l2.value.memoryUsageBytes,
      expiredKeys: l2.value.expiredKeys,
      evictedKeys: l2.value.evictedKeys,
      averageTtlSeconds: l2.value.averageTtlSeconds,
      mostAccessedKeys: l1.value.mostAccessedKeys,
      operations: { ...this.#operations },
      // Per tier, each as the tier counts itself: L1's hits are the reads answered in-process.
      tiers: { l1: l1.value, l2: l2.value },
    });
  }

  async close(): CacheResult<void> {
    this.#operations.close++;
    if (this.#closed) return OK_VOID;
    this.#closed = true;
    this.#unsubscribe?.();
    if (this.#closeTiers) await Promise.all([this.#l1.close(), this.#l2.close()]);
    return OK_VOID;
  }

  /** An event from L2's change feed. */
  #heard(event: ChangeEvent): void {
    switch (event.type) {
      case 'keys':
        for (const key of event.keys) this.#forget(key);
        return;
      case 'pattern':
        this.#disownAll();
        void this.#l1.deletePattern(event.pattern);
        return;
      case 'all':
        this.#disownAll();
        void this.#l1.flush();
        return;
      case 'lost':
        // Changes may have been missed: nothing in L1 can be trusted, and nothing goes in until re-armed.
        this.#coherent = false;
        this.#disownAll();
        void this.#l1.flush();
        return;
      case 'armed':
        this.#coherent = true;
        return;
    }
  }

  /** Drops a key from L1 and disowns any reply in flight for it. */
  #forget(key: string): void {
    this.#disown(key);
    void this.#l1.delete(key);
  }

  /** `#disown` for every key: after a change to many keys at once. */
  #disownAll(): void {
    this.#epoch++;
    this.#reads.forgetAll();
  }

  /** Replies in flight for `key` will not go into L1, nor answer the reads that start from now on. */
  #disown(key: string): void {
    this.#inFlight.delete(key);
    this.#reads.forget(key);
  }

  /** Claims `key` for a read or write whose answer may go into L1 if nothing changes meanwhile. */
  #claim(key: string): number {
    const token = ++this.#lastToken;
    this.#inFlight.set(key, token);
    return token;
  }

  /** Whether the reply to the claim `token` on `key` may go into L1, releasing the claim either way. */
  #mayCache(key: string, token: number, epoch: number): boolean {
    const current = this.#inFlight.get(key) === token;
    if (current) this.#inFlight.delete(key);
    return current && epoch === this.#epoch && this.#coherent && !this.#closed;
  }

  #fillL1(key: string, value: string, l2TtlSeconds: number | null): void {
    // L1 never keeps a value longer than L2 will, nor longer than l1Ttl.
    const ttlMs =
      l2TtlSeconds === null ? this.#l1TtlMs : Math.min(Math.floor(l2TtlSeconds * 1000), this.#l1TtlMs);
    if (ttlMs >= 1) void this.#l1.set(key, value, ttlMs / 1000);
    else void this.#l1.delete(key);
  }

  /**
   * L1 missed: read L2, value and TTL together, and keep a copy in L1 unless the key changed meanwhile.
   * Concurrent misses on one key share one L2 read.
   */
  #readThrough(operation: OperationName, key: string): CacheResult<string | null> {
    return this.#reads.run(key, async () => {
      const epoch = this.#epoch;
      const token = this.#claim(key);
      const entry = await this.#callL2(operation, key, () => this.#readEntry(key));
      if (entry.isErr()) {
        if (this.#inFlight.get(key) === token) this.#inFlight.delete(key);
        if (this.#missOnFailure && UNREACHABLE.has(entry.error.code)) {
          this.#misses++;
          return new Ok(null);
        }
        return entry;
      }
      if (entry.value === null) {
        if (this.#inFlight.get(key) === token) this.#inFlight.delete(key);
        this.#misses++;
        return new Ok(null);
      }
      this.#l2Hits++;
      if (this.#mayCache(key, token, epoch)) this.#fillL1(key, entry.value.value, entry.value.ttl);
      return new Ok(entry.value.value);
    });
  }

  /** The value and its TTL from L2: one round trip where L2 offers getEntry, two otherwise. */
  async #readEntry(key: string): CacheResult<CacheEntry | null> {
    if (this.#l2.getEntry) return this.#l2.getEntry(key);
    const [value, ttl] = await Promise.all([this.#l2.get(key), this.#l2.ttl(key)]);
    if (value.isErr()) return value;
    if (ttl.isErr()) return ttl;
    if (value.value === null) return new Ok(null);
    const ttlSeconds = ttl.value;
    return new Ok({
      key,
      value: value.value,
      ttl: ttlSeconds,
      expiresAt: ttlSeconds === null ? null : Date.now() + ttlSeconds * 1000,
      createdAt: null,
      accessCount: null,
      lastAccessedAt: null,
      version: null,
    });
  }

  /** All of getMany's L1 misses in one L2 batch, filling L1 as #readThrough does. */
  async #fetchMany(keys: string[]): CacheResult<Map<string, string | null>> {
    const epoch = this.#epoch;
    const tokens = keys.map((key) => this.#claim(key));
    const l2 = this.#l2;
    const getEntries = l2.getEntries?.bind(l2);
    const values = new Map<string, string | null>();
    const release = (key: string, i: number) => {
      if (this.#inFlight.get(key) === tokens[i]) this.#inFlight.delete(key);
    };
    if (!getEntries) {
      // Without getEntries L2 cannot tell the TTLs, so the values are answered but not copied into L1.
      const found = await this.#callL2('getMany', undefined, () => l2.getMany(keys));
      keys.forEach(release);
      return found;
    }
    const entries = await this.#callL2('getMany', undefined, () => getEntries(keys));
    if (entries.isErr()) {
      keys.forEach(release);
      return entries;
    }
    for (const [i, key] of keys.entries()) {
      const entry = entries.value.get(key) ?? null;
      values.set(key, entry?.value ?? null);
      if (entry && this.#mayCache(key, tokens[i] as number, epoch)) this.#fillL1(key, entry.value, entry.ttl);
      else release(key, i);
    }
    return new Ok(values);
  }

  /**
   * Writes L2 first, then L1, then tells the other processes. A value goes into L1 only after L2 has it,
   * and only if no change to the key was heard meanwhile; a failed write leaves L1 without the key, so L1
   * never holds what L2 may not have.
   */
  async #writeThrough(
    operation: OperationName,
    pairs: Array<[string, string]>,
    ttl: number | undefined,
  ): CacheResult<void> {
    const epoch = this.#epoch;
    const tokens = pairs.map(([key]) => {
      this.#disown(key);
      return this.#claim(key);
    });
    const written = await this.#callL2(operation, pairs.length === 1 ? pairs[0]?.[0] : undefined, () =>
      pairs.length === 1 && operation !== 'setMany'
        ? this.#l2.set(pairs[0]?.[0] as string, pairs[0]?.[1] as string, ttl)
        : this.#l2.setMany(new Map(pairs), ttl),
    );
    const untouched = written.isErr() && this.#refusedUnsent(written.error);
    for (const [i, [key, value]] of pairs.entries()) {
      const token = tokens[i] as number;
      if (written.isOk() && this.#mayCache(key, token, epoch)) this.#fillL1(key, value, ttl ?? null);
      else {
        if (this.#inFlight.get(key) === token) this.#inFlight.delete(key);
        // A write that may have reached L2 leaves L1 without the key; one never sent leaves L1 as L2 is.
        if (!untouched) void this.#l1.delete(key);
      }
    }
    if (written.isErr()) return written;
    void this.#announce({ type: 'keys', keys: pairs.map(([key]) => key) });
    return OK_VOID;
  }

  /** A change L2 makes to some keys (delete, expire, increment): L1 drops them here and in other processes. */
  async #changeInL2<T>(
    operation: OperationName,
    keys: string[],
    change: () => CacheResult<T>,
  ): CacheResult<T> {
    // Replies already in flight for these keys predate the change: they must not go into L1.
    for (const key of keys) this.#disown(key);
    const result = await this.#callL2(operation, keys[0], change);
    if (result.isErr() && this.#refusedUnsent(result.error)) return result;
    for (const key of keys) this.#forget(key);
    if (result.isOk()) void this.#announce({ type: 'keys', keys });
    return result;
  }

  /** Whether `error` is the breaker refusing a call, which therefore never reached L2. */
  #refusedUnsent(error: CacheError): boolean {
    return error.backend === NAME && error.code === 'CONNECTION';
  }

  /** flush and deletePattern: L2 first, then L1, and then the other processes. */
  async #changeEverywhere<T>(
    operation: OperationName,
    change: KeyChange,
    apply: () => CacheResult<T>,
  ): CacheResult<T> {
    this.#disownAll();
    const result = await this.#callL2(operation, undefined, apply);
    this.#disownAll();
    if (change.type === 'all') await this.#l1.flush();
    else if (change.type === 'pattern') await this.#l1.deletePattern(change.pattern);
    if (result.isOk()) void this.#announce(change);
    return result;
  }

  #announce(change: KeyChange): void {
    const feed = this.#l2.changes;
    if (feed && !this.#closed) void feed.announce(change);
  }

  /** Calls L2 through the circuit breaker, which refuses at once while L2 is known to be down. */
  async #callL2<T>(
    operation: OperationName,
    key: string | undefined,
    call: () => CacheResult<T>,
  ): CacheResult<T> {
    if (!this.#breaker.allows()) {
      return new Err(
        new CacheError({
          code: 'CONNECTION',
          backend: NAME,
          operation,
          key,
          reason: `L2 (${this.#l2.name}) is unavailable: circuit open after ${this.#breaker.failureThreshold} consecutive failures, next try in ${this.#breaker.retryInMs()} ms`,
        }),
      );
    }
    const result = await call();
    if (result.isErr() && UNREACHABLE.has(result.error.code)) this.#breaker.failed();
    else this.#breaker.succeeded();
    return result;
  }

  #refuse(operation: OperationName, key: unknown): CacheError | undefined {
    return this.#refuseIfClosed(operation, key) ?? checkKey(NAME, operation, key);
  }

  #refuseIfClosed(operation: OperationName, key?: unknown): CacheError | undefined {
    return this.#closed ? closedError(NAME, operation, key) : undefined;
  }
}

function isBackend(value: unknown): value is CacheBackend {
  return typeof (value as CacheBackend | undefined)?.get === 'function';
}

/**
 * Creates a two-tier cache: reads are answered from the in-process L1 when they can, and read through to L2
 * otherwise; writes go to L2, then L1. With an L2 that has a change feed (Redis), every process's L1 drops a
 * key as soon as anyone changes it in L2.
 *
 * @example
 * const cache = createTieredBackend({
 *   l1: { maxEntries: 50_000 },
 *   l2: createRedisBackend({ url: process.env.REDIS_URL, keyPrefix: 'app:' }),
 *   l1Ttl: 30,
 * });
 */
export function createTieredBackend(options: TieredBackendOptions): CacheBackend {
  return new TieredBackend(options);
}
