import { Ok, type Result } from 'ts-results-es';
import type { OperationName } from './cache-backend.js';
import { DriverError, StaleCopy } from './driver.js';
import { publishOperation, type Tier } from './observability.js';

/** What a lookup answers for a driver's reply: the value of a {@link StaleCopy}, anything else as it is. */
export type Fresh<T> = T extends StaleCopy ? string : T;

const OK_NULL: Result<null, never> = new Ok(null);
const OK_NULL_ANSWER = Promise.resolve(OK_NULL);

/**
 * A cache's hits and misses: each lookup is counted here, and published on the observability seam when it was
 * observed (`started` is not 0).
 */
export class Lookups {
  readonly #backend: string;
  hits = 0;
  misses = 0;
  /** Answers given with a copy that may be out of date (see CacheStats.staleHits). */
  staleHits = 0;

  constructor(backend: string) {
    this.#backend = backend;
  }

  /** A miss nobody observes, answered with a shared Promise: the cheapest answer there is. */
  missedAnswer(): Promise<Result<null, never>> {
    this.misses++;
    return OK_NULL_ANSWER;
  }

  found<T>(value: T, operation: OperationName, key: string, tier: Tier, started: number): Result<T, never> {
    this.hits++;
    const result = new Ok(value);
    if (started !== 0) publishOperation(this.#backend, operation, key, 'hit', tier, 1, 0, undefined, started);
    return result;
  }

  /** A hit answered with a copy the driver holds while the truth cannot be asked. */
  foundStale(copy: StaleCopy, operation: OperationName, key: string, started: number): Result<string, never> {
    this.hits++;
    this.staleHits++;
    if (started !== 0)
      publishOperation(
        this.#backend,
        operation,
        key,
        'stale',
        copy.tier,
        1,
        0,
        undefined,
        started,
        copy.ageMs,
      );
    return new Ok(copy.value);
  }

  lookedUp<T>(
    value: T | null,
    operation: OperationName,
    key: string,
    tier: Tier,
    started: number,
  ): Result<Fresh<T> | null, never> {
    if (value instanceof StaleCopy) return this.foundStale(value, operation, key, started) as Ok<Fresh<T>>;
    if (value !== null) return this.found(value as Fresh<T>, operation, key, tier, started);
    this.misses++;
    if (started !== 0)
      publishOperation(this.#backend, operation, key, 'miss', 'none', 0, 1, undefined, started);
    return OK_NULL;
  }

  /**
   * getMany and getEntries: the driver's answers keyed by the distinct keys asked. A key the driver could not
   * read as a string (a DriverError in its place) is answered `null`, as Redis's MGET answers it.
   */
  byKey<T>(
    operation: OperationName,
    keys: readonly string[],
    values: ReadonlyArray<T | null | DriverError>,
    tier: Tier,
    started: number,
  ): Result<Map<string, Fresh<T> | null>, never> {
    const found = new Map<string, Fresh<T> | null>();
    let hits = 0;
    let stale = 0;
    for (let i = 0; i < keys.length; i++) {
      const answer = values[i] ?? null;
      let value: Fresh<T> | null;
      // Plain text first: what nearly every answer of a getMany is.
      if (typeof answer === 'string' || answer === null) value = answer as Fresh<T> | null;
      else if (answer instanceof DriverError) value = null;
      else if (answer instanceof StaleCopy) {
        stale++;
        value = answer.value as Fresh<T>;
      } else value = answer as Fresh<T>;
      if (value !== null) hits++;
      found.set(keys[i] as string, value);
    }
    const misses = keys.length - hits;
    this.hits += hits;
    this.misses += misses;
    this.staleHits += stale;
    if (started !== 0)
      publishOperation(this.#backend, operation, undefined, 'ok', tier, hits, misses, undefined, started);
    return new Ok(found);
  }
}
