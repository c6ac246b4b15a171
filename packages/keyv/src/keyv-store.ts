import { EventEmitter } from 'node:events';
import { type CacheBackend, type CacheError, escapeKeyPattern } from '@tiercache/core';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import { EXPIRED, fromKeyvTtl } from './keyv-ttl.js';
import { decodeStoredValue, encodeStoredValue } from './stored-value.js';

/** Options of {@link createKeyvStore}. */
export interface KeyvStoreOptions {
  /**
   * Whether `disconnect()` (Keyv's, and so cache-manager's) closes the backend. Several Keyv instances — one per
   * namespace, say — often share one backend, so by default the code that created the backend closes it.
   * @default false
   */
  closeBackend?: boolean;
}

/** What the store tells Keyv about itself (`keyv.opts.store.opts`). */
export interface TiercacheKeyvStoreOpts {
  dialect: 'tiercache';
  /** The backend's name: `memory`, `redis`, `tiered`. */
  backend: string;
  /** The backend's own key prefix, outside any namespace. */
  keyPrefix: string;
  closeBackend: boolean;
}

/** One entry of Keyv's `setMany`: a key, its value as Keyv hands it over, and a TTL in milliseconds. */
export interface KeyvStoreEntry {
  key: string;
  value: unknown;
  ttl?: number | undefined;
}

/**
 * A Keyv storage adapter over a tiercache backend. Every method resolves, never rejects: a tiercache `Err` is
 * emitted as an `error` event (Keyv re-emits it on itself) and the call answers as a miss, `false`, or nothing.
 */
export interface TiercacheKeyvStore extends KeyvStoreAdapter {
  /** The backend this store reads and writes. */
  readonly backend: CacheBackend;
  opts: TiercacheKeyvStoreOpts;
  /** Set by Keyv to its own namespace. Keys are stored as `namespace:key`; `clear()` stays inside it. */
  namespace?: string | undefined;
  /** The value Keyv stored, or `undefined` on a miss or a failure. */
  get<Value>(key: string): Promise<StoredData<Value> | undefined>;
  /** Values in the order asked; `undefined` for a miss, and for every key on a failure. */
  getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>>;
  /** `true` once stored (or, for a TTL already run out, deleted); `false` on a failure. */
  set(key: string, value: unknown, ttl?: number): Promise<boolean>;
  /**
   * Writes every entry, each with its own TTL, as `set` would. Resolves to nothing, as Keyv's contract says;
   * a failure is an `error` event.
   */
  setMany(entries: KeyvStoreEntry[]): Promise<void>;
  /** `true` if the key was there; `false` if not, or on a failure. */
  delete(key: string): Promise<boolean>;
  /** `true` if any of the keys was there. */
  deleteMany(keys: string[]): Promise<boolean>;
  /** Removes every key of this namespace, or, without a namespace, every key under the backend's prefix. */
  clear(): Promise<void>;
  has(key: string): Promise<boolean>;
  hasMany(keys: string[]): Promise<boolean[]>;
  /** Closes the backend when `closeBackend` is set; otherwise does nothing. */
  disconnect(): Promise<void>;
}

/**
 * A Keyv storage adapter over any tiercache backend: memory, Redis, or a tiered L1 over Redis.
 *
 * @example
 * const cache = createTieredBackend({ l2: createRedisBackend({ url }) });
 * const keyv = new Keyv({ store: createKeyvStore(cache), namespace: 'users' });
 */
export function createKeyvStore(backend: CacheBackend, options: KeyvStoreOptions = {}): TiercacheKeyvStore {
  return new KeyvStore(backend, options.closeBackend ?? false);
}

class KeyvStore extends EventEmitter implements TiercacheKeyvStore {
  readonly backend: CacheBackend;
  opts: TiercacheKeyvStoreOpts;
  namespace?: string | undefined;

