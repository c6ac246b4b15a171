import { type CacheEntry, DriverError, type LocalDriver, StaleCopy } from '@tiercache/core';

/**
 * Stale-if-error for reads: the copies L1 still holds, answered when L2 cannot be asked (it timed out, the
 * connection is down, or the breaker refused) and only then, if they are younger than `maxAgeMs`. With L2
 * reachable the tiered driver never asks here: a copy that may be stale is not served while the truth can be.
 *
 * A copy's age is the time since it went into L1 (read from L2, or written through this process), measured on
 * L1's own clock: the memory driver reports when each key's TTL clock started (`createdAt`) and, through
 * `expiresAt` and `ttl`, what its clock reads now. Every copy the tiered driver keeps has a TTL. An L1 that
 * reports no `createdAt` gets the upper bound `l1Ttl` minus the time left, which is never younger than the truth.
 */
export class StaleCopies {
  readonly #l1: LocalDriver;
  readonly #maxAgeMs: number;
  readonly #l1TtlMs: number;
  /** `maxAgeMs`: 0 answers none (strict). */
  constructor(l1: LocalDriver, maxAgeMs: number, l1TtlMs: number) {
    this.#l1 = l1;
    this.#maxAgeMs = maxAgeMs;
    this.#l1TtlMs = l1TtlMs;
  }

  /** Whether stale copies may be answered at all (`staleIfError` > 0). */
  get enabled(): boolean {
    return this.#maxAgeMs > 0;
  }

  /** Whether `error`, a failed L2 read, is one a stale copy may answer for: L2 could not be asked. */
  covers(error: unknown): boolean {
    return this.#maxAgeMs > 0 && error instanceof DriverError && error.transient;
  }

  /** The copy of `key` young enough to answer, or `null`. */
  copyOf(key: string): StaleCopy | null {
    return this.copiesOf([key])[0] ?? null;
  }

  /** The copy of each key young enough to answer, or `null` for it, in the order asked. */
  copiesOf(keys: readonly string[]): Array<StaleCopy | null> {
    return this.#l1.getEntries(keys).map((entry) => {
      if (entry === null || entry instanceof DriverError) return null;
      const ageMs = this.#ageMs(entry);
      return ageMs === undefined || ageMs >= this.#maxAgeMs ? null : new StaleCopy(entry.value, ageMs, 'l1');
    });
  }

  #ageMs(entry: CacheEntry): number | undefined {
    if (entry.expiresAt === null || entry.ttl === null) return undefined;
    const remainingMs = Math.round(entry.ttl * 1000);
    if (entry.createdAt === null) return Math.max(0, this.#l1TtlMs - remainingMs);
    return Math.max(0, entry.expiresAt - remainingMs - entry.createdAt);
  }
}
