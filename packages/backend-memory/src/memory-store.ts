import type { Clock, KeyChange } from '@tiercache/core';
import { LRUCache } from 'lru-cache';

export interface MemoryStoreOptions {
  /**
   * Most keys kept. When full, the least recently used key is evicted, as Redis does with an LRU policy.
   * lru-cache reserves a slot table of this size up front (about 8 bytes a slot, 24 with TTLs).
   * @default 10_000
   */
  maxEntries?: number;
  /** Most bytes kept, counting the UTF-8 bytes of keys and values. @default no byte bound */
  maxBytes?: number;
  /**
   * Where time comes from. Pass `createManualClock()` in tests to expire keys without sleeping.
   * @default the system clock
   */
  clock?: Clock;
  /**
   * Record, per key, when it was written, a write version, and how often and when it was read; this feeds
   * `getEntry` and `stats().mostAccessedKeys`. Off by default because it costs memory per key and time per hit.
   * Without it, `getEntry` still gives the `createdAt` of a key with a TTL, from the TTL's own clock: when the
   * key was written, or last given a TTL by `expire`.
   * @default false
   */
  trackAccess?: boolean;
}

/** @internal */
export type StoreWatcher = (key: string, actor: object | undefined) => void;

/** @internal A change feed listening for what the backends of its prefix `announce`, except its own backend. */
export interface StoreHearer {
  readonly prefix: string;
  /** The backend the feed belongs to: what it announces is not told back to it. */
  readonly origin: object;
  hear(change: KeyChange): void;
}

/** @internal What `trackAccess` records for one key. */
export interface KeyActivity {
  createdAt: number;
  version: number;
  accessCount: number;
  lastAccessedAt: number | null;
}

const DEFAULT_MAX_ENTRIES = 10_000;
/** Reads of the default clock served from one wall-clock reading, at most. */
const READS_PER_CLOCK_READING = 64;

/**
 * The wall clock, as Redis uses for expiry, read afresh after 64 reads or on the next event-loop turn,
 * whichever comes first. Every read of a key with a TTL asks for the time, and reading the wall clock is a
 * fifth of an L1 hit's cost on a VM; this keeps expiry within a few microseconds of a busy loop's time, or
 * one event-loop turn when idle. (lru-cache's own debounce waits for a timer only, which a loop of awaits
 * never lets run.)
 */
function createSystemClock(): Clock {
  let reading = 0;
  let reads = 0;
  let timerPending = false;
  const expire = () => {
    reading = 0;
    timerPending = false;
  };
  return {
    now() {
      if (reading !== 0 && ++reads < READS_PER_CLOCK_READING) return reading;
      reading = Date.now();
      reads = 0;
      if (!timerPending) {
        timerPending = true;
        setTimeout(expire, 1).unref();
      }
      return reading;
    },
  };
}

/**
 * Where the memory backend keeps its keys: the stand-in for a Redis server. Several backends, each with its
 * own `keyPrefix`, can share one store, exactly as several clients share one Redis. Make one with
 * {@link createMemoryStore}; its members are internal.
 */
export class MemoryStore {
  /** @internal */
  readonly lru: LRUCache<string, string>;
  /** @internal */
  readonly clock: Clock;
  /** @internal Present when `trackAccess` is on. */
  readonly activity: Map<string, KeyActivity> | undefined;
  /** @internal Told of every key that changes or goes away, with the backend that did it (none for expiry). */
  readonly watchers = new Set<StoreWatcher>();
  /** @internal Told of what backends announce, as the feeds of one prefix on Redis hear it on their channel. */
  readonly hearers = new Set<StoreHearer>();
  /** @internal The backend whose call is running, so removals lru-cache reports can be attributed to it. */
  actor: object | undefined;
  /** @internal */
  evictedKeys = 0;
  /** @internal */
  expiredKeys = 0;
  #lastVersion = 0;

  /** @internal Use {@link createMemoryStore}. */
  constructor(options: MemoryStoreOptions) {
    const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    const { maxBytes, clock, trackAccess = false } = options;
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(
        `[tiercache:memory] maxEntries must be a positive integer, got ${String(maxEntries)}`,
      );
    }
    if (maxBytes !== undefined && (!Number.isSafeInteger(maxBytes) || maxBytes < 1)) {
      throw new RangeError(
        `[tiercache:memory] maxBytes must be a positive integer (bytes of keys and values), got ${String(maxBytes)}; omit it for no byte bound`,
      );
    }
    if (clock !== undefined && typeof clock?.now !== 'function') {
      throw new TypeError('[tiercache:memory] clock must have a now() method returning epoch milliseconds');
    }
    this.clock = clock ?? createSystemClock();
    this.activity = trackAccess ? new Map() : undefined;
    const activity = this.activity;
    this.lru = new LRUCache<string, string>({
      max: maxEntries,
      ...(maxBytes === undefined ? {} : { maxSize: maxBytes, sizeCalculation: entryBytes }),
      // The clock is read on every TTL check. lru-cache would otherwise cache "now" until a timer fires, which
      // under load is tens of milliseconds late (a key could outlive its TTL), and a test that advances a
      // manual clock would still see the old time. Keys without a TTL never read the clock.
      perf: this.clock,
      ttlResolution: 0,
      dispose: (_value, key, reason) => {
        if (reason === 'evict') this.evictedKeys++;
        else if (reason === 'expire') this.expiredKeys++;
        // On 'set' the writer records the new activity, and tells the watchers, itself right after.
        if (reason === 'set') return;
        if (activity) activity.delete(key);
        if (this.watchers.size > 0) this.changed(key, reason === 'delete' ? this.actor : undefined);
      },
    });
  }

  /** @internal Tells the watchers that `key` changed or went away; `actor` is the backend that did it. */
  changed(key: string, actor: object | undefined): void {
    for (const watcher of this.watchers) watcher(key, actor);
  }

  /** @internal Tells the feeds of `prefix`, except the announcer's own, about a change it announces. */
  announce(prefix: string, change: KeyChange, origin: object): void {
    for (const hearer of this.hearers) {
      if (hearer.prefix === prefix && hearer.origin !== origin) hearer.hear(change);
    }
  }

  /** @internal Records a write when access tracking is on. */
  recordWrite(key: string): void {
    this.activity?.set(key, {
      createdAt: this.clock.now(),
      version: ++this.#lastVersion,
      accessCount: 0,
      lastAccessedAt: null,
    });
  }

  /** @internal Records a read of a key that was found. */
  recordRead(key: string): void {
    const record = this.activity?.get(key);
    if (record) {
      record.accessCount++;
      record.lastAccessedAt = this.clock.now();
    }
  }

  /** @internal Removes keys whose TTL ran out, so counts read right after are exact. */
  purgeExpired(): void {
    this.lru.purgeStale();
  }
}

/** The bytes a key and its value take, as counted against `maxBytes`. */
export function entryBytes(value: string, key: string): number {
  return Buffer.byteLength(key, 'utf8') + Buffer.byteLength(value, 'utf8');
}

/**
 * Creates a store that several memory backends can share, each under its own `keyPrefix`.
 *
 * @example
 * const store = createMemoryStore({ maxEntries: 50_000, clock });
 * const users = createMemoryBackend({ store, keyPrefix: 'users:' });
 * const sessions = createMemoryBackend({ store, keyPrefix: 'sessions:' });
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  return new MemoryStore(options);
}
