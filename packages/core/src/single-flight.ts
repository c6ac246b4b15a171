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
