import { Err, Ok, type Result } from 'ts-results-es';
import type { Clock, OperationName } from '../cache-backend.js';
import { CacheError, errorMessage } from '../cache-error.js';
import {
  type CacheDriver,
  type GraceCopy,
  type LoadedEntry,
  type LockGrant,
  StaleCopy,
  toCacheError,
} from '../driver.js';
import type { CacheLogger } from '../logger.js';
import { publishEvent } from '../observability.js';
import type { Codec } from './codecs.js';
import type { LoadPolicy } from './load-policy.js';
import { loadUnderLock } from './lock-protocol.js';

/** A loader's value and the text stored for it, by the codec of the form that ran it. */
export interface LoadedText {
  text: string;
  loaded: unknown;
  codec: Codec<unknown>;
}

/** What a flight answers: stored text (and the loader's own value when it ran), fresh or stale. */
export interface Landed {
  text: string;
  /** The loader's value, when this flight ran the loader and it succeeded, and the codec that encoded it. */
  loaded?: unknown;
  codec?: Codec<unknown>;
  /** Where the text came from. */
  source: 'l2' | 'loader' | 'grace';
  /** Set for a grace copy: ms since it was stored. */
  ageMs?: number;
}

/** A key's answer: landed, `null` for a key a batch loader did not return (a miss), or the error. */
export type Outcome = Result<Landed | null, CacheError>;

/** A loader that failed recently, and the grace copy answered meanwhile. */
interface BackOff {
  until: number;
  copy: GraceCopy;
}

const MAX_TRACKED_KEYS = 10_000;

/**
 * getOrSet's miss path, the same for every backend and every form (text, JSON, batches): one loader run per
 * key at a time in this process, and — with `lock` — across processes; bounded waits (soft and hard timeouts,
 * `close()`); grace copies answered when the loader fails; the loaded value answered even when it cannot be
 * stored. A caller's own wait is bounded in {@link Flights.await}; a flight may go on in the background after
 * its callers were answered, to store what it loads.
 */
export class Flights {
  readonly #driver: CacheDriver;
  readonly #logger: CacheLogger;
  readonly #clock: Clock;
  /** Each key's load in flight, and until when it holds the key: its starter's hard timeout, if any. */
  readonly #inFlight = new Map<string, { answer: Promise<Outcome>; holdsUntil: number }>();
  readonly #backOffs = new Map<string, BackOff>();
  readonly #refreshAt = new Map<string, number>();
  /** How each waiting caller is answered `CLOSED`. */
  readonly #waiting = new Set<() => void>();
  #closed = false;
  /** Loaded values that could not be stored: they were answered all the same. */
  notStored = 0;

  constructor(driver: CacheDriver, logger: CacheLogger, clock: Clock) {
    this.#driver = driver;
    this.#logger = logger;
    this.#clock = clock;
  }

