import {
  type CacheBackend,
  type CacheEntries,
  type CacheEntry,
  CacheError,
  type CacheResult,
  type CacheStats,
  checkAmount,
  checkKey,
  checkKeys,
  checkPattern,
  checkTtl,
  checkValue,
  closedError,
  compileKeyPattern,
  createOperationCounts,
  decodeJson,
  encodeJson,
  entriesToPairs,
  type GetOrSetOptions,
  LoadThrough,
  lookupRates,
  type OperationName,
  toMilliseconds,
} from '@tiercache/core';
import { Err, Ok } from 'ts-results-es';
import { MemoryChangeFeed } from './memory-change-feed.js';
import { createMemoryStore, entryBytes, type MemoryStore, type MemoryStoreOptions } from './memory-store.js';
import { addToCounter } from './redis-integer.js';

export interface MemoryBackendOptions extends MemoryStoreOptions {
  /**
   * Prepended to every key; `flush` and `deletePattern` stay inside it.
   * @default ''
   * @example 'myapp:'
   */
  keyPrefix?: string;
  /** Seconds a key lives when `set` is called without a TTL. @default no expiry */
  defaultTtl?: number;
  /**
   * A store shared with other memory backends (see `createMemoryStore`). When given, the store's own options
   * (`maxEntries`, `maxBytes`, `clock`, `trackAccess`) belong to `createMemoryStore`, not here.
   * @default a store of this backend's own, made from the options above
   */
  store?: MemoryStore;
}

const NAME = 'memory';
const MOST_ACCESSED_SHOWN = 10;

// Results that carry no per-call data are shared: a hit path that allocates less is a faster hit path.
const OK_NULL = Promise.resolve(new Ok(null));
const OK_VOID = Promise.resolve(new Ok(undefined));
const OK_TRUE = Promise.resolve(new Ok(true as const));
const OK_FALSE = Promise.resolve(new Ok(false));

function fail(error: CacheError): Promise<Err<CacheError>> {
  return Promise.resolve(new Err(error));
}

class MemoryBackend implements CacheBackend {
  readonly name = NAME;
  readonly keyPrefix: string;
  readonly #store: MemoryStore;
  readonly #lru: MemoryStore['lru'];
  readonly #ownsStore: boolean;
  readonly #defaultTtlMs: number;
  readonly #operations = createOperationCounts();
  readonly #loads = new LoadThrough(NAME);
  #hits = 0;
  #misses = 0;
  #closed = false;
  #changes: MemoryChangeFeed | undefined;

  constructor(options: MemoryBackendOptions) {
    const { keyPrefix = '', defaultTtl, store, ...storeOptions } = options;
    if (typeof keyPrefix !== 'string') {
      throw new TypeError(`[tiercache:memory] keyPrefix must be a string, got ${typeof keyPrefix}`);
    }
    const ttlError = checkTtl(NAME, 'set', undefined, defaultTtl, 'defaultTtl');
    if (ttlError) throw new RangeError(ttlError.message);
    if (store !== undefined) {
      const misplaced = Object.keys(storeOptions).filter(
        (name) => storeOptions[name as keyof typeof storeOptions] !== undefined,
      );
      if (misplaced.length > 0) {
        throw new TypeError(
          `[tiercache:memory] ${misplaced.join(', ')} configure the store: pass them to createMemoryStore(), not next to \`store\``,
        );
      }
    }
    this.keyPrefix = keyPrefix;
    this.#defaultTtlMs = defaultTtl === undefined ? 0 : toMilliseconds(defaultTtl);
    this.#store = store ?? createMemoryStore(storeOptions);
    this.#ownsStore = store === undefined;
    this.#lru = this.#store.lru;
  }

  get(key: string): CacheResult<string | null> {
    this.#operations.get++;
    const error = this.#refuse('get', key);
    if (error) return fail(error);
    const value = this.#read(this.keyPrefix + key);
    return value === undefined ? OK_NULL : Promise.resolve(new Ok(value));
  }

