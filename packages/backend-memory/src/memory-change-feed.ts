import type { CacheResult, ChangeEvent, ChangeFeed, KeyChange } from '@tiercache/core';
import { Ok } from 'ts-results-es';
import type { MemoryStore, StoreWatcher } from './memory-store.js';

/**
 * The changes other backends on the same store make to keys under this backend's prefix, plus expiry and
 * eviction: what Redis's key tracking reports to a client. Writes by the owning backend itself are not
 * reported, as with Redis's NOLOOP. A store hears everything, so the feed is always armed.
 */
export class MemoryChangeFeed implements ChangeFeed {
  readonly armed = true;
  readonly #store: MemoryStore;
  readonly #prefix: string;
  readonly #owner: object;
  readonly #listeners = new Set<(event: ChangeEvent) => void>();
  readonly #watcher: StoreWatcher = (key, actor) => {
    if (actor === this.#owner || !key.startsWith(this.#prefix)) return;
    const event: ChangeEvent = { type: 'keys', keys: [key.slice(this.#prefix.length)] };
    // Delivered after the store operation has finished, as a network feed would, so a listener never runs
    // inside lru-cache's own bookkeeping.
    queueMicrotask(() => {
      for (const listener of this.#listeners) listener(event);
    });
  };

  constructor(store: MemoryStore, prefix: string, owner: object) {
    this.#store = store;
    this.#prefix = prefix;
    this.#owner = owner;
  }

  subscribe(listener: (event: ChangeEvent) => void): () => void {
    this.#listeners.add(listener);
    this.#store.watchers.add(this.#watcher);
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#store.watchers.delete(this.#watcher);
    };
  }

  /** Every backend on the store already hears each change through the store itself: nothing to send. */
  announce(_change: KeyChange): CacheResult<void> {
    return Promise.resolve(new Ok(undefined));
  }

  /** Stops reporting, when the owning backend closes. */
  stop(): void {
    this.#listeners.clear();
    this.#store.watchers.delete(this.#watcher);
  }
}
