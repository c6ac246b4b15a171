import { Err, Ok, type Result } from 'ts-results-es';
import { describe } from './arguments.js';
import { CacheError, errorMessage } from './cache-error.js';

/**
 * Calls a getOrSet loader and turns whatever it does into a Result: a thrown error, a rejection or a
 * non-string value becomes `Err` `LOADER`, so a loader bug never escapes as an exception.
 */
async function runLoader(
  backend: string,
  key: string,
  loader: () => string | Promise<string>,
): Promise<Result<string, CacheError>> {
  let value: unknown;
  try {
    value = await loader();
  } catch (cause) {
    const reason = `loader failed: ${errorMessage(cause)}`;
    return new Err(new CacheError({ code: 'LOADER', backend, operation: 'getOrSet', key, reason, cause }));
  }
  if (typeof value !== 'string') {
    const reason = `loader returned ${describe(value)}; getOrSet stores strings (serialize the value first)`;
    return new Err(new CacheError({ code: 'LOADER', backend, operation: 'getOrSet', key, reason }));
  }
  return new Ok(value);
}

/**
 * Shares one in-flight computation per key among concurrent callers in this process, so a burst of misses
 * on the same key calls the loader once.
 */
export class SingleFlight<T> {
  readonly #inFlight = new Map<string, Promise<T>>();

  run(key: string, work: () => Promise<T>): Promise<T> {
    const pending = this.#inFlight.get(key);
    if (pending) return pending;
    const started = work().finally(() => {
      if (this.#inFlight.get(key) === started) this.#inFlight.delete(key);
    });
    this.#inFlight.set(key, started);
    return started;
  }

  /** Lets the next `run` for `key` start afresh, while callers already waiting keep their answer. */
  forget(key: string): void {
    this.#inFlight.delete(key);
  }

  /** `forget` for every key. */
  forgetAll(): void {
    this.#inFlight.clear();
  }
}

/**
 * getOrSet's miss path, the same for every backend: concurrent misses on one key in this process share one
 * loader call, and the loaded value is stored before anyone gets it. A store that fails answers its `Err`.
 */
export class LoadThrough {
  readonly #backend: string;
  readonly #flights = new SingleFlight<Result<string, CacheError>>();

  constructor(backend: string) {
    this.#backend = backend;
  }

  /** `flightKey` names the key as the store sees it (prefixed), `key` as the caller gave it (for errors). */
  load(
    flightKey: string,
    key: string,
    loader: () => string | Promise<string>,
    store: (value: string) => Result<void, CacheError> | Promise<Result<void, CacheError>>,
  ): Promise<Result<string, CacheError>> {
    return this.#flights.run(flightKey, async () => {
      const loaded = await runLoader(this.#backend, key, loader);
      if (loaded.isErr()) return loaded;
      const stored = await store(loaded.value);
      return stored.isErr() ? stored : loaded;
    });
  }
}