  constructor(backend: CacheBackend, closeBackend: boolean) {
    super();
    this.backend = backend;
    this.opts = { dialect: 'tiercache', backend: backend.name, keyPrefix: backend.keyPrefix, closeBackend };
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    const storeKey = this.storeKey(key);
    const found = await this.backend.get(storeKey);
    if (found.isErr()) return this.fail(found.error, undefined);
    return found.value === null ? undefined : this.decode(storeKey, found.value);
  }

  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    if (keys.length === 0) return [];
    const storeKeys = keys.map((key) => this.storeKey(key));
    const found = await this.backend.getMany(storeKeys);
    if (found.isErr())
      return this.fail(
        found.error,
        keys.map(() => undefined),
      );
    return storeKeys.map((storeKey) => {
      const stored = found.value.get(storeKey);
      return stored === null || stored === undefined ? undefined : this.decode(storeKey, stored);
    });
  }

  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    const storeKey = this.storeKey(key);
    const seconds = fromKeyvTtl(ttl);
    if (seconds === EXPIRED) return this.remove(storeKey);
    const encoded = encodeStoredValue(this.backend.name, storeKey, value);
    if (encoded.isErr()) return this.fail(encoded.error, false);
    const written = await this.backend.set(storeKey, encoded.value, seconds);
    return written.isOk() || this.fail(written.error, false);
  }

  async setMany(entries: KeyvStoreEntry[]): Promise<void> {
    // tiercache's setMany takes one TTL for all its entries: one call per distinct TTL. A key given twice keeps
    // its last entry, as writing the entries one by one would.
    const lastEntries = new Map<string, KeyvStoreEntry>();
    for (const entry of entries) lastEntries.set(this.storeKey(entry.key), entry);
    const byTtl = new Map<number | undefined, Map<string, string>>();
    const expired: string[] = [];
    for (const [storeKey, entry] of lastEntries) {
      const seconds = fromKeyvTtl(entry.ttl);
      if (seconds === EXPIRED) {
        expired.push(storeKey);
        continue;
      }
      const encoded = encodeStoredValue(this.backend.name, storeKey, entry.value);
      if (encoded.isErr()) {
        this.fail(encoded.error, undefined);
        continue;
      }
      const group = byTtl.get(seconds) ?? new Map<string, string>();
      byTtl.set(seconds, group.set(storeKey, encoded.value));
    }
    await Promise.all([
      ...expired.map(async (storeKey) => this.remove(storeKey)),
      ...[...byTtl].map(async ([seconds, group]) => {
        const written = await this.backend.setMany(group, seconds);
        if (written.isErr()) this.fail(written.error, undefined);
      }),
    ]);
  }

  async delete(key: string): Promise<boolean> {
    const deleted = await this.backend.delete(this.storeKey(key));
    return deleted.isOk() ? deleted.value : this.fail(deleted.error, false);
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    const deleted = await Promise.all(keys.map(async (key) => this.delete(key)));
    return deleted.includes(true);
  }

  async clear(): Promise<void> {
    const cleared = this.namespace
      ? await this.backend.deletePattern(`${escapeKeyPattern(this.namespacePrefix())}*`)
      : await this.backend.flush();
    if (cleared.isErr()) this.fail(cleared.error, undefined);
  }

  async has(key: string): Promise<boolean> {
    const found = await this.backend.exists(this.storeKey(key));
    return found.isOk() ? found.value : this.fail(found.error, false);
  }

  async hasMany(keys: string[]): Promise<boolean[]> {
    return Promise.all(keys.map(async (key) => this.has(key)));
  }

  async disconnect(): Promise<void> {
    if (!this.opts.closeBackend) return;
    const closed = await this.backend.close();
    if (closed.isErr()) this.fail(closed.error, undefined);
  }

  /**
   * The tiercache key of a Keyv key. Keyv (with its default `useKeyPrefix`) already hands over `namespace:key`;
   * the store adds the prefix only where it is missing, so every key of a namespace starts with it — which is
   * what lets `clear()` delete exactly its namespace — and Keyv's own keys are stored as Keyv names them.
   */
  private storeKey(key: string): string {
    // A key that is not a string (Keyv passes one through when it adds no prefix) goes to the backend as it is,
    // which answers INVALID_ARGUMENT: an error event, not a TypeError here.
    if (!this.namespace || typeof key !== 'string') return key;
    const prefix = this.namespacePrefix();
    return key.startsWith(prefix) ? key : prefix + key;
  }

  private namespacePrefix(): string {
    return `${this.namespace}:`;
  }

  private async remove(storeKey: string): Promise<boolean> {
    const deleted = await this.backend.delete(storeKey);
    return deleted.isOk() || this.fail(deleted.error, false);
  }

  // biome-ignore lint/suspicious/noExplicitAny: Keyv's StoredData<Value> is whatever Keyv stored; we cannot know Value.
  private decode(storeKey: string, stored: string): any {
    const decoded = decodeStoredValue(this.backend.name, storeKey, stored);
    return decoded.isOk() ? decoded.value : this.fail(decoded.error, undefined);
  }

  /**
   * Emits the error as Keyv's adapters do, and answers `answer`. Only where someone listens: an `error` event
   * without a listener would make Node's EventEmitter throw, and the store never throws. Keyv listens.
   */
  private fail<T>(error: CacheError, answer: T): T {
    if (this.listenerCount('error') > 0) this.emit('error', error);
    return answer;
  }
}
