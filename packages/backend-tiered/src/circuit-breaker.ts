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

  constructor(options: CircuitBreakerOptions = {}, now: () => number = () => performance.now()) {
    this.#now = now;
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
    return true;
  }

  succeeded(): void {
    this.#failures = 0;
    this.#openedAt = undefined;
    this.#probing = false;
  }

  failed(): void {
    this.#failures++;
    if (this.#probing || this.#failures >= this.failureThreshold) {
      this.#openedAt = this.#now();
      this.#probing = false;
    }
  }

  /** Milliseconds until a probe is allowed, for messages. */
  retryInMs(): number {
    if (this.#openedAt === undefined) return 0;
    return Math.max(0, Math.ceil(this.resetAfterMs - (this.#now() - this.#openedAt)));
  }
}
