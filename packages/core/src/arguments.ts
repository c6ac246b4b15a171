import type { OperationName } from './cache-backend.js';
import { CacheError } from './cache-error.js';

/*
 * Argument checks shared by every backend, so that bad input gets the same answer everywhere.
 * Each check returns `undefined` when the argument is fine, so the hot path allocates nothing.
 */

/** The longest TTL accepted: its milliseconds must still be an exact integer. */
const MAX_TTL_SECONDS = Math.floor(Number.MAX_SAFE_INTEGER / 1000);

export function checkKey(backend: string, operation: OperationName, key: unknown): CacheError | undefined {
  if (typeof key === 'string' && key.length !== 0) return undefined;
  return invalid(
    backend,
    operation,
    undefined,
    typeof key === 'string'
      ? 'key must not be empty'
      : `key must be a non-empty string, got ${describe(key)}`,
  );
}

export function checkKeys(backend: string, operation: OperationName, keys: unknown): CacheError | undefined {
  if (!Array.isArray(keys)) {
    return invalid(backend, operation, undefined, `keys must be an array of strings, got ${describe(keys)}`);
  }
  for (let i = 0; i < keys.length; i++) {
    const key: unknown = keys[i];
    if (typeof key !== 'string' || key.length === 0) {
      return invalid(
        backend,
        operation,
        undefined,
        `keys[${i}] must be a non-empty string, got ${describe(key)}`,
      );
    }
  }
  return undefined;
}

export function checkValue(
  backend: string,
  operation: OperationName,
  key: string,
  value: unknown,
): CacheError | undefined {
  if (typeof value === 'string') return undefined;
  return invalid(
    backend,
    operation,
    key,
    `value must be a string, got ${describe(value)} (use setJson to store other values as JSON)`,
  );
}

/** Checks an optional TTL given in seconds. `name` is how the message calls it (`ttl`, `seconds`). */
export function checkTtl(
  backend: string,
  operation: OperationName,
  key: string | undefined,
  ttl: unknown,
  name = 'ttl',
): CacheError | undefined {
  if (ttl === undefined) return undefined;
  if (typeof ttl === 'number' && toMilliseconds(ttl) >= 1 && ttl <= MAX_TTL_SECONDS) return undefined;
  const got = typeof ttl === 'number' ? String(ttl) : describe(ttl);
  return invalid(
    backend,
    operation,
    key,
    `${name} must be a finite number of seconds of at least 0.001 (millisecond precision), got ${got}`,
  );
}

/** Seconds to whole milliseconds, as the backends store them. Callers have checked the TTL. */
export function toMilliseconds(seconds: number): number {
  return Math.round(seconds * 1000);
}

export function checkAmount(
  backend: string,
  operation: OperationName,
  key: string,
  amount: unknown,
): CacheError | undefined {
  if (Number.isSafeInteger(amount)) return undefined;
  const got = typeof amount === 'number' ? String(amount) : describe(amount);
  return invalid(
    backend,
    operation,
    key,
    `amount must be an integer between -(2^53 - 1) and 2^53 - 1, got ${got}`,
  );
}

export function checkPattern(
  backend: string,
  operation: OperationName,
  pattern: unknown,
): CacheError | undefined {
  if (typeof pattern === 'string' && pattern.length !== 0) return undefined;
  return invalid(
    backend,
    operation,
    undefined,
    `pattern must be a non-empty string (Redis glob syntax), got ${describe(pattern)}`,
  );
}

/**
 * Checks `setMany` entries and returns them as pairs, or the first problem found. Nothing is written by the
 * caller unless every pair is valid, which is what makes `setMany` all or nothing on bad input.
 */
export function entriesToPairs(
  backend: string,
  operation: OperationName,
  entries: unknown,
): Array<[string, string]> | CacheError {
  let pairs: Array<[unknown, unknown]>;
  if (entries instanceof Map) {
    pairs = [...entries];
  } else if (entries !== null && typeof entries === 'object' && !Array.isArray(entries)) {
    pairs = Object.entries(entries);
  } else {
    return invalid(
      backend,
      operation,
      undefined,
      `entries must be a Map or a plain object, got ${describe(entries)}`,
    );
  }
  for (const [key, value] of pairs) {
    const error = checkKey(backend, operation, key) ?? checkValue(backend, operation, key as string, value);
    if (error) return error;
  }
  return pairs as Array<[string, string]>;
}

/** The error every call on a closed backend answers; `key` is shown when the caller gave a string. */
export function closedError(backend: string, operation: OperationName, key?: unknown): CacheError {
  const shownKey = typeof key === 'string' ? key : undefined;
  return new CacheError({ code: 'CLOSED', backend, operation, key: shownKey, reason: 'backend is closed' });
}

export function invalid(
  backend: string,
  operation: OperationName,
  key: string | undefined,
  reason: string,
): CacheError {
  return new CacheError({ code: 'INVALID_ARGUMENT', backend, operation, key, reason });
}

/** Names what a caller passed, for messages: `number 42`, `undefined`, `object`. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return value.length === 0 ? 'an empty string' : `string ${JSON.stringify(value.slice(0, 40))}`;
    case 'number':
    case 'boolean':
    case 'bigint':
      return `${typeof value} ${String(value)}`;
    case 'undefined':
      return 'undefined';
    default:
      return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
  }
}
