import { randomUUID } from 'node:crypto';
import {
  type CacheEntry,
  companionKey,
  compileKeyPattern,
  DriverError,
  type DriverStats,
  decodeGraceCopy,
  encodeGraceCopy,
  errorMessage,
  type GraceCopy,
  type KeyCount,
  type LoadedEntry,
  type LocalDriver,
  type LockGrant,
  type LockRefusal,
  toKeyCount,
  watchKey,
} from '@tiercache/core';
import type { LRUCache } from 'lru-cache';
import { MemoryChangeFeed } from './memory-change-feed.js';
import { createMemoryStore, entryBytes, type MemoryStore, type MemoryStoreOptions } from './memory-store.js';
import { addToCounter } from './redis-integer.js';

export interface MemoryDriverOptions extends MemoryStoreOptions {
  /**
   * Prepended to every key; `flush` and `deletePattern` stay inside it.
   * @default ''
   * @example 'myapp:'
   */
  keyPrefix?: string;
  /**
   * A store shared with other memory backends (see `createMemoryStore`). When given, the store's own options
   * (`maxEntries`, `maxBytes`, `clock`, `trackAccess`) belong to `createMemoryStore`, not here.
   * @default a store of this backend's own, made from the options above
   */
  store?: MemoryStore;
}

const NAME = 'memory';
const MOST_ACCESSED_SHOWN = 10;
/** A fencing number lives this many lock lives (see lock), as in the Redis driver. */
const FENCE_LIVES = 10;

/**
 * The memory backend's driver: the keys under one prefix of a {@link MemoryStore}, answered synchronously.
 * Arguments arrive checked by the front (`createCache`).
 */
class MemoryDriver implements LocalDriver {
  readonly name = NAME;
  readonly local = true;
  readonly keyPrefix: string;
  readonly #store: MemoryStore;
  readonly #lru: MemoryStore['lru'];
  readonly #ownsStore: boolean;
  /** The store's access records, when `trackAccess` is on. */
  readonly #activity: boolean;
  #changes: MemoryChangeFeed | undefined;

  constructor(options: MemoryDriverOptions) {
    const { keyPrefix = '', store, ...storeOptions } = options;
    if (typeof keyPrefix !== 'string') {
      throw new TypeError(`[tiercache:memory] keyPrefix must be a string, got ${typeof keyPrefix}`);
    }
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
    this.#store = store ?? createMemoryStore(storeOptions);
    this.#ownsStore = store === undefined;
    this.#lru = this.#store.lru;
    this.#activity = this.#store.activity !== undefined;
  }

  /** Changes other backends on the same store make under this prefix, and expiry and eviction. */
  get changes(): MemoryChangeFeed {
    this.#changes ??= new MemoryChangeFeed(this.#store, this.keyPrefix, this);
    return this.#changes;
  }

