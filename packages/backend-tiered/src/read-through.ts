import {
  type Awaitable,
  type CacheDriver,
  type CacheEntry,
  DriverError,
  type EntryReply,
  type LocalDriver,
  SingleFlight,
  type StaleCopy,
} from '@tiercache/core';
import type { Fill, FillGuard } from './fill-guard.js';
import type { StaleCopies } from './stale-copies.js';

/** What a {@link ReadThrough} needs from the tiered driver it serves. */
export interface ReadThroughSetup {
  l1: LocalDriver;
  l2: CacheDriver;
  fills: FillGuard;
  stale: StaleCopies;
  /** Reads answer a miss instead of an error when L2 cannot be reached (and no stale copy answers). */
  missOnFailure: boolean;
  /** Calls L2 through the breaker; fails with a DriverError. */
  callL2: <T>(call: () => Awaitable<T>) => Promise<T>;
  /** Keeps a copy in L1, for no longer than L2's TTL (ms; `null`: none) nor `l1Ttl`. */
  fillL1: (key: string, value: string, l2TtlMs: number | null) => void;
  /** Whether L1 is untrusted just now: the change feed was lost, so its copies may have missed changes. */
  untrusted: () => boolean;
}

/**
 * The reads L1 could not answer: read L2, value and TTL together, and keep a copy in L1 unless the key changed
 * meanwhile (the {@link FillGuard} decides). Concurrent misses on one key share one L2 read. When L2 cannot be
 * asked, a copy L1 still holds answers as a {@link StaleCopy} if `staleIfError` allows it ({@link StaleCopies}).
 */
export class ReadThrough {
  readonly #setup: ReadThroughSetup;
  readonly #reads = new SingleFlight<string | StaleCopy | null>();
  /** Reads L2 answered with a value, reads that found nothing, reads answered with a stale L1 copy. */
  l2Hits = 0;
  misses = 0;
  staleHits = 0;

  constructor(setup: ReadThroughSetup) {
    this.#setup = setup;
  }

  /** Replies in flight for `key` will not answer the reads that start from now on. */
  forget(key: string): void {
    this.#reads.forget(key);
  }

  /** `forget` for every key. */
  forgetAll(): void {
    this.#reads.forgetAll();
  }

  /** Whether a failed read answers as a miss: L2 could not be reached and the cache was told to go on. */
  answersMiss(error: unknown): boolean {
    return this.#setup.missOnFailure && error instanceof DriverError && error.transient;
  }

  one(key: string): Promise<string | StaleCopy | null> {
    return this.#reads.run(key, async () => {
      const { fills, l2, callL2 } = this.#setup;
      const fill = fills.begin(key);
      let entry: EntryReply;
      try {
        [entry = null] = await callL2(() => l2.getEntries([key]));
      } catch (error) {
        fills.abandon(fill);
        return this.#failedOne(key, error);
      }
      if (entry instanceof DriverError) {
        // A key of another type in L2: a `get` of it fails as L2's own `get` would.
        this.#settle(fill, null);
        throw entry;
      }
      this.#settle(fill, entry);
      if (entry === null) {
        this.misses++;
        return null;
      }
      this.l2Hits++;
      return entry.value;
    });
  }

  /** getMany's L1 misses (the keys at `missing` in `keys`), all in one L2 batch, filling L1 as `one` does. */
  async many(
    keys: readonly string[],
    values: Array<string | StaleCopy | null>,
    missing: number[],
  ): Promise<Array<string | StaleCopy | null>> {
    const { fills, l2, callL2 } = this.#setup;
    const asked = missing.map((i) => keys[i] as string);
    const begun = asked.map((key) => fills.begin(key));
    let entries: EntryReply[];
    try {
      entries = await callL2(() => l2.getEntries(asked));
    } catch (error) {
      for (const fill of begun) fills.abandon(fill);
      return this.#failedMany(asked, values, missing, error);
    }
    for (const [n, fill] of begun.entries()) {
      // A key of another type in L2 is a miss here, as MGET answers it.
      const reply = entries[n] ?? null;
      const entry = reply instanceof DriverError ? null : reply;
      values[missing[n] as number] = entry?.value ?? null;
      this.#settle(fill, entry);
      if (entry === null) this.misses++;
      else this.l2Hits++;
    }
    return values;
  }

  /** L2 could not answer `key`: its stale copy, else a miss or the error, as the options say. */
  #failedOne(key: string, error: unknown): StaleCopy | null {
    const { stale } = this.#setup;
    const copy = stale.covers(error) ? stale.copyOf(key) : null;
    if (copy) {
      this.staleHits++;
      return copy;
    }
    if (!this.answersMiss(error)) throw error;
    this.misses++;
    return null;
  }

  /**
   * L2 could not answer a batch: each key its stale copy. A key without one is a miss if the options say so;
   * otherwise the batch fails, since a `null` would claim the key is absent.
   */
  #failedMany(
    asked: readonly string[],
    values: Array<string | StaleCopy | null>,
    missing: number[],
    error: unknown,
  ): Array<string | StaleCopy | null> {
    const { stale } = this.#setup;
    const copies = stale.covers(error) ? stale.copiesOf(asked) : asked.map(() => null);
    const found = copies.filter((copy) => copy !== null).length;
    if (found < asked.length && !this.answersMiss(error)) throw error;
    this.staleHits += found;
    this.misses += asked.length - found;
    for (const [n, copy] of copies.entries()) values[missing[n] as number] = copy;
    return values;
  }

  /**
   * The read of `fill` is over, with `entry` from L2 (`null`: nothing readable). It goes into L1 if the guard
   * allows. While L1 is untrusted nothing goes in, and a copy L2 now contradicts is dropped: it must not be
   * answered later as a stale copy of a value this process has seen replaced.
   */
  #settle(fill: Fill, entry: CacheEntry | null): void {
    const { fills, fillL1, l1, untrusted } = this.#setup;
    if (entry === null) fills.abandon(fill);
    else if (fills.commit(fill)) {
      fillL1(fill.key, entry.value, ttlMsOf(entry));
      return;
    }
    if (untrusted() && l1.get(fill.key) !== (entry?.value ?? null)) l1.delete(fill.key);
  }
}

function ttlMsOf(entry: CacheEntry): number | null {
  return entry.ttl === null ? null : entry.ttl * 1000;
}
