import type { CacheLogger } from '@tiercache/core';
import type { BreakerState, CircuitBreaker } from './circuit-breaker.js';

/**
 * The lines a tiered cache writes to its logger when its health changes: L2's circuit opening and closing,
 * and the change feed lost and armed again. Each outage is one pair of lines, however long it lasts: the
 * breaker's probes (half-open, then open again each `resetAfterMs`) and the feed's first arming (the
 * coherence line says it) are on the observability seam only.
 */
export class HealthLog {
  readonly #fields: { backend: string; keyPrefix: string };
  readonly #logger: CacheLogger;
  #circuitOpen = false;
  #feedLost = false;

  constructor(backend: string, keyPrefix: string, logger: CacheLogger) {
    this.#fields = { backend, keyPrefix };
    this.#logger = logger;
  }

  breaker(state: BreakerState, breaker: CircuitBreaker): void {
    if (state === 'open' && !this.#circuitOpen) {
      this.#circuitOpen = true;
      this.#logger.warn(
        { ...this.#fields, breaker: state, failureThreshold: breaker.failureThreshold },
        `tiercache: L2 circuit open after ${breaker.failureThreshold} consecutive failures; calls that need L2 fail at once, and one probes it every ${breaker.resetAfterMs} ms`,
      );
    } else if (state === 'closed' && this.#circuitOpen) {
      this.#circuitOpen = false;
      this.#logger.info(
        { ...this.#fields, breaker: state },
        'tiercache: L2 circuit closed: L2 answers again',
      );
    }
  }

  feedLost(reason: string): void {
    this.#feedLost = true;
    this.#logger.warn(
      { ...this.#fields, feed: 'lost', reason },
      `tiercache: change feed lost (${reason}): L1 emptied, and not filled until the feed is armed again`,
    );
  }

  feedArmed(): void {
    if (!this.#feedLost) return;
    this.#feedLost = false;
    this.#logger.info(
      { ...this.#fields, feed: 'armed' },
      'tiercache: change feed armed again: L1 fills again',
    );
  }
}
