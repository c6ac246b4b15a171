import type { KeyChange, OperationName } from './cache-backend.js';
import { CacheError, errorMessage } from './cache-error.js';

/*
 * Argument checks shared by every backend, so that bad input gets the same answer everywhere.
 * Each check returns `undefined` when the argument is fine, so the hot path allocates nothing.
 */

/** The longest TTL accepted: its milliseconds must still be an exact integer. */
const MAX_TTL_SECONDS = Math.floor(Number.MAX_SAFE_INTEGER / 1000);
/** The shortest TTL accepted, as documented: one millisecond (`NaN` fails this comparison too). */
const MIN_TTL_SECONDS = 0.001;

export function checkKey(backend: string, operation: OperationName, key: unknown): CacheError | undefined {
  if (typeof key === 'string' && key.length !== 0 && key.isWellFormed()) return undefined;
  return invalid(backend, operation, undefined, `key ${problemWithString(key, 'a non-empty string')}`);
}

export function checkValue(
  backend: string,
  operation: OperationName,
  key: string,
  value: unknown,
): CacheError | undefined {
  if (typeof value === 'string' && value.isWellFormed()) return undefined;
  return invalid(
    backend,
    operation,
    key,
    typeof value === 'string'
      ? `value ${problemWithString(value, 'a string')}`
      : `value must be a string, got ${describe(value)} (use setJson to store other values as JSON)`,
  );
}

/**
 * Why a key, value or pattern is refused. Lone surrogates are refused because Redis stores UTF-8, where each
 * becomes U+FFFD: two different keys would name one Redis key, and a value would not read back as written.
 */
function problemWithString(value: unknown, expected: string): string {
  if (typeof value !== 'string') return `must be ${expected}, got ${describe(value)}`;
  if (value.length === 0) return 'must not be empty';
  return 'must be well-formed UTF-16 (it holds a lone surrogate, which UTF-8 cannot carry)';
}

/**
 * The keys of `getMany` and the like, copied into a fresh array of distinct keys in the order first asked.
 * Whatever a caller passes — a Proxy that throws, a getter that throws — gives an error, never a throw.
 */
export function readKeys(backend: string, operation: OperationName, keys: unknown): string[] | CacheError {
  try {
    if (!Array.isArray(keys)) {
      return invalid(
        backend,
        operation,
        undefined,
        `keys must be an array of strings, got ${describe(keys)}`,
      );
    }
    const length = keys.length;
    const distinct = new Set<string>();
    // Copied as checked, in case the caller changes its array while the call is out, and as read once: a
    // Proxy may answer something else if read again.
    const copy: string[] = [];
    for (let i = 0; i < length; i++) {
      const key: unknown = keys[i];
      if (typeof key !== 'string' || key.length === 0 || !key.isWellFormed()) {
        return invalid(
          backend,
          operation,
          undefined,
          `keys[${i}] ${problemWithString(key, 'a non-empty string')}`,
        );
      }
      distinct.add(key);
      copy.push(key);
    }
    return distinct.size === length ? copy : [...distinct];
  } catch (cause) {
    return unreadable(backend, operation, 'keys', cause);
  }
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
  if (typeof ttl === 'number' && ttl >= MIN_TTL_SECONDS && ttl <= MAX_TTL_SECONDS) return undefined;
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
  if (typeof pattern === 'string' && pattern.length !== 0 && pattern.isWellFormed()) return undefined;
  return invalid(
    backend,
    operation,
    undefined,
    `pattern (Redis glob syntax) ${problemWithString(pattern, 'a non-empty string')}`,
  );
}

/**
 * Checks `setMany` entries and copies them into pairs, or gives the first problem found. Nothing is written by
 * the caller unless every pair is valid, which is what makes `setMany` all or nothing on bad input. A Map whose
 * iterator throws, or an object with a throwing getter, is refused the same way.
 */
