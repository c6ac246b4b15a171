import {
  type Awaitable,
  type CacheDriver,
  type CacheLogger,
  type ChangeEvent,
  type ChangeFeed,
  DriverError,
  type DriverStats,
  type EntryReply,
  errorMessage,
  type GraceCopy,
  isPortableKeyPattern,
  type KeyChange,
  type KeyCount,
  type LoadedEntry,
  type LocalDriver,
  type LockGrant,
  type LockRefusal,
  publishEvent,
  type StaleCopy,
  toDriverError,
} from '@tiercache/core';
import { CircuitBreaker, type CircuitBreakerOptions, CircuitOpenError } from './circuit-breaker.js';
import { Coherence, type CoherenceChoice } from './coherence.js';
import { FillGuard } from './fill-guard.js';
import { HealthLog } from './health-log.js';
import { ReadThrough } from './read-through.js';
import { StaleCopies } from './stale-copies.js';
import { combinedStats } from './tier-stats.js';

export const NAME = 'tiered';

/** The tiers and policy of a tiered driver, resolved from the user's options. */
export interface TieredDriverSetup {
  l1: LocalDriver;
  l2: CacheDriver;
  /** Longest a value stays in L1, in ms. */
  l1TtlMs: number;
  /** How to keep L1 coherent (see the `coherence` option and {@link Coherence}). */
  coherence: CoherenceChoice;
  /** Where coherence, breaker and feed changes are logged (see the `logger` option). */
  logger: CacheLogger;
  /** Reads answer a miss instead of an error when L2 cannot be reached. */
  missOnFailure: boolean;
  /** How old an L1 copy may be, in ms, to answer a read L2 cannot (see `staleIfError`); 0: none. */
  staleIfErrorMs: number;
  breaker: CircuitBreakerOptions | undefined;
  now: (() => number) | undefined;
  /** Closes the tiers, or `undefined` to leave them open. */
  closeTiers: (() => Promise<void>) | undefined;
}

/**
 * Two tiers behind one driver: reads are answered from the in-process L1 when they can be, at once, and read
 * through to L2 otherwise; writes go to L2, then L1, then to the other processes through L2's change feed.
 * L2 is called through a circuit breaker, and what may go into L1 is decided by a {@link FillGuard}.
 */
export class TieredDriver implements CacheDriver<false> {
  readonly name = NAME;
  readonly local = false;
  readonly keyPrefix: string;
  /** A tiered cache hears L2's feed itself; it offers none of its own. */
  readonly changes = null;
  readonly #l1: LocalDriver;
  /** L1's own peek, called straight from ours: one call less on every L1 hit than L1's get. */
  readonly #peekL1: (key: string) => string | undefined;
  readonly #l2: CacheDriver;
  readonly #l1TtlMs: number;
  readonly #breaker: CircuitBreaker;
  readonly #fills: FillGuard;
  readonly #reads: ReadThrough;
  readonly #staleIfError: boolean;
  readonly #unsubscribe: (() => void) | undefined;
  readonly #closeTiers: (() => Promise<void>) | undefined;
  readonly #feed: ChangeFeed | null;
  readonly #coherence: Coherence;
  readonly #health: HealthLog;
  #l1Hits = 0;
  /**
   * The change feed was lost while stale copies may be answered: L1 is kept for reads L2 cannot answer, but
   * answers nothing on its own until the feed is re-armed (and L1 emptied then).
   */
  #untrusted = false;
  #closed = false;

