import {
  CacheError,
  type CacheResult,
  type ChangeEvent,
  type ChangeFeed,
  closedError,
  type KeyChange,
  type OperationName,
  readKeyChange,
} from '@tiercache/core';
import { Err, Ok } from 'ts-results-es';
import type { MemoryStore, StoreHearer, StoreWatcher } from './memory-store.js';

const NAME = 'memory';
const ANNOUNCE: OperationName = 'announce';

/**
 * The changes other backends on the same store make to keys under this backend's prefix, plus expiry and
 * eviction: what Redis's key tracking reports to a client. Writes by the owning backend itself are not
 * reported, as with Redis's NOLOOP. What other backends of the same prefix `announce` is reported too, as the
 * Redis feed's channel does. A store hears everything, so the feed is always armed.
 */
export class MemoryChangeFeed implements ChangeFeed {
  readonly armed = true;
  readonly hears = 'all';
  readonly #store: MemoryStore;
  readonly #prefix: string;
  readonly #owner: object;
  readonly #listeners = new Set<(event: ChangeEvent) => void>();
  #stopped = false;
  readonly #watcher: StoreWatcher = (key, actor) => {
    if (actor === this.#owner || !key.startsWith(this.#prefix)) return;
    this.#deliver({ type: 'keys', keys: [key.slice(this.#prefix.length)] });
  };
  readonly #hearer: StoreHearer;

  constructor(store: MemoryStore, prefix: string, owner: object) {
    this.#store = store;
    this.#prefix = prefix;
    this.#owner = owner;
    this.#hearer = { prefix, origin: owner, hear: (change) => this.#deliver(change) };
  }

  subscribe(listener: (event: ChangeEvent) => void): () => void {
    if (this.#stopped || typeof listener !== 'function') return () => {};
    this.#listeners.add(listener);
    this.#store.watchers.add(this.#watcher);
    this.#store.hearers.add(this.#hearer);
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#unwatch();
    };
  }

  /** Tells the feeds of the other backends of this prefix on the store; not this one's own listeners. */
  announce(change: KeyChange): CacheResult<void> {
    if (this.#stopped) return Promise.resolve(new Err(closedError(NAME, ANNOUNCE)));
    const copy = readKeyChange(NAME, change);
    if (copy instanceof CacheError) return Promise.resolve(new Err(copy));
    if (copy.type !== 'keys' || copy.keys.length > 0) this.#store.announce(this.#prefix, copy, this.#owner);
    return Promise.resolve(new Ok(undefined));
  }

  /** Stops reporting, when the owning backend closes. */
  stop(): void {
    this.#stopped = true;
    this.#listeners.clear();
    this.#unwatch();
  }

  #unwatch(): void {
    this.#store.watchers.delete(this.#watcher);
    this.#store.hearers.delete(this.#hearer);
  }

  /**
   * Delivered after the store operation has finished, as a network feed would, so a listener never runs inside
   * lru-cache's own bookkeeping. A listener that throws stops neither the others nor the feed.
   */
  #deliver(event: ChangeEvent): void {
    queueMicrotask(() => {
      for (const listener of [...this.#listeners]) {
        try {
          listener(event);
        } catch {
          // Nothing to tell: the feed goes on for the other listeners.
        }
      }
    });
  }
}