  readSync(key: string): string | null | undefined {
    this.#operations.get++;
    if (this.#closed || typeof key !== 'string' || key.length === 0) return undefined;
    return this.#read(this.keyPrefix + key) ?? null;
  }

  /** Changes other backends on the same store make under this prefix, and expiry and eviction. */
  get changes(): MemoryChangeFeed {
    this.#changes ??= new MemoryChangeFeed(this.#store, this.keyPrefix, this);
    return this.#changes;
  }

  getJson<T = unknown>(key: string): CacheResult<T | null> {
    this.#operations.getJson++;
    const error = this.#refuse('getJson', key);
    if (error) return fail(error);
    const text = this.#read(this.keyPrefix + key);
    if (text === undefined) return OK_NULL;
    return Promise.resolve(decodeJson<T>(NAME, 'getJson', key, text));
  }

  set(key: string, value: string, ttl?: number): CacheResult<void> {
    this.#operations.set++;
    const error =
      this.#refuse('set', key) ?? checkValue(NAME, 'set', key, value) ?? checkTtl(NAME, 'set', key, ttl);
    if (error) return fail(error);
    const tooLarge = this.#checkFits('set', key, value);
    if (tooLarge) return fail(tooLarge);
    this.#write(this.keyPrefix + key, value, ttl);
    return OK_VOID;
  }

  setJson(key: string, value: unknown, ttl?: number): CacheResult<void> {
    this.#operations.setJson++;
    const error = this.#refuse('setJson', key) ?? checkTtl(NAME, 'setJson', key, ttl);
    if (error) return fail(error);
    const text = encodeJson(NAME, 'setJson', key, value);
    if (text.isErr()) return fail(text.error);
    const tooLarge = this.#checkFits('setJson', key, text.value);
    if (tooLarge) return fail(tooLarge);
    this.#write(this.keyPrefix + key, text.value, ttl);
    return OK_VOID;
  }

  delete(key: string): CacheResult<boolean> {
    this.#operations.delete++;
    const error = this.#refuse('delete', key);
    if (error) return fail(error);
    // lru-cache's delete also reports an expired entry it still holds; Redis would not.
    const fullKey = this.keyPrefix + key;
    if (!this.#lru.has(fullKey)) return OK_FALSE;
    this.#asActor(() => this.#lru.delete(fullKey));
    return OK_TRUE;
  }

  exists(key: string): CacheResult<boolean> {
    this.#operations.exists++;
    const error = this.#refuse('exists', key);
    if (error) return fail(error);
    return this.#lru.has(this.keyPrefix + key) ? OK_TRUE : OK_FALSE;
  }

  expire(key: string, seconds: number): CacheResult<boolean> {
    this.#operations.expire++;
    const error = this.#refuse('expire', key) ?? checkTtl(NAME, 'expire', key, seconds, 'seconds');
    if (error) return fail(error);
    const fullKey = this.keyPrefix + key;
    const value = this.#lru.get(fullKey);
    if (value === undefined) return OK_FALSE;
    // Setting the same value again restarts the TTL without counting as a new write.
    this.#lru.set(fullKey, value, { ttl: toMilliseconds(seconds) });
    this.#announce(fullKey);
    return OK_TRUE;
  }

  ttl(key: string): CacheResult<number | null> {
    this.#operations.ttl++;
    const error = this.#refuse('ttl', key);
    if (error) return fail(error);
    const remainingMs = this.#remainingMs(this.keyPrefix + key);
    return remainingMs === null ? OK_NULL : Promise.resolve(new Ok(remainingMs / 1000));
  }

  increment(key: string, amount = 1): CacheResult<number> {
    this.#operations.increment++;
    return this.#addTo('increment', key, amount, 1);
  }

  decrement(key: string, amount = 1): CacheResult<number> {
    this.#operations.decrement++;
    return this.#addTo('decrement', key, amount, -1);
  }

  flush(): CacheResult<void> {
    this.#operations.flush++;
    const error = this.#refuseIfClosed('flush');
    if (error) return fail(error);
    this.#asActor(() => {
      if (this.keyPrefix === '') this.#lru.clear();
      else for (const fullKey of this.#ownKeys()) this.#lru.delete(fullKey);
    });
    return OK_VOID;
  }

  ping(): CacheResult<true> {
    this.#operations.ping++;
    const error = this.#refuseIfClosed('ping');
    return error ? fail(error) : OK_TRUE;
  }

  deletePattern(pattern: string): CacheResult<number> {
    this.#operations.deletePattern++;
    const error = this.#refuseIfClosed('deletePattern') ?? checkPattern(NAME, 'deletePattern', pattern);
    if (error) return fail(error);
    const matches = compileKeyPattern(pattern);
    const prefixLength = this.keyPrefix.length;
    let deleted = 0;
    this.#asActor(() => {
      for (const fullKey of this.#ownKeys()) {
        if (matches(fullKey.slice(prefixLength)) && this.#lru.delete(fullKey)) deleted++;
      }
    });
    return Promise.resolve(new Ok(deleted));
  }

