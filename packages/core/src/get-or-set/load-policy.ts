import { checkTtl, describe, invalid, toMilliseconds } from '../arguments.js';
import type { GetOrSetOptions, OperationName } from '../cache-backend.js';
import { CacheError, errorMessage } from '../cache-error.js';

/** getOrSet's options, checked and in milliseconds. */
export interface LoadPolicy {
  /** The TTL asked for, or `undefined` for the cache's default. */
  ttl: number | undefined;
  graceMs: number;
  graceBackoffMs: number;
  softTimeoutMs: number | undefined;
  hardTimeoutMs: number | undefined;
  /** How long a lock lives, or `undefined` when the call takes no lock. */
  lockTtlMs: number | undefined;
  /** 0 for none. */
  refreshAhead: number;
  jitter: number;
  /**
   * The last policy made from this one with only a TTL of a call's own (see withTtl): kept here rather than in
   * a WeakMap, so that a getOrSet hit with `{ ttl }` finds it with one property read.
   */
  withCallTtl: LoadPolicy | undefined;
}

const DEFAULT_GRACE_BACKOFF_MS = 5_000;
const DEFAULT_LOCK_TTL_MS = 5_000;
/** Longer than any TTL the stores take (Redis's PX is a signed 64-bit count of ms; a year is plenty here). */
const MAX_SECONDS = 365 * 24 * 3600;

/**
 * Reads getOrSet's options over the cache's defaults, whatever a plain-JS caller passes: a value of the wrong
 * kind, a negative or non-finite number, a soft timeout past the hard one, options that are not an object or
 * whose reading throws are refused with an `INVALID_ARGUMENT` naming the option.
 */
export function readLoadPolicy(
  backend: string,
  operation: OperationName,
  key: string | undefined,
  options: unknown,
  defaults: LoadPolicy,
): LoadPolicy | CacheError {
  if (options === undefined) return defaults;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    return invalid(backend, operation, key, `options must be an object, got ${describe(options)}`);
  }
  // Read once each, straight into locals: a getOrSet hit with options pays for these reads and one object.
  let ttl: unknown;
  let grace: unknown;
  let graceBackoff: unknown;
  let softTimeout: unknown;
  let hardTimeout: unknown;
  let lock: unknown;
  let refreshAhead: unknown;
  let jitter: unknown;
  try {
    ({ ttl, grace, graceBackoff, softTimeout, hardTimeout, lock, refreshAhead, jitter } =
      options as GetOrSetOptions);
  } catch (cause) {
    return new CacheError({
      code: 'INVALID_ARGUMENT',
      backend,
      operation,
      key,
      reason: `options could not be read: ${errorMessage(cause)}`,
      cause,
    });
  }
  const ttlError = checkTtl(backend, operation, key, ttl);
  if (ttlError) return ttlError;
  const ttlOnly =
    grace === undefined &&
    graceBackoff === undefined &&
    softTimeout === undefined &&
    hardTimeout === undefined &&
    lock === undefined &&
    refreshAhead === undefined &&
    jitter === undefined;
  if (ttlOnly) return ttl === undefined ? defaults : withTtl(defaults, ttl as number);
  const graceMs = readSeconds('grace', grace, defaults.graceMs);
  const graceBackoffMs = readSeconds('graceBackoff', graceBackoff, defaults.graceBackoffMs);
  const softTimeoutMs = readSeconds('softTimeout', softTimeout, defaults.softTimeoutMs);
  const hardTimeoutMs = readSeconds('hardTimeout', hardTimeout, defaults.hardTimeoutMs);
  const lockTtlMs = lock === undefined ? defaults.lockTtlMs : readLock(lock);
  const ahead = readFraction('refreshAhead', refreshAhead, defaults.refreshAhead, false);
  const spread = readFraction('jitter', jitter, defaults.jitter, true);
  const wrong =
    errorOf(graceMs) ??
    errorOf(graceBackoffMs) ??
    errorOf(softTimeoutMs) ??
    errorOf(hardTimeoutMs) ??
    errorOf(lockTtlMs) ??
    errorOf(ahead) ??
    errorOf(spread);
  if (wrong) return invalid(backend, operation, key, wrong.message);
  const policy: LoadPolicy = {
    ttl: ttl as number | undefined,
    graceMs: graceMs as number,
    graceBackoffMs: graceBackoffMs as number,
    softTimeoutMs: softTimeoutMs as number | undefined,
    hardTimeoutMs: hardTimeoutMs as number | undefined,
    lockTtlMs: lockTtlMs as number | undefined,
    refreshAhead: ahead as number,
    jitter: spread as number,
    withCallTtl: undefined,
  };
  if (
    policy.softTimeoutMs !== undefined &&
    policy.hardTimeoutMs !== undefined &&
    policy.softTimeoutMs > policy.hardTimeoutMs
  ) {
    return invalid(
      backend,
      operation,
      key,
      `softTimeout (${policy.softTimeoutMs / 1000} s) must not be longer than hardTimeout (${policy.hardTimeoutMs / 1000} s)`,
    );
  }
  return policy;
}