  constructor(setup: TieredDriverSetup) {
    this.#l1 = setup.l1;
    const { l1 } = setup;
    this.#peekL1 =
      l1.peek ??
      ((key) => {
        const local = l1.get(key);
        return typeof local === 'string' ? local : undefined;
      });
    this.#l2 = setup.l2;
    this.keyPrefix = setup.l2.keyPrefix;
    this.#l1TtlMs = setup.l1TtlMs;
    this.#closeTiers = setup.closeTiers;
    this.#health = new HealthLog(NAME, setup.l2.keyPrefix, setup.logger);
    this.#breaker = new CircuitBreaker(setup.breaker, setup.now, (state) => {
      publishEvent(() => ({ backend: NAME, type: 'breaker', state }));
      this.#health.breaker(state, this.#breaker);
    });
    this.#coherence = new Coherence(NAME, this.keyPrefix, setup.coherence, setup.logger);
    const feed = setup.coherence === 'ttl' ? null : setup.l2.changes;
    this.#feed = feed;
    this.#fills = new FillGuard(feed === null);
    const stale = new StaleCopies(setup.l1, setup.staleIfErrorMs, setup.l1TtlMs);
    this.#staleIfError = stale.enabled;
    this.#reads = new ReadThrough({
      l1: setup.l1,
      l2: setup.l2,
      fills: this.#fills,
      stale,
      missOnFailure: setup.missOnFailure,
      callL2: (call) => this.#callL2(call),
      fillL1: (key, value, l2TtlMs) => this.#fillL1(key, value, l2TtlMs),
      untrusted: () => this.#untrusted,
    });
    if (feed === null) this.#coherence.noFeed(setup.l2.name);
    this.#unsubscribe = feed?.subscribe(
      (event) => this.#heard(event),
      setup.coherence === 'announce' ? { hears: 'announced' } : undefined,
    );
    if (feed?.armed) this.#onArmed(undefined);
  }

  /** The L1 hit path: answered at once, nothing allocated; nothing while L1 is untrusted. */
  readonly peek = (key: string): string | undefined => {
    if (this.#untrusted) return undefined;
    const local = this.#peekL1(key);
    if (local !== undefined) this.#l1Hits++;
    return local;
  };

  get(key: string): Awaitable<string | StaleCopy | null> {
    return this.peek(key) ?? this.#reads.one(key);
  }

  getMany(keys: readonly string[]): Awaitable<Array<string | StaleCopy | null>> {
    const values = new Array<string | StaleCopy | null>(keys.length);
    const missing: number[] = [];
    const untrusted = this.#untrusted;
    for (let i = 0; i < keys.length; i++) {
      const local = untrusted ? null : this.#l1.get(keys[i] as string);
      if (local === null) missing.push(i);
      else this.#l1Hits++;
      values[i] = local;
    }
    if (missing.length === 0) return values;
    return this.#reads.many(keys, values, missing);
  }

  async getEntries(keys: readonly string[]): Promise<EntryReply[]> {
    return this.#callL2(() => this.#l2.getEntries(keys));
  }

  async set(key: string, value: string, ttlMs: number | undefined): Promise<void> {
    await this.#writeThrough([[key, value, ttlMs]], () => this.#l2.set(key, value, ttlMs));
  }

  async setMany(entries: ReadonlyArray<readonly [string, string]>, ttlMs: number | undefined): Promise<void> {
    const written = entries.map(([key, value]) => [key, value, ttlMs] as const);
    await this.#writeThrough(written, () => this.#l2.setMany(entries, ttlMs));
  }

  /** Written through as `set` is; a write L2 refused (a newer lock's) leaves L1 as it was. */
  storeLoaded(entries: readonly LoadedEntry[], fence: LockGrant | null): Promise<boolean> {
    const written = entries.map(({ key, value, ttlMs }) => [key, value, ttlMs] as const);
    return this.#writeThrough(written, () => this.#l2.storeLoaded(entries, fence));
  }

  readGrace(keys: readonly string[]): Promise<Array<GraceCopy | null>> {
    return this.#callL2(() => this.#l2.readGrace(keys));
  }

  lock(key: string, ttlMs: number): Promise<LockGrant | LockRefusal> {
    return this.#callL2(() => this.#l2.lock(key, ttlMs));
  }

  unlock(key: string, grant: LockGrant): Promise<unknown> {
    return this.#callL2(() => this.#l2.unlock(key, grant));
  }

  watch(key: string, onChange: () => void): (() => void) | null {
    return this.#l2.watch(key, onChange);
  }

  delete(key: string): Promise<boolean> {
    return this.#changeInL2(key, () => this.#l2.delete(key));
  }

  async exists(key: string): Promise<boolean> {
    // L1's own exists, not get: a look at a key is not a read of it.
    if (!this.#untrusted && this.#l1.exists(key)) return true;
    try {
      return await this.#callL2(() => this.#l2.exists(key));
    } catch (error) {
      if (this.#reads.answersMiss(error)) return false;
      throw error;
    }
  }

  /** L1's copy may outlive the new TTL: it is dropped here and everywhere. */
  expire(key: string, ttlMs: number): Promise<boolean> {
    return this.#changeInL2(key, () => this.#l2.expire(key, ttlMs));
  }

  ttl(key: string): Promise<number | null> {
    return this.#callL2(() => this.#l2.ttl(key));
  }

  /** Atomic in L2; L1 then holds nothing, so the next read sees the new count with L2's TTL. */
  increment(key: string, delta: number): Promise<number> {
    return this.#changeInL2(key, () => this.#l2.increment(key, delta));
  }

  deletePattern(pattern: string): Promise<number> {
    return this.#changeEverywhere({ type: 'pattern', pattern }, () => this.#l2.deletePattern(pattern));
  }

  flush(): Promise<unknown> {
    return this.#changeEverywhere({ type: 'all' }, () => this.#l2.flush());
  }

  ping(): Promise<unknown> {
    return this.#callL2(() => this.#l2.ping());
  }

  async stats(): Promise<DriverStats> {
    const l2 = await this.#callL2(() => this.#l2.stats());
    const { l2Hits, misses, staleHits } = this.#reads;
    return combinedStats(
      // A stale copy is an L1 hit: the read L2 could not answer was answered by L1.
      {
        name: this.#l1.name,
        figures: this.#l1.stats(),
        hits: this.#l1Hits + staleHits,
        misses: l2Hits + misses,
        staleHits,
      },
      { name: this.#l2.name, figures: l2, hits: l2Hits, misses, staleHits: 0 },
      this.#coherence.mode,
    );
  }

  /** L2's count: L2 holds the truth, L1 copies of some of it. */
  countKeys(limit: number): Promise<KeyCount> {
    return this.#callL2(() => this.#l2.countKeys(limit));
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#fills.close();
    this.#unsubscribe?.();
    await this.#closeTiers?.();
  }

  classify(cause: unknown): DriverError {
    return new DriverError('BACKEND', `the tiered cache failed: ${errorMessage(cause)}`, cause);
  }

  /** An event from L2's change feed. */
  #heard(event: ChangeEvent): void {
    switch (event.type) {
      case 'keys':
        for (const key of event.keys) this.#forget(key);
        publishEvent(() => ({ backend: NAME, type: 'invalidation', count: event.keys.length }));
        return;
      case 'pattern':
        this.#disownAll();
        this.#dropPatternFromL1(event.pattern);
        publishEvent(() => ({ backend: NAME, type: 'invalidation', count: 'all' }));
        return;
      case 'all':
        this.#disownAll();
        this.#l1.flush();
        publishEvent(() => ({ backend: NAME, type: 'invalidation', count: 'all' }));
        return;
      case 'lost':
        // Changes may have been missed: nothing in L1 can be trusted, and nothing goes in until re-armed. With
        // staleIfError its copies stay, for the reads L2 cannot answer; without, they go now.
        this.#fills.lose();
        this.#reads.forgetAll();
        publishEvent(() => ({ backend: NAME, type: 'feed', state: 'lost', reason: event.reason }));
        this.#health.feedLost(event.reason);
        if (this.#staleIfError) this.#untrusted = true;
        else this.#emptyL1(`change feed lost: ${event.reason}`);
        return;
      case 'armed':
        publishEvent(() => ({ backend: NAME, type: 'feed', state: 'armed', reason: undefined }));
        this.#health.feedArmed();
        // Reads sent while the feed was down may answer values changed unheard: they must not fill L1.
        this.#disownAll();
        if (this.#untrusted) {
          this.#emptyL1('change feed re-armed: copies from before may have missed changes');
          this.#untrusted = false;
        }
        this.#onArmed(event.reason);
        return;
    }
  }

  #emptyL1(reason: string): void {
    this.#l1.flush();
    publishEvent(() => ({ backend: NAME, type: 'l1-emptied', reason }));
  }

  /** The feed hears again: L1 may fill, unless the coherence required is not what it hears. */
  #onArmed(reason: string | undefined): void {
    if (this.#feed && this.#coherence.armed(this.#feed, reason)) this.#fills.regain();
  }

  /** Drops a key from L1 and disowns any reply in flight for it. */
  #forget(key: string): void {
    this.#disown(key);
    this.#l1.delete(key);
  }

  /** Replies in flight for `key` will not go into L1, nor answer the reads that start from now on. */
  #disown(key: string): void {
    this.#fills.invalidate(key);
    this.#reads.forget(key);
  }

  /** `#disown` for every key: after a change to many keys at once. */
  #disownAll(): void {
    this.#fills.invalidateAll();
    this.#reads.forgetAll();
  }

  /** Keeps `value` in L1 for no longer than L2 will, nor than `l1Ttl`; a value L1 cannot take leaves it. */
  #fillL1(key: string, value: string, l2TtlMs: number | null): void {
    const ttlMs = l2TtlMs === null ? this.#l1TtlMs : Math.min(Math.floor(l2TtlMs), this.#l1TtlMs);
    try {
      if (ttlMs >= 1) {
        this.#l1.set(key, value, ttlMs);
        return;
      }
    } catch {
      // Too large for L1: an older copy must not stay behind to be read instead.
    }
    this.#l1.delete(key);
  }

  /**
   * Writes L2 first, then L1, then tells the other processes. A value goes into L1 only after L2 has it, and
   * only if no change to the key was heard meanwhile; a failed write leaves L1 without the key, so L1 never
   * holds what L2 may not have — unless the breaker refused it, when it never left and L1 still agrees with L2.
   */
  async #writeThrough(
    entries: ReadonlyArray<readonly [string, string, number | undefined]>,
    write: () => Awaitable<unknown>,
  ): Promise<boolean> {
    const fills = entries.map(([key]) => {
      this.#disown(key);
      return this.#fills.begin(key);
    });
    try {
      if ((await this.#callL2(write)) === false) {
        for (const fill of fills) this.#fills.abandon(fill);
        return false;
      }
    } catch (error) {
      for (const fill of fills) {
        this.#fills.abandon(fill);
        if (!(error instanceof CircuitOpenError)) this.#l1.delete(fill.key);
      }
      throw error;
    }
    for (const [i, fill] of fills.entries()) {
      const [, value, ttlMs] = entries[i] as readonly [string, string, number | undefined];
      if (this.#fills.commit(fill)) this.#fillL1(fill.key, value, ttlMs ?? null);
      // An older copy must not be answered later as stale: this process wrote past it.
      else if (this.#untrusted) this.#l1.delete(fill.key);
    }
    this.#announce({ type: 'keys', keys: entries.map(([key]) => key) });
    return true;
  }

  /** A change L2 makes to one key (delete, expire, increment): L1 drops it here and in other processes. */
  async #changeInL2<T>(key: string, change: () => Awaitable<T>): Promise<T> {
    // Replies already in flight for the key predate the change: they must not go into L1.
    this.#disown(key);
    let result: T;
    try {
      result = await this.#callL2(change);
    } catch (error) {
      if (!(error instanceof CircuitOpenError)) this.#forget(key);
      throw error;
    }
    this.#forget(key);
    this.#announce({ type: 'keys', keys: [key] });
    return result;
  }

  /** flush and deletePattern: L2 first, then L1, then the other processes. */
  async #changeEverywhere<T>(change: KeyChange, apply: () => Awaitable<T>): Promise<T> {
    this.#disownAll();
    try {
      const result = await this.#callL2(apply);
      this.#announce(change);
      return result;
    } finally {
      this.#disownAll();
      if (change.type === 'all') this.#l1.flush();
      else if (change.type === 'pattern') this.#dropPatternFromL1(change.pattern);
    }
  }

  /**
   * Drops from L1 at least every key L2 deleted for `pattern`: the keys it matches when every Redis matches it
   * alike, and all of L1 when the answer depends on the server (a byte ≥ 0x80 in a class, which a signed and an
   * unsigned char order differently; more stars than Redis's nesting limit): see isPortableKeyPattern.
   */
  #dropPatternFromL1(pattern: string): void {
    if (isPortableKeyPattern(pattern)) this.#l1.deletePattern(pattern);
    else this.#l1.flush();
  }

  #announce(change: KeyChange): void {
    // A write that finishes after close() tells no one: the feed is being closed with L2.
    if (!this.#closed) void this.#l2.changes?.announce(change);
  }

  /**
   * Calls L2 through the circuit breaker, which refuses at once while L2 is known to be down. Fails with a
   * DriverError: L2's own failures classified by L2, a refusal as a {@link CircuitOpenError}.
   */
  async #callL2<T>(call: () => Awaitable<T>): Promise<T> {
    if (this.#coherence.unavailable) throw this.#coherence.unavailable;
    if (!this.#breaker.allows()) throw this.#breaker.refusal(this.#l2.name);
    try {
      const result = await call();
      this.#breaker.succeeded();
      return result;
    } catch (cause) {
      const failure = toDriverError(this.#l2, cause);
      if (failure.transient) this.#breaker.failed();
      else this.#breaker.succeeded();
      throw failure;
    }
  }
}
