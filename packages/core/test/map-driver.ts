import type { CacheEntry, KeyCount } from '../src/cache-backend.js';
import { companionKey, decodeGraceCopy, encodeGraceCopy } from '../src/companion-keys.js';
import {
  DriverError,
  type DriverStats,
  type GraceCopy,
  type LoadedEntry,
  type LocalDriver,
  type LockGrant,
} from '../src/driver.js';
import { compileKeyPattern } from '../src/key-pattern.js';

/* A driver for core's own tests: core cannot depend on a backend package. */

export const NAME = 'observed';

/** The least driver there is: keys and values in a Map, every call answered at once. */
export class MapDriver implements LocalDriver {
  readonly name: string = NAME;
  readonly keyPrefix = '';
  readonly local = true;
  readonly changes = null;
  readonly data = new Map<string, string>();
  #fence = 0;
  readonly peek = (key: string): string | undefined => this.data.get(key);

  get(key: string): string | null {
    return this.data.get(key) ?? null;
  }
  getMany(keys: readonly string[]): Array<string | null> {
    return keys.map((key) => this.get(key));
  }
  getEntries(keys: readonly string[]): Array<CacheEntry | null> {
    return keys.map((key) => {
      const value = this.data.get(key);
      if (value === undefined) return null;
      return {
        key,
        value,
        ttl: null,
        expiresAt: null,
        createdAt: null,
        accessCount: null,
        lastAccessedAt: null,
        version: null,
      };
    });
  }
  set(key: string, value: string): void {
    this.data.set(key, value);
  }
  setMany(entries: ReadonlyArray<readonly [string, string]>): void {
    for (const [key, value] of entries) this.data.set(key, value);
  }
  delete(key: string): boolean {
    return this.data.delete(key);
  }
  exists(key: string): boolean {
    return this.data.has(key);
  }
  expire(key: string): boolean {
    return this.data.has(key);
  }
  ttl(): number | null {
    return null;
  }
  increment(key: string, delta: number): number {
    const next = Number(this.data.get(key) ?? '0') + delta;
    this.data.set(key, String(next));
    return next;
  }
  deletePattern(pattern: string): number {
    const matches = compileKeyPattern(pattern);
    let deleted = 0;
    for (const key of [...this.data.keys()]) if (matches(key) && this.data.delete(key)) deleted++;
    return deleted;
  }
  flush(): void {
    this.data.clear();
  }
  ping(): void {}
  /** Grace copies beside the values, under their companion names; locks are always granted (one process). */
  storeLoaded(entries: readonly LoadedEntry[]): boolean {
    for (const { key, value, graceMs } of entries) {
      this.data.set(key, value);
      if (graceMs > 0) this.data.set(companionKey('', key, 'grace'), encodeGraceCopy(value, Date.now()));
    }
    return true;
  }
  readGrace(keys: readonly string[]): Array<GraceCopy | null> {
    return keys.map((key) => decodeGraceCopy(this.data.get(companionKey('', key, 'grace'))));
  }
  lock(): LockGrant {
    return { held: true, token: 'only', fence: ++this.#fence };
  }
  unlock(): void {}
  watch(): null {
    return null;
  }
  stats(): DriverStats {
    return {
      totalKeys: this.data.size,
      memoryUsageBytes: 0,
      expiredKeys: 0,
      evictedKeys: 0,
      averageTtlSeconds: null,
      mostAccessedKeys: [],
    };
  }
  countKeys(limit: number): KeyCount {
    const keys = Math.min(limit, this.data.size);
    return { keys, keysWithTtl: 0, averageTtlSeconds: null, complete: keys === this.data.size };
  }
  async close(): Promise<void> {}
  classify(cause: unknown): DriverError {
    return new DriverError('BACKEND', String(cause), cause);
  }
}