  readonly peek = (key: string): string | undefined => {
    const fullKey = this.keyPrefix + key;
    const value = this.#lru.get(fullKey);
    if (value !== undefined && this.#activity) this.#store.recordRead(fullKey);
    return value;
  };

  get(key: string): string | null {
    return this.peek(key) ?? null;
  }

  getMany(keys: readonly string[]): Array<string | null> {
    return keys.map((key) => this.#read(this.keyPrefix + key) ?? null);
  }

  getEntries(keys: readonly string[]): Array<CacheEntry | null> {
    return keys.map((key) => {
      const fullKey = this.keyPrefix + key;
      // lru-cache reports when the key's TTL clock started: its write time, without access tracking.
      const status: LRUCache.Status<string, string> = {};
      const value = this.#lru.get(fullKey, { status });
      if (value === undefined) return null;
      if (this.#store.activity) this.#store.recordRead(fullKey);
      return this.#entry(key, value, status.start);
    });
  }

  set(key: string, value: string, ttlMs: number | undefined): void {
    this.#checkFits(key, value);
    this.#write(this.keyPrefix + key, value, ttlMs);
  }

  setMany(entries: ReadonlyArray<readonly [string, string]>, ttlMs: number | undefined): void {
    // All or nothing: every entry is checked before the first is written.
    for (const [key, value] of entries) this.#checkFits(key, value);
    for (const [key, value] of entries) this.#write(this.keyPrefix + key, value, ttlMs);
  }

  delete(key: string): boolean {
    // lru-cache's delete also reports an expired entry it still holds; Redis would not.
    const fullKey = this.keyPrefix + key;
    if (!this.#lru.has(fullKey)) return false;
    this.#asActor(() => this.#lru.delete(fullKey));
    return true;
  }

  exists(key: string): boolean {
    return this.#lru.has(this.keyPrefix + key);
  }

  expire(key: string, ttlMs: number): boolean {
    const fullKey = this.keyPrefix + key;
    const value = this.#lru.get(fullKey);
    if (value === undefined) return false;
    // Setting the same value again restarts the TTL without counting as a new write.
    this.#lru.set(fullKey, value, { ttl: ttlMs });
    this.#announce(fullKey);
    return true;
  }

  ttl(key: string): number | null {
    return this.#remainingMs(this.keyPrefix + key);
  }

  increment(key: string, delta: number): number {
    const fullKey = this.keyPrefix + key;
    const current = this.#lru.get(fullKey);
    const next = addToCounter(current ?? '0', delta);
    if (next === 'not-an-integer') {
      throw new DriverError(
        'WRONG_TYPE',
        `value ${JSON.stringify(current?.slice(0, 40))} is not an integer (or is out of the 64-bit range)`,
      );
    }
    if (next === 'out-of-range') {
      throw new DriverError(
        'OUT_OF_RANGE',
        'result would be outside ±(2^53 - 1), the range a JavaScript number holds exactly',
      );
    }
    const text = String(next);
    this.#checkFits(key, text);
    // An existing key keeps its TTL, as with Redis INCRBY; a new one has none.
    this.#lru.set(fullKey, text, current === undefined ? { ttl: 0 } : { noUpdateTTL: true });
    if (this.#store.activity) this.#store.recordWrite(fullKey);
    this.#announce(fullKey);
    return next;
  }

  deletePattern(pattern: string): number {
    const matches = compileKeyPattern(pattern);
    const prefixLength = this.keyPrefix.length;
    let deleted = 0;
    this.#asActor(() => {
      for (const fullKey of this.#ownKeys()) {
        if (matches(fullKey.slice(prefixLength)) && this.#lru.delete(fullKey)) deleted++;
      }
    });
    return deleted;
  }

  flush(): void {
    this.#asActor(() => {
      if (this.keyPrefix === '') this.#lru.clear();
      else for (const fullKey of this.#ownKeys()) this.#lru.delete(fullKey);
    });
  }

  ping(): void {}

  /** As the Redis driver stores them: the value, and its grace copy in a companion key (see companionKey). */
  storeLoaded(entries: readonly LoadedEntry[], fence: LockGrant | null): boolean {
    const first = entries[0];
    if (fence !== null && first && !this.#holdsNewestLock(first.key, fence)) return false;
    const storedAt = this.#store.clock.now();
    const writes: Array<[string, string, number | undefined]> = [];
    for (const { key, value, ttlMs, graceMs } of entries) {
      writes.push([key, value, ttlMs]);
      if (graceMs > 0) {
        const graceTtlMs = ttlMs === undefined ? undefined : ttlMs + graceMs;
        writes.push([this.#companion(key, 'grace'), encodeGraceCopy(value, storedAt), graceTtlMs]);
      }
    }
    for (const [key, value] of writes) this.#checkFits(key, value);
    for (const [key, value, ttlMs] of writes) this.#write(this.keyPrefix + key, value, ttlMs);
    return true;
  }

  readGrace(keys: readonly string[]): Array<GraceCopy | null> {
    return keys.map((key) => decodeGraceCopy(this.#lru.get(this.keyPrefix + this.#companion(key, 'grace'))));
  }

  lock(key: string, ttlMs: number): LockGrant | LockRefusal {
    // As in Redis: a value stored meanwhile leaves nothing to load and nothing to wait for.
    if (this.#lru.has(this.keyPrefix + key)) return { held: false, remainingMs: 0 };
    const lockKey = this.keyPrefix + this.#companion(key, 'lock');
    const remainingMs = this.#remainingMs(lockKey);
    if (remainingMs !== null) return { held: false, remainingMs };
    const token = randomUUID();
    this.#lru.set(lockKey, token, { ttl: ttlMs });
    // The fencing number outlives the lock, so a holder whose lock expired meets the newer number.
    const fenceKey = this.keyPrefix + this.#companion(key, 'fence');
    const fence = Number(this.#lru.get(fenceKey) ?? '0') + 1;
    this.#lru.set(fenceKey, String(fence), { ttl: ttlMs * FENCE_LIVES });
    return { held: true, token, fence };
  }

  unlock(key: string, grant: LockGrant): void {
    const lockKey = this.keyPrefix + this.#companion(key, 'lock');
    if (this.#lru.get(lockKey) === grant.token) this.#lru.delete(lockKey);
    // Waiters in other backends on this store look again (the holder may have failed and stored nothing).
    this.#announce(this.keyPrefix + key);
  }

  watch(key: string, onChange: () => void): (() => void) | null {
    return watchKey(this.changes, key, onChange);
  }

  /** Walks the keys under the prefix in this process: O(keys in the store), as `countKeys` is. */
  stats(): DriverStats {
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
    return {
      totalKeys,
      memoryUsageBytes,
      expiredKeys: this.#store.expiredKeys,
      evictedKeys: this.#store.evictedKeys,
      averageTtlSeconds: keysWithTtl === 0 ? null : ttlSumMs / keysWithTtl / 1000,
      mostAccessedKeys: this.#mostAccessed(),
    };
  }

  /** Walks the store's keys (those of other prefixes too) until `limit` of ours are counted. */
  countKeys(limit: number): KeyCount {
    this.#store.purgeExpired();
    let keys = 0;
    let keysWithTtl = 0;
    let ttlSumMs = 0;
    for (const fullKey of this.#lru.keys()) {
      if (!fullKey.startsWith(this.keyPrefix)) continue;
      if (keys === limit) return toKeyCount({ keys, keysWithTtl, ttlSumMs, complete: false });
      keys++;
      const remainingMs = this.#remainingMs(fullKey);
      if (remainingMs !== null) {
        keysWithTtl++;
        ttlSumMs += remainingMs;
      }
    }
    return toKeyCount({ keys, keysWithTtl, ttlSumMs, complete: true });
  }

  async close(): Promise<void> {
    this.#changes?.stop();
    // A store of our own goes with us; a shared one belongs to whoever made it.
    if (this.#ownsStore) this.#lru.clear();
  }

  classify(cause: unknown): DriverError {
    return new DriverError('BACKEND', `the memory store failed: ${errorMessage(cause)}`, cause);
  }

  #companion(key: string, role: 'grace' | 'lock' | 'fence'): string {
    return companionKey(this.keyPrefix, key, role).slice(this.keyPrefix.length);
  }

  #holdsNewestLock(key: string, grant: LockGrant): boolean {
    return this.#lru.get(this.keyPrefix + this.#companion(key, 'fence')) === String(grant.fence);
  }

  /** A lookup, recorded when access tracking is on. */
  #read(fullKey: string): string | undefined {
    const value = this.#lru.get(fullKey);
    if (value !== undefined && this.#store.activity) this.#store.recordRead(fullKey);
    return value;
  }

  #write(fullKey: string, value: string, ttlMs: number | undefined): void {
    this.#lru.set(fullKey, value, { ttl: ttlMs ?? 0 });
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

  /** `ttlStart`: when the key's TTL clock started (its write, or its last `expire`), if it has a TTL. */
  #entry(key: string, value: string, ttlStart: number | undefined): CacheEntry {
    const fullKey = this.keyPrefix + key;
    const remainingMs = this.#remainingMs(fullKey);
    const activity = this.#store.activity?.get(fullKey);
    return {
      key,
      value,
      ttl: remainingMs === null ? null : remainingMs / 1000,
      expiresAt: remainingMs === null ? null : this.#store.clock.now() + remainingMs,
      createdAt: activity?.createdAt ?? ttlStart ?? null,
      accessCount: activity?.accessCount ?? null,
      lastAccessedAt: activity?.lastAccessedAt ?? null,
      version: activity?.version ?? null,
    };
  }

  /** A value larger than the whole byte bound could never be stored; refuse it before touching anything. */
  #checkFits(key: string, value: string): void {
    const maxBytes = this.#lru.maxSize;
    if (maxBytes === 0) return;
    const bytes = entryBytes(value, this.keyPrefix + key);
    if (bytes > maxBytes) {
      throw new DriverError('CAPACITY', `entry takes ${bytes} bytes, more than maxBytes (${maxBytes})`);
    }
  }

  #remainingMs(fullKey: string): number | null {
    if (!this.#lru.has(fullKey)) return null;
    const remaining = this.#lru.getRemainingTTL(fullKey);
    return Number.isFinite(remaining) ? Math.max(0, Math.round(remaining)) : null;
  }

  /** Keys of this store under our prefix, collected first so deleting while walking is safe. */
  #ownKeys(): string[] {
    const own: string[] = [];
    for (const fullKey of this.#lru.keys()) {
      if (fullKey.startsWith(this.keyPrefix)) own.push(fullKey);
    }
    return own;
  }

  #mostAccessed(): DriverStats['mostAccessedKeys'] {
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
 * Creates the memory backend's driver, for a tiered cache's L1 or a front of your own (`createCache`). Most
 * users want `createMemoryBackend`.
 */
export function createMemoryDriver(
  options: MemoryDriverOptions = {},
): LocalDriver & { changes: MemoryChangeFeed } {
  return new MemoryDriver(options);
}
