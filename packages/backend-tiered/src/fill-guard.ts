/** A read or write of one key in flight, whose answer may go into L1 if nothing changes the key meanwhile. */
export interface Fill {
  readonly key: string;
  readonly token: number;
  readonly epoch: number;
}

/**
 * Decides whether an answer from L2 may be kept in L1: the bookkeeping that keeps L1 coherent.
 *
 * Each read-through or write of a key begins a {@link Fill}. An invalidation of the key, a later fill of the same
 * key, or a change to many keys at once (a flush, a pattern, a lost change feed) makes the fills in flight
 * stale: their answers may be older than the change that was heard, so they may be answered but not kept.
 * (node-redis's client-side cache models each in-flight read the same way: an entry an invalidation marks.)
 */
export class FillGuard {
  /** The newest fill of each key; an older one, or one invalidated since, finds another token or none. */
  readonly #newest = new Map<string, number>();
  #lastToken = 0;
  /** Bumped by changes to many keys at once: fills begun before it are stale. */
  #epoch = 0;
  #trusted: boolean;
  #closed = false;

  /** `trusted`: whether changes are heard from the start (false while a change feed is not yet armed). */
  constructor(trusted: boolean) {
    this.#trusted = trusted;
  }

  /** Whether L1 may be filled at all: changes are heard, and the cache is open. */
  get trusted(): boolean {
    return this.#trusted && !this.#closed;
  }

  begin(key: string): Fill {
    const token = ++this.#lastToken;
    this.#newest.set(key, token);
    return { key, token, epoch: this.#epoch };
  }

  /** Whether `fill`'s answer may go into L1 now; either way the fill is over. */
  commit(fill: Fill): boolean {
    const newest = this.#newest.get(fill.key) === fill.token;
    if (newest) this.#newest.delete(fill.key);
    return newest && fill.epoch === this.#epoch && this.trusted;
  }

  /** Ends `fill` without keeping its answer (the read failed or found nothing). */
  abandon(fill: Fill): void {
    if (this.#newest.get(fill.key) === fill.token) this.#newest.delete(fill.key);
  }

  /** `key` changed: fills in flight for it are stale. */
  invalidate(key: string): void {
    this.#newest.delete(key);
  }

  /** Many keys changed at once: every fill in flight is stale. */
  invalidateAll(): void {
    this.#epoch++;
  }

  /** Changes can no longer be heard: every fill in flight is stale, and none may be kept until {@link regain}. */
  lose(): void {
    this.#trusted = false;
    this.invalidateAll();
  }

  /** Changes are heard again. */
  regain(): void {
    this.#trusted = true;
  }

  /** For good: nothing is kept any more. */
  close(): void {
    this.#closed = true;
    this.invalidateAll();
  }
}