  getMany(keys: readonly string[]): CacheResult<Map<string, string | null>> {
    this.#operations.getMany++;
    const error = this.#refuseIfClosed('getMany') ?? checkKeys(NAME, 'getMany', keys);
    if (error) return fail(error);
    const found = new Map<string, string | null>();
    for (const key of keys) {
      if (!found.has(key)) found.set(key, this.#read(this.keyPrefix + key) ?? null);
    }
    return Promise.resolve(new Ok(found));
  }

  setMany(entries: CacheEntries, ttl?: number): CacheResult<void> {
    this.#operations.setMany++;
    const error = this.#refuseIfClosed('setMany') ?? checkTtl(NAME, 'setMany', undefined, ttl);
    if (error) return fail(error);
    const pairs = entriesToPairs(NAME, 'setMany', entries);
    if (pairs instanceof CacheError) return fail(pairs);
    for (const [key, value] of pairs) {
      const tooLarge = this.#checkFits('setMany', key, value);
      if (tooLarge) return fail(tooLarge);
    }
    for (const [key, value] of pairs) this.#write(this.keyPrefix + key, value, ttl);
    return OK_VOID;
  }

  async getOrSet(
    key: string,
    loader: () => string | Promise<string>,
    options: GetOrSetOptions = {},
  ): CacheResult<string> {
    this.#operations.getOrSet++;
    const error = this.#refuse('getOrSet', key) ?? checkTtl(NAME, 'getOrSet', key, options.ttl);
    if (error) return new Err(error);
    const fullKey = this.keyPrefix + key;
    const cached = this.#read(fullKey);
    if (cached !== undefined) return new Ok(cached);
    return this.#loads.load(fullKey, key, loader, (value) => {
      const refused = this.#refuse('getOrSet', key) ?? this.#checkFits('getOrSet', key, value);
      if (refused) return new Err(refused);
      this.#write(fullKey, value, options.ttl);
      return new Ok(undefined);
    });
  }

  getEntry(key: string): CacheResult<CacheEntry | null> {
    this.#operations.getEntry++;
    const error = this.#refuse('getEntry', key);
    if (error) return fail(error);
    const value = this.#read(this.keyPrefix + key);
    return value === undefined ? OK_NULL : Promise.resolve(new Ok(this.#entry(key, value)));
  }

  getEntries(keys: readonly string[]): CacheResult<Map<string, CacheEntry | null>> {
    this.#operations.getEntries++;
    const error = this.#refuseIfClosed('getEntries') ?? checkKeys(NAME, 'getEntries', keys);
    if (error) return fail(error);
    const found = new Map<string, CacheEntry | null>();
    for (const key of keys) {
      if (found.has(key)) continue;
      const value = this.#read(this.keyPrefix + key);
      found.set(key, value === undefined ? null : this.#entry(key, value));
    }
    return Promise.resolve(new Ok(found));
  }

  stats(): CacheResult<CacheStats> {
    this.#operations.stats++;
    const error = this.#refuseIfClosed('stats');
    if (error) return fail(error);
    this.#store.purgeExpired();
    let totalKeys = 0;
    let memoryUsageBytes = 0;
    let keysWithTtl = 0;
    let ttlSumMs = 0;
    for (const [fullKey, value] of this.#lru.entries()) {
      if (!fullKey.startsWith(this.keyPrefix)) continue;
      totalKeys++;
      memoryUsageBytes += entryBytes(value, fullKey);
      const remainingMs = this.#remainingMs(fullKey);
      if (remainingMs !== null) {
        keysWithTtl++;
        ttlSumMs += remainingMs;
      }
    }
    return Promise.resolve(
      new Ok({
        backend: NAME,
        totalKeys,
        hits: this.#hits,
        misses: this.#misses,
        ...lookupRates(this.#hits, this.#misses),
        memoryUsageBytes,
        expiredKeys: this.#store.expiredKeys,
        evictedKeys: this.#store.evictedKeys,
        averageTtlSeconds: keysWithTtl === 0 ? null : ttlSumMs / keysWithTtl / 1000,
        mostAccessedKeys: this.#mostAccessed(),
        operations: { ...this.#operations },
      }),
    );
  }

  close(): CacheResult<void> {
    this.#operations.close++;
    if (!this.#closed) {
      this.#closed = true;
      this.#changes?.stop();
      // A store of our own goes with us; a shared one belongs to whoever made it.
      if (this.#ownsStore) this.#lru.clear();
    }
    return OK_VOID;
  }

  /** The first reason to refuse a call on one key: the backend is closed, or the key is malformed. */
  #refuse(operation: OperationName, key: unknown): CacheError | undefined {
    return this.#refuseIfClosed(operation, key) ?? checkKey(NAME, operation, key);
  }

  #refuseIfClosed(operation: OperationName, key?: unknown): CacheError | undefined {
    return this.#closed ? closedError(NAME, operation, key) : undefined;
  }

  /** A lookup that counts as a hit or a miss. */
  #read(fullKey: string): string | undefined {
    const value = this.#lru.get(fullKey);
    if (value === undefined) {
      this.#misses++;
    } else {
      this.#hits++;
      if (this.#store.activity) this.#store.recordRead(fullKey);
    }
    return value;
  }

  #write(fullKey: string, value: string, ttlSeconds: number | undefined): void {
    const ttl = ttlSeconds === undefined ? this.#defaultTtlMs : toMilliseconds(ttlSeconds);
    this.#lru.set(fullKey, value, { ttl });
    if (this.#store.activity) this.#store.recordWrite(fullKey);
    this.#announce(fullKey);
  }

  /** Tells the store's watchers (other backends' change feeds) that this backend changed `fullKey`. */
  #announce(fullKey: string): void {
    if (this.#store.watchers.size > 0) this.#store.changed(fullKey, this);
  }

  /** Runs removals attributed to this backend, so its own change feed does not report them back. */
  #asActor(removal: () => void): void {
    this.#store.actor = this;
    try {
      removal();
    } finally {
      this.#store.actor = undefined;
    }
  }

  #entry(key: string, value: string): CacheEntry {
    const fullKey = this.keyPrefix + key;
    const remainingMs = this.#remainingMs(fullKey);
    const activity = this.#store.activity?.get(fullKey);
    return {
      key,
      value,
      ttl: remainingMs === null ? null : remainingMs / 1000,
      expiresAt: remainingMs === null ? null : this.#store.clock.now() + remainingMs,
      createdAt: activity?.createdAt ?? null,
      accessCount: activity?.accessCount ?? null,
      lastAccessedAt: activity?.lastAccessedAt ?? null,
      version: activity?.version ?? null,
    };
  }

  /** A value larger than the whole byte bound could never be stored; refuse it before touching anything. */
  #checkFits(operation: OperationName, key: string, value: string): CacheError | undefined {
    const maxBytes = this.#lru.maxSize;
    if (maxBytes === 0) return undefined;
    const bytes = entryBytes(value, this.keyPrefix + key);
    if (bytes <= maxBytes) return undefined;
    return new CacheError({
      code: 'CAPACITY',
      backend: NAME,
      operation,
      key,
      reason: `entry takes ${bytes} bytes, more than maxBytes (${maxBytes})`,
    });
  }

  #remainingMs(fullKey: string): number | null {
    if (!this.#lru.has(fullKey)) return null;
    const remaining = this.#lru.getRemainingTTL(fullKey);
    return Number.isFinite(remaining) ? Math.max(0, Math.round(remaining)) : null;
  }

  #addTo(
    operation: 'increment' | 'decrement',
    key: string,
    amount: number,
    sign: 1 | -1,
  ): CacheResult<number> {
    const error = this.#refuse(operation, key) ?? checkAmount(NAME, operation, key, amount);
    if (error) return fail(error);
    const fullKey = this.keyPrefix + key;
    const current = this.#lru.get(fullKey);
    const next = addToCounter(current ?? '0', sign * amount);
    if (typeof next === 'string') {
      const code = next === 'not-an-integer' ? 'WRONG_TYPE' : 'OUT_OF_RANGE';
      const reason =
        next === 'not-an-integer'
          ? `value ${JSON.stringify(current?.slice(0, 40))} is not an integer (or is out of the 64-bit range)`
          : `result would be outside ±(2^53 - 1), the range a JavaScript number holds exactly`;
      return fail(new CacheError({ code, backend: NAME, operation, key, reason }));
    }
    const text = String(next);
    const tooLarge = this.#checkFits(operation, key, text);
    if (tooLarge) return fail(tooLarge);
    // An existing key keeps its TTL, as with Redis INCRBY; a new one has none.
    this.#lru.set(fullKey, text, current === undefined ? { ttl: 0 } : { noUpdateTTL: true });
    if (this.#store.activity) this.#store.recordWrite(fullKey);
    this.#announce(fullKey);
    return Promise.resolve(new Ok(next));
  }

  /** Keys of this store under our prefix, collected first so deleting while walking is safe. */
  #ownKeys(): string[] {
    const own: string[] = [];
    for (const fullKey of this.#lru.keys()) {
      if (fullKey.startsWith(this.keyPrefix)) own.push(fullKey);
    }
    return own;
  }

  #mostAccessed(): CacheStats['mostAccessedKeys'] {
    const activity = this.#store.activity;
    if (!activity) return [];
    const prefixLength = this.keyPrefix.length;
    return [...activity]
      .filter(([fullKey, record]) => record.accessCount > 0 && fullKey.startsWith(this.keyPrefix))
      .sort((a, b) => b[1].accessCount - a[1].accessCount)
      .slice(0, MOST_ACCESSED_SHOWN)
      .map(([fullKey, record]) => ({ key: fullKey.slice(prefixLength), accessCount: record.accessCount }));
  }
}

/**
 * Creates an in-memory backend with the semantics of Redis.
 *
 * @example
 * const cache = createMemoryBackend({ maxEntries: 50_000, keyPrefix: 'app:' });
 * await cache.set('greeting', 'hello', 60);
 */
export function createMemoryBackend(options: MemoryBackendOptions = {}): CacheBackend {
  return new MemoryBackend(options);
}
