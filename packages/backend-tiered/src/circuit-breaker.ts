import { DriverError } from '@tiercache/core';

export interface CircuitBreakerOptions {
  /** Consecutive L2 failures (connection lost or timed out) that open the circuit. @default 5 */
  failureThreshold?: number;
  /** How long the circuit stays open before one probe call may try L2 again, in ms. @default 1000 */
  resetAfterMs?: number;
}

/**
 * Stops calling a tier that keeps failing, so callers get an answer at once instead of each waiting out a
 * timeout. Closed: calls go through. After `failureThreshold` consecutive failures it opens: calls are
 * refused without trying. After `resetAfterMs` one probe goes through (half-open); its success closes the
 * circuit, its failure opens it again.
 */
export class CircuitBreaker {
  readonly failureThreshold: number;
  readonly resetAfterMs: number;
  readonly #now: () => number;
  #failures = 0;
  #openedAt: number | undefined;
  #probing = false;

  readonly #onChange: (state: BreakerState) => void;

  /** `onChange` hears every change of state: `open`, `half-open` (a probe goes through) and `closed`. */
  constructor(
    options: CircuitBreakerOptions = {},
    now: () => number = () => performance.now(),
    onChange: (state: BreakerState) => void = () => {},
  ) {
    this.#now = now;
    this.#onChange = onChange;
    const { failureThreshold = 5, resetAfterMs = 1000 } = options;
    if (!Number.isSafeInteger(failureThreshold) || failureThreshold < 1) {
      throw new RangeError(
        `[tiercache:tiered] breaker.failureThreshold must be a positive integer, got ${String(failureThreshold)}`,
      );
    }
    if (!Number.isFinite(resetAfterMs) || resetAfterMs <= 0) {
      throw new RangeError(
        `[tiercache:tiered] breaker.resetAfterMs must be a positive number of ms, got ${String(resetAfterMs)}`,
      );
    }
    this.failureThreshold = failureThreshold;
    this.resetAfterMs = resetAfterMs;
  }

  /** Whether a call may go to the tier now. In half-open state, only the first caller gets to probe. */
  allows(): boolean {
    if (this.#openedAt === undefined) return true;
    if (this.#probing || this.#now() - this.#openedAt < this.resetAfterMs) return false;
    this.#probing = true;
    this.#onChange('half-open');
    return true;
  }

  succeeded(): void {
    this.#failures = 0;
    if (this.#openedAt === undefined) return;
    this.#openedAt = undefined;
    this.#probing = false;
    this.#onChange('closed');
  }

  failed(): void {
    this.#failures++;
    if (this.#probing || this.#failures >= this.failureThreshold) {
      const wasOpen = this.#openedAt !== undefined && !this.#probing;
      this.#openedAt = this.#now();
      this.#probing = false;
      if (!wasOpen) this.#onChange('open');
    }
  }

  /** The refusal of a call while the circuit is open: it never reached the tier. */
  refusal(tier: string): CircuitOpenError {
    return new CircuitOpenError(
      `L2 (${tier}) is unavailable: circuit open after ${this.failureThreshold} consecutive failures, next try in ${this.retryInMs()} ms`,
    );
  }

  /** Milliseconds until a probe is allowed, for messages. */
  retryInMs(): number {
    if (this.#openedAt === undefined) return 0;
    return Math.max(0, Math.ceil(this.resetAfterMs - (this.#now() - this.#openedAt)));
  }
}

export type BreakerState = 'open' | 'half-open' | 'closed';

/** A call the breaker refused: it was never sent, so nothing in either tier changed. */
export class CircuitOpenError extends DriverError {
  constructor(reason: string) {
    super('CONNECTION', reason);
  }
}
