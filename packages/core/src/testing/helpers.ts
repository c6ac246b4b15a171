import diagnostics from 'node:diagnostics_channel';
import type { Result } from 'ts-results-es';
import { expect } from 'vitest';
import type { CacheBackend, ChangeEvent, ChangeFeed, KeyChange } from '../cache-backend.js';
import { type CacheError, type CacheErrorCode, errorMessage } from '../cache-error.js';
import { OPERATION_CHANNEL, type OperationMessage } from '../observability.js';

/*
 * Small helpers for tests of tiercache backends and of code that uses them. They need vitest, and nothing else:
 * the fast-check arbitraries live in `@tiercache/core/testing/operations`.
 */

/**
 * The value of an `Ok`; for an `Err`, fails the test with the error's message.
 *
 * @example
 * expect(expectOk(await cache.get('greeting'))).toBe('hello');
 */
export function expectOk<T>(result: Result<T, CacheError>): T {
  checkResult(result, 'Ok');
  if (result.isErr()) expect.fail(`expected Ok, got Err: ${result.error.message}`);
  return result.value;
}

/**
 * Asserts that `result` is an `Err` with `code`, and returns the error for further checks; fails the test
 * otherwise, showing the value of an `Ok` or the message of an error with another code.
 *
 * @example
 * const error = expectErr(await cache.increment('name'), 'WRONG_TYPE');
 * expect(error.key).toBe('name');
 */
export function expectErr<T>(result: Result<T, CacheError>, code: CacheErrorCode): CacheError {
  checkResult(result, `Err ${code}`);
  if (result.isOk()) expect.fail(`expected Err ${code}, got Ok(${describeValue(result.value)})`);
  expect(result.error.code, result.error.message).toBe(code);
  return result.error;
}

/** What a change feed told a listener so far; made by {@link listenToChanges}. */
export interface ChangeRecorder {
  /** Every event heard, in order (a copy: later events do not appear in it). */
  events(): ChangeEvent[];
  /** The key changes heard, in order: the events without `armed` and `lost`. */
  changes(): KeyChange[];
  /** Every key named by a `keys` change, in order. */
  keys(): string[];
  /** Stops listening. Calling it again does nothing. */
  stop(): void;
}

/**
 * Subscribes to a change feed and keeps every event it delivers. Pass `cache.changes`: a backend without a
 * feed (`null`) throws at once, naming the problem, rather than making the test wait for events that never come.
 *
 * @example
 * const heard = listenToChanges(cache.changes);
 * await other.set('k', 'v');
 * await eventually('the write', () => heard.keys().includes('k'));
 * heard.stop();
 */
export function listenToChanges(feed: ChangeFeed | null | undefined): ChangeRecorder {
  if (feed === null || feed === undefined) {
    throw new Error(`listenToChanges: the backend has no change feed (its \`changes\` is ${String(feed)})`);
  }
  const heard: ChangeEvent[] = [];
  const unsubscribe = feed.subscribe((event) => {
    heard.push(event);
  });
  let listening = true;
  const changes = () =>
    heard.filter((event): event is KeyChange => event.type !== 'armed' && event.type !== 'lost');
  return {
    events: () => [...heard],
    changes,
    keys: () => changes().flatMap((change) => (change.type === 'keys' ? [...change.keys] : [])),
    stop() {
      if (!listening) return;
      listening = false;
      unsubscribe();
    },
  };
}

/** The backends a test opened, closed after it; made by {@link backendFixture}. */
export interface BackendFixture {
  /** Remembers `cache` for {@link BackendFixture.closeAll}, and returns it. */
  track<T extends CacheBackend>(cache: T): T;
  /**
   * Closes every backend tracked since the last call (flushing each first with `flush: true`), and forgets
   * them. Results are not checked: a backend the test closed already, or whose server it stopped, answers
   * `Err`, and that is fine here. A backend that throws or rejects — which no backend may — does not stop the
   * others from being closed; the failure is thrown once all are done.
   */
  closeAll(): Promise<void>;
}

export interface BackendFixtureOptions {
  /**
   * Flush each backend before closing it, so that a store shared between tests (one Redis) keeps nothing of
   * this test's keys.
   * @default false
   */
  flush?: boolean;
}

/**
 * Keeps the backends a test opens, so that one `afterEach` closes them whether the test passed or not.
 *
 * @example
 * const backends = backendFixture();
 * afterEach(backends.closeAll);
 *
 * it('…', async () => {
 *   const cache = backends.track(createRedisBackend({ url }));
 * });
 */
export function backendFixture(options: BackendFixtureOptions = {}): BackendFixture {
  const { flush = false } = options;
  const tracked: CacheBackend[] = [];
  const release = async (cache: CacheBackend): Promise<void> => {
    if (flush) await cache.flush();
    await cache.close();
  };
  return {
    track(cache) {
      tracked.push(cache);
      return cache;
    },
    async closeAll() {
      const outcomes = await Promise.allSettled(tracked.splice(0).map(release));
      const failures = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []));
      if (failures.length === 1) throw failures[0];
      if (failures.length > 1) {
        throw new AggregateError(failures, `backendFixture: ${failures.map(errorMessage).join('; ')}`);
      }
    },
  };
}

/** Fails the test, saying what came instead, when an operation answered something that is not a Result. */
function checkResult(result: unknown, expected: string): void {
  const candidate = result as { isOk?: unknown; isErr?: unknown } | null | undefined;
  if (typeof candidate?.isOk !== 'function' || typeof candidate.isErr !== 'function') {
    expect.fail(`expected ${expected}, got ${describeValue(result)}, which is not a Result`);
  }
}

function describeValue(value: unknown): string {
  try {
    if (value instanceof Promise) return 'a Promise (not awaited?)';
    if (value instanceof Map) return `Map ${JSON.stringify([...value])}`;
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** What the observability seam published while `during` ran: operations, or events with `EVENT_CHANNEL`. */
export async function publishedDuring<M = OperationMessage>(
  during: () => Promise<unknown>,
  channelName: string = OPERATION_CHANNEL,
): Promise<M[]> {
  const seen: M[] = [];
  const listener = (message: unknown) => seen.push(message as M);
  diagnostics.subscribe(channelName, listener);
  try {
    await during();
  } finally {
    diagnostics.unsubscribe(channelName, listener);
  }
  return seen;
}