/**
 * `defaults` with the call's TTL, the common case (`{ ttl: 60 }` on every call): the same object again while
 * the TTL is the same, so a getOrSet hit allocates no policy.
 */
function withTtl(defaults: LoadPolicy, ttl: number): LoadPolicy {
  const last = defaults.withCallTtl;
  if (last !== undefined && last.ttl === ttl) return last;
  const policy = { ...defaults, ttl, withCallTtl: undefined };
  defaults.withCallTtl = policy;
  return policy;
}

function errorOf(read: unknown): Error | undefined {
  return read instanceof Error ? read : undefined;
}

/** A duration option in ms: `fallback` when not given, an Error saying what is wrong otherwise. */
function readSeconds<F>(name: string, value: unknown, fallback: F): number | F | Error {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && value >= 0 && value <= MAX_SECONDS) return toMilliseconds(value);
  const got = typeof value === 'number' ? String(value) : describe(value);
  return new Error(`${name} must be a finite number of seconds from 0 to ${MAX_SECONDS}, got ${got}`);
}

/** A fraction option, below 1 and above 0 (or from 0 when `zeroAllowed`). */
function readFraction(name: string, value: unknown, fallback: number, zeroAllowed: boolean): number | Error {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && (zeroAllowed ? value >= 0 : value > 0) && value < 1) return value;
  const got = typeof value === 'number' ? String(value) : describe(value);
  return new Error(
    `${name} must be a fraction ${zeroAllowed ? 'from 0, below 1' : 'above 0 and below 1'}, got ${got}`,
  );
}

/** The lock option: `false`, `true` or `{ ttl }`; answers the lock's life in ms, `undefined` for no lock. */
function readLock(lock: unknown): number | undefined | Error {
  if (lock === false) return undefined;
  if (lock === true) return DEFAULT_LOCK_TTL_MS;
  if (lock !== null && typeof lock === 'object' && !Array.isArray(lock)) {
    let ttl: unknown;
    try {
      ttl = (lock as { ttl?: unknown }).ttl;
    } catch (cause) {
      return new Error(`lock could not be read: ${errorMessage(cause)}`);
    }
    if (ttl === undefined) return DEFAULT_LOCK_TTL_MS;
    if (typeof ttl === 'number' && ttl >= 0.001 && ttl <= MAX_SECONDS) return toMilliseconds(ttl);
    const got = typeof ttl === 'number' ? String(ttl) : describe(ttl);
    return new Error(`lock.ttl must be a finite number of seconds of at least 0.001, got ${got}`);
  }
  return new Error(`lock must be true, false or { ttl }, got ${describe(lock)}`);
}

/** The policy a cache applies when a call gives no options: its `getOrSet` defaults, checked once. */
export function defaultLoadPolicy(backend: string, defaults: unknown): LoadPolicy {
  const none: LoadPolicy = {
    ttl: undefined,
    graceMs: 0,
    graceBackoffMs: DEFAULT_GRACE_BACKOFF_MS,
    softTimeoutMs: undefined,
    hardTimeoutMs: undefined,
    lockTtlMs: undefined,
    refreshAhead: 0,
    jitter: 0,
    withCallTtl: undefined,
  };
  if (defaults === undefined) return none;
  if (defaults !== null && typeof defaults === 'object' && 'ttl' in defaults) {
    throw new TypeError(
      `[tiercache:${backend}] the getOrSet option takes no ttl: give the cache's TTL as defaultTtl`,
    );
  }
  const policy = readLoadPolicy(backend, 'getOrSet', undefined, defaults, none);
  if (policy instanceof CacheError) {
    throw new RangeError(`${policy.message} (the cache's getOrSet option)`);
  }
  return policy;
}