export function readEntries(
  backend: string,
  operation: OperationName,
  entries: unknown,
): Array<[string, string]> | CacheError {
  let pairs: Array<[unknown, unknown]>;
  try {
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
  } catch (cause) {
    return unreadable(backend, operation, 'entries', cause);
  }
  for (const [key, value] of pairs) {
    const error = checkKey(backend, operation, key) ?? checkValue(backend, operation, key as string, value);
    if (error) return error;
  }
  return pairs as Array<[string, string]>;
}

/** An argument whose reading threw (a Proxy, a getter): refused, with what it threw. */
function unreadable(backend: string, operation: OperationName, name: string, cause: unknown): CacheError {
  return new CacheError({
    code: 'INVALID_ARGUMENT',
    backend,
    operation,
    reason: `${name} could not be read: ${errorMessage(cause)}`,
    cause,
  });
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

/** getOrSet's loader and options, checked whatever a caller passes; answers the TTL asked for, if any. */
export function readGetOrSetArguments(
  backend: string,
  key: string,
  loader: unknown,
  options: unknown,
): number | undefined | CacheError {
  if (typeof loader !== 'function') {
    return invalid(backend, 'getOrSet', key, `loader must be a function, got ${describe(loader)}`);
  }
  if (options === undefined) return undefined;
  if (options === null || typeof options !== 'object') {
    return invalid(backend, 'getOrSet', key, `options must be an object, got ${describe(options)}`);
  }
  let ttl: unknown;
  try {
    ttl = (options as { ttl?: unknown }).ttl;
  } catch (cause) {
    return unreadable(backend, 'getOrSet', 'options', cause);
  }
  return checkTtl(backend, 'getOrSet', key, ttl) ?? (ttl as number | undefined);
}

/** How many keys `countKeys` counts at most when it is given no `limit`. */
export const DEFAULT_COUNT_LIMIT = 100_000;

/** countKeys's options, checked whatever a caller passes; answers the limit of the walk. */
export function readCountKeysOptions(backend: string, options: unknown): number | CacheError {
  if (options === undefined) return DEFAULT_COUNT_LIMIT;
  if (options === null || typeof options !== 'object') {
    return invalid(backend, 'countKeys', undefined, `options must be an object, got ${describe(options)}`);
  }
  let limit: unknown;
  try {
    limit = (options as { limit?: unknown }).limit;
  } catch (cause) {
    return unreadable(backend, 'countKeys', 'options', cause);
  }
  if (limit === undefined) return DEFAULT_COUNT_LIMIT;
  if (Number.isSafeInteger(limit) && (limit as number) > 0) return limit as number;
  const got = typeof limit === 'number' ? String(limit) : describe(limit);
  return invalid(
    backend,
    'countKeys',
    undefined,
    `limit must be a positive safe integer (the most keys to count), got ${got}`,
  );
}

/** A copy of a change given to `announce`, its keys each once; or why it is refused. Never throws. */
export function readKeyChange(backend: string, change: unknown): KeyChange | CacheError {
  let type: unknown;
  let keys: unknown;
  let pattern: unknown;
  try {
    if (change !== null && typeof change === 'object') {
      ({ type, keys, pattern } = change as { type?: unknown; keys?: unknown; pattern?: unknown });
    }
  } catch (cause) {
    return unreadable(backend, 'announce', 'change', cause);
  }
  switch (type) {
    case 'keys': {
      const copied = readKeys(backend, 'announce', keys);
      return copied instanceof CacheError ? copied : { type: 'keys', keys: copied };
    }
    case 'pattern':
      return checkPattern(backend, 'announce', pattern) ?? { type: 'pattern', pattern: pattern as string };
    case 'all':
      return { type: 'all' };
    default:
      return invalid(
        backend,
        'announce',
        undefined,
        "change must be { type: 'keys', keys }, { type: 'pattern', pattern } or { type: 'all' }",
      );
  }
}
