import type { OperationName } from './cache-backend.js';

/**
 * Stable codes to switch on. Messages may change between versions; codes do not.
 *
 * - `INVALID_ARGUMENT`: the call was malformed (empty key, bad TTL, non-string value…); nothing was changed.
 * - `WRONG_TYPE`: the stored value cannot take the operation (increment of `"abc"`, or of a number outside
 *   the 64-bit range Redis counts in); nothing was changed.
 * - `OUT_OF_RANGE`: the result would leave the safe-integer range (±(2^53 − 1)) that a JavaScript number holds
 *   exactly; nothing was changed.
 * - `SERIALIZATION`: `setJson` got a value JSON cannot carry, or `getJson` found text that is not JSON.
 * - `CONNECTION`: the backend's server cannot be reached, or refuses the credentials it was given.
 * - `TIMEOUT`: the backend did not answer within its time limit.
 * - `CLOSED`: the backend was closed.
 * - `LOADER`: the loader given to `getOrSet` failed or returned something that cannot be stored.
 * - `CAPACITY`: the value can never fit (it is larger than the backend's byte bound) or the server refuses writes.
 * - `BACKEND`: any other failure of the underlying store.
 */
export type CacheErrorCode =
  | 'INVALID_ARGUMENT'
  | 'WRONG_TYPE'
  | 'OUT_OF_RANGE'
  | 'SERIALIZATION'
  | 'CONNECTION'
  | 'TIMEOUT'
  | 'CLOSED'
  | 'LOADER'
  | 'CAPACITY'
  | 'BACKEND';

export interface CacheErrorDetails {
  code: CacheErrorCode;
  /** The backend's name, as in `CacheBackend.name`: `memory`, `redis`, `tiered`… */
  backend: string;
  operation: OperationName;
  /** What went wrong, phrased to follow the operation and key in the message. */
  reason: string;
  /** The key as the caller gave it (without the backend's prefix), when the operation has one. */
  key?: string | undefined;
  cause?: unknown;
}

const MAX_KEY_IN_MESSAGE = 80;

/**
 * The error every tiercache operation returns inside `Err`. It is never thrown by an operation.
 *
 * @example
 * const result = await cache.increment('visits');
 * if (result.isErr() && result.error.code === 'WRONG_TYPE') resetCounter();
 */
export class CacheError extends Error {
  override readonly name = 'CacheError';
  readonly code: CacheErrorCode;
  readonly backend: string;
  readonly operation: OperationName;
  readonly key: string | undefined;

  constructor(details: CacheErrorDetails) {
    super(formatMessage(details), details.cause === undefined ? undefined : { cause: details.cause });
    this.code = details.code;
    this.backend = details.backend;
    this.operation = details.operation;
    this.key = details.key;
  }

  /** Whether the store could not be reached (see {@link isTransient}): the same call may succeed later. */
  get transient(): boolean {
    return isTransient(this.code);
  }
}

/**
 * Whether errors with `code` mean the store could not be reached — `CONNECTION` or `TIMEOUT` — rather than that
 * it answered. The one place that decides it: a tiered cache's breaker counts these, and only these.
 */
export function isTransient(code: CacheErrorCode): boolean {
  return code === 'CONNECTION' || code === 'TIMEOUT';
}

/** What any thrown value says, for messages: an Error's message, or the value as text. */
export function errorMessage(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

function formatMessage({ backend, operation, key, reason }: CacheErrorDetails): string {
  const subject = key === undefined ? operation : `${operation} ${quoteKey(key)}`;
  return `[tiercache:${backend}] ${subject}: ${reason}`;
}

/** Quotes a key for a message, shortening very long ones so a log line stays readable. */
function quoteKey(key: string): string {
  if (key.length <= MAX_KEY_IN_MESSAGE) return JSON.stringify(key);
  return `${JSON.stringify(`${key.slice(0, MAX_KEY_IN_MESSAGE)}…`)} (${key.length} chars)`;
}
