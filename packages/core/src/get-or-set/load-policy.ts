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
}

/** getOrSet's options as a call gave them, read once each and not yet checked. */
interface OptionFields {
  ttl: unknown;
  grace: unknown;
  graceBackoff: unknown;
  softTimeout: unknown;
  hardTimeout: unknown;
  lock: unknown;
  refreshAhead: unknown;
  jitter: unknown;
}

const DEFAULT_GRACE_BACKOFF_MS = 5_000;
const DEFAULT_LOCK_TTL_MS = 5_000;
/** Longer than any TTL the stores take (Redis's PX is a signed 64-bit count of ms; a year is plenty here). */
const MAX_SECONDS = 365 * 24 * 3600;

/**
 * The loader and options of each getOrSet call, checked and turned into a {@link LoadPolicy}, whatever a plain-JS
 * caller passes: a loader that is not a function, options that are not an object or whose reading throws, a
 * value of the wrong kind, a negative or non-finite number, a soft timeout past the hard one are refused with an
 * `INVALID_ARGUMENT` naming the option.
 */
export class LoadPolicies {
  /** The policy of a call that gives no options: the cache's `getOrSet` defaults. */
  readonly defaults: LoadPolicy;
  readonly #backend: string;
  /**
   * The options last read and the policy they made. Most calls give the same options again, often as a new
   * literal each time (`{ ttl: 60 }`): such a call then reads the fields and compares them, and checks nothing.
   * The fields are compared by value, so options changed in place are read anew.
   */
  #lastFields: OptionFields | undefined;
  #lastPolicy: LoadPolicy;

  /** `cacheDefaults`: the cache's `getOrSet` option; throws, saying what is wrong, when it is not valid. */
  constructor(backend: string, cacheDefaults: unknown) {
    this.#backend = backend;
    this.defaults = readDefaults(backend, cacheDefaults);
    this.#lastPolicy = this.defaults;
  }

  read(
    operation: OperationName,
    key: string | undefined,
    loader: unknown,
    options: unknown,
  ): LoadPolicy | CacheError {
    return this.known(loader, options) ?? this.#readAnew(operation, key, loader, options);
  }

  /**
   * The policy of a call whose loader is a function and whose options are none or the same as the last ones
   * read, found with no checks to make; `undefined` for any other call, which `read` then checks.
   */
  known(loader: unknown, options: unknown): LoadPolicy | undefined {
    if (typeof loader !== 'function') return undefined;
    if (options === undefined) return this.defaults;
    return this.#givenLastTime(options) ? this.#lastPolicy : undefined;
  }

  #givenLastTime(options: unknown): boolean {
    const last = this.#lastFields;
    if (last === undefined || typeof options !== 'object' || options === null || Array.isArray(options)) {
      return false;
    }
    try {
      const given = options as GetOrSetOptions;
      return (
        given.ttl === last.ttl &&
        given.grace === last.grace &&
        given.graceBackoff === last.graceBackoff &&
        given.softTimeout === last.softTimeout &&
        given.hardTimeout === last.hardTimeout &&
        given.lock === last.lock &&
        given.refreshAhead === last.refreshAhead &&
        given.jitter === last.jitter
      );
    } catch {
      // A getter that throws: the full read says so.
      return false;
    }
  }

  #readAnew(
    operation: OperationName,
    key: string | undefined,
    loader: unknown,
    options: unknown,
  ): LoadPolicy | CacheError {
    const backend = this.#backend;
    if (typeof loader !== 'function') {
      return invalid(backend, operation, key, `loader must be a function, got ${describe(loader)}`);
    }
    const fields = readFields(backend, operation, key, options);
    if (fields instanceof CacheError) return fields;
    const policy = policyOf(backend, operation, key, fields, this.defaults);
    // `lock: { ttl }` is compared by identity above, which would miss a change of its ttl: not remembered.
    if (!(policy instanceof CacheError) && typeof fields.lock !== 'object') {
      this.#lastFields = fields;
      this.#lastPolicy = policy;
    }
    return policy;
  }
}

/** The option fields of `options`, each read once; `undefined` options read as none given. */
function readFields(
  backend: string,
  operation: OperationName,
  key: string | undefined,
  options: unknown,
): OptionFields | CacheError {
  if (options === undefined) return NO_FIELDS;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    return invalid(backend, operation, key, `options must be an object, got ${describe(options)}`);
  }
  try {
    const { ttl, grace, graceBackoff, softTimeout, hardTimeout, lock, refreshAhead, jitter } =
      options as GetOrSetOptions;
    return { ttl, grace, graceBackoff, softTimeout, hardTimeout, lock, refreshAhead, jitter };
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
}

const NO_FIELDS: OptionFields = {
  ttl: undefined,
  grace: undefined,
  graceBackoff: undefined,
  softTimeout: undefined,
  hardTimeout: undefined,
  lock: undefined,
  refreshAhead: undefined,
  jitter: undefined,
};

/** The policy the fields make over `defaults`, or the first thing wrong with them. */
function policyOf(
  backend: string,
  operation: OperationName,
  key: string | undefined,
  fields: OptionFields,
  defaults: LoadPolicy,
): LoadPolicy | CacheError {
  const { ttl, grace, graceBackoff, softTimeout, hardTimeout, lock, refreshAhead, jitter } = fields;
  const ttlError = checkTtl(backend, operation, key, ttl);
  if (ttlError) return ttlError;
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
function readDefaults(backend: string, defaults: unknown): LoadPolicy {
  const none: LoadPolicy = {
    ttl: undefined,
    graceMs: 0,
    graceBackoffMs: DEFAULT_GRACE_BACKOFF_MS,
    softTimeoutMs: undefined,
    hardTimeoutMs: undefined,
    lockTtlMs: undefined,
    refreshAhead: 0,
    jitter: 0,
  };
  if (defaults === undefined) return none;
  if (defaults !== null && typeof defaults === 'object' && 'ttl' in defaults) {
    throw new TypeError(
      `[tiercache:${backend}] the getOrSet option takes no ttl: give the cache's TTL as defaultTtl`,
    );
  }
  const fields = readFields(backend, 'getOrSet', undefined, defaults);
  const policy =
    fields instanceof CacheError ? fields : policyOf(backend, 'getOrSet', undefined, fields, none);
  if (policy instanceof CacheError) {
    throw new RangeError(`${policy.message} (the cache's getOrSet option)`);
  }
  return policy;
}
