import type { Result } from 'ts-results-es';
import { expect } from 'vitest';
import type { CacheBackend, OperationName } from '../../cache-backend.js';
import { type CacheError, errorMessage } from '../../cache-error.js';
import { expectErr } from '../helpers.js';

/*
 * What the parts of the conformance suite share. `describeConformance` builds one context per target and
 * hands it to one `describe…` function per concern, each in its own file of this folder.
 */

/** What the conformance suite shares between its parts; built once per target by `describeConformance`. */
export interface ConformanceContext {
  /** The target's name, as shown in the test names. */
  name: string;
  /** A backend over a fresh prefix of the store, closed (and flushed) after the test. */
  make(): Promise<CacheBackend>;
  /** Two caches over one prefix of the store: two processes sharing their keys. */
  makeSharing(): Promise<[CacheBackend, CacheBackend]>;
  /** Moves the target's clock forward by `ms`, or, without `advanceTime`, waits that long. */
  elapse(ms: number): Promise<void>;
  /** Whether the target moves its own clock (`advanceTime`), so that TTLs read back exactly. */
  manualClock: boolean;
  /** Seconds a TTL may have lost to the calls themselves: 0 on a manual clock, 0.25 in real time. */
  slack: number;
  /** The optional capabilities the target declares, each `true` or `false`. */
  capabilities: { changeFeed: boolean };
}

/** What every operation of a backend resolves to. */
export type Outcome<T> = Result<T, CacheError>;

/** Resolves after `ms` of real time. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * What `call` resolves to. A synchronous throw, an answer that is not a Promise, or a rejection fails the test,
 * saying which: every operation must resolve to a Result, whatever it is given.
 */
export async function settle<T>(what: string, call: () => Promise<Outcome<T>>): Promise<Outcome<T>> {
  let pending: unknown;
  try {
    pending = call();
  } catch (error) {
    return expect.fail(
      `${what} threw synchronously instead of resolving to a Result: ${errorMessage(error)}`,
    );
  }
  if (typeof (pending as { then?: unknown } | null | undefined)?.then !== 'function') {
    return expect.fail(`${what} returned ${describeAnswer(pending)} instead of a Promise of a Result`);
  }
  try {
    return await (pending as Promise<Outcome<T>>);
  } catch (error) {
    return expect.fail(`${what} rejected instead of resolving to a Result: ${errorMessage(error)}`);
  }
}

function describeAnswer(value: unknown): string {
  return value === null ? 'null' : typeof value;
}

/** Asserts that `call` resolves to `Err` `INVALID_ARGUMENT` of `operation`, whose message names both. */
export async function expectRefused(
  cache: CacheBackend,
  operation: OperationName,
  what: string,
  call: () => Promise<Outcome<unknown>>,
): Promise<CacheError> {
  const result = await settle(what, call);
  if (result.isOk()) {
    expect.fail(`${what} resolved to Ok(${String(result.value)}) instead of Err INVALID_ARGUMENT`);
  }
  const error = expectErr(result, 'INVALID_ARGUMENT');
  expect(error.operation, what).toBe(operation);
  expect(error.backend, what).toBe(cache.name);
  expect(error.message, what).toContain(`[tiercache:${cache.name}] ${operation}`);
  return error;
}
