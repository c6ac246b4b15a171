import { Err, Ok, type Result } from 'ts-results-es';
import type { CacheResult, OperationName } from './cache-backend.js';
import type { CacheError } from './cache-error.js';
import { type Awaitable, type CacheDriver, type StaleCopy, toCacheError } from './driver.js';
import type { Lookups } from './lookups.js';
import { publishOperation, type Tier } from './observability.js';

const OK_VOID: Result<void, never> = new Ok(undefined);

/**
 * How the front calls its driver: every answer, given at once or later, thrown or rejected, becomes a Result,
 * and is published on the observability seam when the call is observed (`started` is not 0).
 *
 * The closures that wait for a later answer are made in methods of their own: a function that makes a closure
 * over its variables allocates their context on every call, even when it returns before making it, and the
 * synchronous answers of a local driver should not pay for that.
 */
export class DriverCalls {
  readonly #driver: CacheDriver;
  readonly #lookups: Lookups;

  constructor(driver: CacheDriver, lookups: Lookups) {
    this.#driver = driver;
    this.#lookups = lookups;
  }

  /**
   * Calls the driver. `convert` shapes a plain answer (one that answers nothing drops what the store replied);
   * `lookup` counts and observes a lookup itself, told `l1` for an answer given at once and `l2` for a later one.
   */
  call<T, U = T>(
    operation: OperationName,
    key: string | undefined,
    started: number,
    invoke: () => Awaitable<T>,
    convert?: ((reply: T) => U) | undefined,
    lookup?: (reply: T, tier: Tier) => Result<U, CacheError>,
  ): CacheResult<U> {
    let reply: Awaitable<T>;
    try {
      reply = invoke();
    } catch (cause) {
      return Promise.resolve(this.failed(cause, operation, key, started));
    }
    if (!(reply instanceof Promise)) {
      return Promise.resolve(this.#settle(reply, 'l1', operation, key, started, convert, lookup));
    }
    return this.#later(reply, operation, key, started, convert, lookup);
  }

  /** A lookup of one key that the driver answers later. */
  lookUpLater(
    answer: Promise<string | StaleCopy | null>,
    operation: OperationName,
    key: string,
    started: number,
  ): CacheResult<string | null> {
    return answer.then(
      (value) => this.#lookups.lookedUp(value, operation, key, 'l2', started),
      (cause) => this.failed(cause, operation, key, started),
    );
  }

  /** A call refused before it reached the driver. */
  refused(error: CacheError, started: number): Promise<Err<CacheError>> {
    if (started !== 0) {
      const { backend, operation, key, code } = error;
      publishOperation(backend, operation, key, 'error', undefined, 0, 0, code, started);
    }
    return Promise.resolve(new Err(error));
  }

  /** A driver failure, as the error the caller gets. */
  failed(
    cause: unknown,
    operation: OperationName,
    key: string | undefined,
    started: number,
  ): Err<CacheError> {
    const error = toCacheError(this.#driver, cause, operation, key);
    if (started !== 0)
      publishOperation(error.backend, operation, key, 'error', undefined, 0, 0, error.code, started);
    return new Err(error);
  }

  #later<T, U>(
    reply: Promise<T>,
    operation: OperationName,
    key: string | undefined,
    started: number,
    convert: ((reply: T) => U) | undefined,
    lookup: ((reply: T, tier: Tier) => Result<U, CacheError>) | undefined,
  ): CacheResult<U> {
    return reply.then(
      (value) => this.#settle(value, 'l2', operation, key, started, convert, lookup),
      (cause) => this.failed(cause, operation, key, started),
    );
  }

  #settle<T, U>(
    value: T,
    tier: Tier,
    operation: OperationName,
    key: string | undefined,
    started: number,
    convert: ((reply: T) => U) | undefined,
    lookup: ((reply: T, tier: Tier) => Result<U, CacheError>) | undefined,
  ): Result<U, CacheError> {
    if (lookup) return lookup(value, tier);
    const shaped = convert ? convert(value) : (value as unknown as U);
    if (started !== 0) {
      publishOperation(this.#driver.name, operation, key, 'ok', undefined, 0, 0, undefined, started);
    }
    return shaped === undefined ? (OK_VOID as Result<U, never>) : new Ok(shaped);
  }
}