  /**
   * The flight for `key`: joined if one is running, started otherwise. `run` loads (and encodes) the value;
   * it is called only when a new flight starts.
   */
  flight(
    operation: OperationName,
    key: string,
    policy: LoadPolicy,
    ttlMs: number | undefined,
    run: () => Promise<Result<LoadedText, CacheError>>,
  ): Promise<Outcome> {
    const pending = this.#inFlight.get(key);
    // A flight past its hard timeout no longer holds the key: a loader that never settles blocks no one.
    if (pending && Date.now() < pending.holdsUntil) return pending.answer;
    const answer = this.#fly(operation, key, policy, ttlMs, run).finally(() => {
      if (this.#inFlight.get(key)?.answer === answer) this.#inFlight.delete(key);
    });
    this.#inFlight.set(key, { answer, holdsUntil: holdsUntil(policy) });
    return answer;
  }

  /**
   * A caller's wait for `answer`: never past its hard timeout, never past `close()`. Nothing of a settled wait
   * is left behind (no timer, no listener), however long the loader goes on.
   */
  await(
    operation: OperationName,
    key: string,
    policy: LoadPolicy,
    answer: Promise<Outcome>,
  ): Promise<Outcome> {
    // A call that reaches its wait after close() (its read of the store was still in flight) is answered at once.
    if (this.#closed) {
      return Promise.resolve(
        this.#error(operation, key, 'CLOSED', 'backend was closed while the loader ran'),
      );
    }
    let timer: NodeJS.Timeout | undefined;
    let onClose: (() => void) | undefined;
    return new Promise<Outcome>((resolve) => {
      onClose = () =>
        resolve(this.#error(operation, key, 'CLOSED', 'backend was closed while the loader ran'));
      this.#waiting.add(onClose);
      const hardMs = policy.hardTimeoutMs;
      if (hardMs !== undefined) {
        timer = setTimeout(() => {
          const reason = `loader took longer than the hard timeout of ${hardMs} ms`;
          resolve(
            this.#fallBack(operation, key, policy, () => this.#error(operation, key, 'TIMEOUT', reason)),
          );
        }, hardMs);
      }
      answer.then(resolve, (cause) => resolve(new Err(toCacheError(this.#driver, cause, operation, key))));
    }).finally(() => {
      clearTimeout(timer);
      if (onClose) this.#waiting.delete(onClose);
    });
  }

  /** Whether a hit on `key` should start a background reload (refresh ahead); forgets the key if so. */
  dueForRefresh(key: string): boolean {
    const at = this.#refreshAt.get(key);
    if (at === undefined || this.#clock.now() < at) return false;
    this.#refreshAt.delete(key);
    return true;
  }

  get refreshing(): boolean {
    return this.#refreshAt.size > 0;
  }

  /** Settles every caller still waiting with `CLOSED`; flights still running store nothing more. */
  close(): void {
    this.#closed = true;
    for (const answerClosed of this.#waiting) answerClosed();
    this.#waiting.clear();
  }

  /** Stores loaded values: the one write of getOrSet, counted and reported when it fails. */
  async store(
    operation: OperationName,
    entries: readonly LoadedEntry[],
    policy: LoadPolicy,
    grant: LockGrant | null,
  ): Promise<void> {
    if (this.#closed || entries.length === 0) return;
    const stored = await this.#ask(operation, entries[0]?.key, () =>
      this.#driver.storeLoaded(entries, grant),
    );
    if (stored.isOk() && stored.value !== false) {
      if (policy.refreshAhead > 0) this.#planRefresh(entries, policy.refreshAhead);
      return;
    }
    this.notStored += entries.length;
    const reason = stored.isErr()
      ? stored.error.message
      : 'a newer lock was granted while the loader ran: the newer holder stores its value';
    for (const { key } of entries) {
      publishEvent(() => ({ backend: this.#driver.name, type: 'not-stored', key, reason }));
    }
    if (stored.isErr())
      this.#logger.warn({ backend: this.#driver.name, operation, reason }, 'loaded value not stored');
  }

  /** The grace copies of `keys` (`null` where none, or where they cannot be read). */
  async graceCopies(operation: OperationName, keys: readonly string[]): Promise<Array<GraceCopy | null>> {
    const copies = await this.#ask(operation, keys[0], () => this.#driver.readGrace(keys));
    return copies.isOk() ? copies.value : keys.map(() => null);
  }

  /** A failed load of `keys`: back off from the loader, for keys that have a grace copy to answer meanwhile. */
  backOff(key: string, copy: GraceCopy, policy: LoadPolicy): void {
    if (policy.graceBackoffMs <= 0) return;
    bounded(this.#backOffs).set(key, { until: this.#clock.now() + policy.graceBackoffMs, copy });
  }

  /** The grace copy to answer instead of calling a loader that failed moments ago, if any. */
  backingOff(key: string): Landed | undefined {
    const backOff = this.#backOffs.get(key);
    if (!backOff) return undefined;
    if (this.#clock.now() >= backOff.until) {
      this.#backOffs.delete(key);
      return undefined;
    }
    return graceAnswer(backOff.copy, this.#clock.now());
  }

  /**
   * The flights for several keys: keys already in flight are joined, the others loaded together by one call of
   * `runMany`, and stored in one batch. A key `runMany` does not return answers `null`; batches take no lock.
   */
  batch(
    operation: OperationName,
    keys: readonly string[],
    policy: LoadPolicy,
    ttlMs: number | undefined,
    runMany: (keys: string[]) => Promise<Result<Map<string, LoadedText>, CacheError>>,
  ): Map<string, Promise<Outcome>> {
    const answers = new Map<string, Promise<Outcome>>();
    const toLoad: string[] = [];
    const now = Date.now();
    for (const key of keys) {
      const pending = this.#inFlight.get(key);
      if (pending && now < pending.holdsUntil) {
        answers.set(key, pending.answer);
        continue;
      }
      const backingOff = policy.graceMs > 0 ? this.backingOff(key) : undefined;
      if (backingOff) answers.set(key, Promise.resolve(new Ok(backingOff)));
      else toLoad.push(key);
    }
    if (toLoad.length === 0) return answers;
    const loaded = this.#loadBatch(operation, toLoad, policy, ttlMs, runMany);
    // Callers are answered as soon as the loader has; the keys stay in flight until the batch is stored, so
    // that no one in this process loads them again meanwhile.
    const stored = loaded.then((batch) => batch.stored);
    for (const key of toLoad) {
      const answer: Promise<Outcome> = loaded.then(({ byKey }) => byKey.get(key) ?? new Ok(null));
      void stored.finally(() => {
        if (this.#inFlight.get(key)?.answer === answer) this.#inFlight.delete(key);
      });
      this.#inFlight.set(key, { answer, holdsUntil: holdsUntil(policy) });
      answers.set(key, answer);
    }
    return answers;
  }

  async #loadBatch(
    operation: OperationName,
    keys: string[],
    policy: LoadPolicy,
    ttlMs: number | undefined,
    runMany: (keys: string[]) => Promise<Result<Map<string, LoadedText>, CacheError>>,
  ): Promise<{ byKey: Map<string, Outcome>; stored: Promise<void> }> {
    const answers = new Map<string, Outcome>();
    const result = await runMany(keys);
    if (result.isErr()) {
      const failure = result;
      const copies = policy.graceMs > 0 && !this.#closed ? await this.graceCopies(operation, keys) : [];
      keys.forEach((key, i) => {
        const copy = copies[i];
        if (copy) this.backOff(key, copy, policy);
        answers.set(key, copy ? new Ok(graceAnswer(copy, this.#clock.now())) : failure);
      });
      return { byKey: answers, stored: Promise.resolve() };
    }
    const entries: LoadedEntry[] = [];
    for (const [key, loaded] of result.value) {
      entries.push({
        key,
        value: loaded.text,
        ttlMs: jittered(ttlMs, policy.jitter),
        graceMs: policy.graceMs,
      });
      answers.set(key, new Ok({ ...loaded, source: 'loader' }));
    }
    return { byKey: answers, stored: this.store(operation, entries, policy, null) };
  }

  async #fly(
    operation: OperationName,
    key: string,
    policy: LoadPolicy,
    ttlMs: number | undefined,
    run: () => Promise<Result<LoadedText, CacheError>>,
  ): Promise<Outcome> {
    const backingOff = policy.graceMs > 0 ? this.backingOff(key) : undefined;
    if (backingOff) return new Ok(backingOff);
    if (policy.lockTtlMs === undefined) return this.#loadAndStore(operation, key, policy, ttlMs, run, null);
    return loadUnderLock<Outcome>(this.#driver, key, policy.lockTtlMs, {
      ask: (call) => this.#ask(operation, key, call),
      read: async () => {
        const landed = await this.#read(operation, key);
        return landed && new Ok(landed);
      },
      load: (grant) => this.#loadAndStore(operation, key, policy, ttlMs, run, grant),
      closed: () => this.#closed,
    });
  }

  /**
   * Runs the loader and stores its value. With a soft timeout and a grace copy, answers the copy once the soft
   * timeout passes, and lets the loader finish and store in the background.
   */
  async #loadAndStore(
    operation: OperationName,
    key: string,
    policy: LoadPolicy,
    ttlMs: number | undefined,
    run: () => Promise<Result<LoadedText, CacheError>>,
    grant: LockGrant | null,
  ): Promise<Outcome> {
    const loaded = run().then(async (result): Promise<Outcome> => {
      if (result.isErr()) return result;
      const entry = {
        key,
        value: result.value.text,
        ttlMs: jittered(ttlMs, policy.jitter),
        graceMs: policy.graceMs,
      };
      await this.store(operation, [entry], policy, grant);
      return new Ok({ ...result.value, source: 'loader' });
    });
    const softMs = policy.softTimeoutMs;
    const answer =
      softMs === undefined || policy.graceMs === 0 ? loaded : this.#softly(operation, key, softMs, loaded);
    const outcome = await answer;
    if (outcome.isOk() || outcome.error.code === 'SERIALIZATION') return outcome;
    return this.#fallBack(operation, key, policy, () => outcome);
  }

  /** `loaded`, or a grace copy when `loaded` takes longer than `softMs` and there is one. */
  async #softly(
    operation: OperationName,
    key: string,
    softMs: number,
    loaded: Promise<Outcome>,
  ): Promise<Outcome> {
    const copy = this.graceCopies(operation, [key]).then(([first]) => first ?? null);
    let timer: NodeJS.Timeout | undefined;
    const soft = new Promise<Outcome | undefined>((resolve) => {
      timer = setTimeout(
        () => void copy.then((c) => resolve(c ? new Ok(graceAnswer(c, this.#clock.now())) : undefined)),
        softMs,
      );
    });
    // The soft timeout answers only with a copy; without one the caller waits for the loader (or the hard timeout).
    const first = await Promise.race([loaded, soft.then((o) => o ?? loaded)]);
    clearTimeout(timer);
    return first;
  }

  /** After a failed or timed-out load: the grace copy if there is one (and a back-off), `failure` otherwise. */
  async #fallBack(
    operation: OperationName,
    key: string,
    policy: LoadPolicy,
    failure: () => Outcome,
  ): Promise<Outcome> {
    if (policy.graceMs === 0 || this.#closed) return failure();
    const [copy] = await this.graceCopies(operation, [key]);
    if (!copy) return failure();
    this.backOff(key, copy, policy);
    return new Ok(graceAnswer(copy, this.#clock.now()));
  }

  /** The value another holder stored, if it is there now. */
  async #read(operation: OperationName, key: string): Promise<Landed | undefined> {
    if (this.#closed) return undefined;
    const read = await this.#ask(operation, key, () => this.#driver.get(key));
    if (read.isErr() || read.value === null) return undefined;
    const value = read.value;
    if (value instanceof StaleCopy) return undefined;
    return { text: value, source: 'l2' };
  }

  #planRefresh(entries: readonly LoadedEntry[], refreshAhead: number): void {
    const now = this.#clock.now();
    for (const { key, ttlMs } of entries) {
      if (ttlMs !== undefined) bounded(this.#refreshAt).set(key, now + ttlMs * (1 - refreshAhead));
    }
  }

  /** A driver call as a Result: thrown, rejected or answered. */
  async #ask<T>(
    operation: OperationName,
    key: string | undefined,
    call: () => T | Promise<T>,
  ): Promise<Result<T, CacheError>> {
    try {
      return new Ok(await call());
    } catch (cause) {
      return new Err(toCacheError(this.#driver, cause, operation, key));
    }
  }

  #error(operation: OperationName, key: string, code: 'TIMEOUT' | 'CLOSED', reason: string): Outcome {
    return new Err(new CacheError({ code, backend: this.#driver.name, operation, key, reason }));
  }
}

function graceAnswer(copy: GraceCopy, now: number): Landed {
  return { text: copy.value, source: 'grace', ageMs: Math.max(0, now - copy.storedAt) };
}

/** Until when a flight started now under `policy` holds its key (for ever without a hard timeout). */
function holdsUntil(policy: LoadPolicy): number {
  return policy.hardTimeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + policy.hardTimeoutMs;
}

/** A TTL shortened at random by up to `jitter` of itself; never below 1 ms. */
export function jittered(ttlMs: number | undefined, jitter: number): number | undefined {
  if (ttlMs === undefined || jitter === 0) return ttlMs;
  return Math.max(1, Math.round(ttlMs * (1 - jitter * Math.random())));
}

/** Keeps a per-key map of the loader's bookkeeping bounded: the oldest key goes first. */
function bounded<K, V>(map: Map<K, V>): Map<K, V> {
  if (map.size >= MAX_TRACKED_KEYS) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  return map;
}

/** Turns what a loader did into a Result: a throw or rejection is `Err LOADER`, never an exception. */
export async function callLoader<T>(
  backend: string,
  operation: OperationName,
  key: string,
  loader: () => T | Promise<T>,
): Promise<Result<T, CacheError>> {
  try {
    return new Ok(await loader());
  } catch (cause) {
    const reason = `loader failed: ${errorMessage(cause)}`;
    return new Err(new CacheError({ code: 'LOADER', backend, operation, key, reason, cause }));
  }
}
