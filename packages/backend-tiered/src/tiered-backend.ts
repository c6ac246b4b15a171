import { createMemoryDriver, type MemoryDriverOptions } from '@tiercache/backend-memory';
import {
  type CacheBackend,
  type CacheDriver,
  type CacheLogger,
  type Clock,
  checkTtl,
  createCache,
  driverOf,
  type GetOrSetDefaults,
  type LocalDriver,
  silentLogger,
  toMilliseconds,
} from '@tiercache/core';
import type { CircuitBreakerOptions } from './circuit-breaker.js';
import type { CoherenceChoice } from './coherence.js';
import { NAME, TieredDriver } from './tiered-driver.js';

export interface TieredBackendOptions {
  /**
   * The in-process tier: a memory backend (or its driver), or the options to make one. It must not share a
   * store with L2.
   * @default createMemoryBackend({ maxEntries: 10_000 })
   */
  l1?: CacheBackend | LocalDriver | MemoryDriverOptions;
  /**
   * The shared tier every process reads through to: normally the Redis backend (or its driver). When the
   * tiered cache has no `defaultTtl` of its own, it takes this backend's.
   */
  l2: CacheBackend | CacheDriver;
  /**
   * Longest a value stays in L1, in seconds, whatever its TTL in L2. It bounds how stale L1 can be even if
   * every invalidation were lost.
   * @default 60
   */
  l1Ttl?: number;
  /** Seconds a key lives when `set` is given no TTL, in both tiers. @default l2's `defaultTtl`, if any */
  defaultTtl?: number;
  /** getOrSet's options for every call that gives none (see `GetOrSetOptions`). @default none */
  getOrSet?: GetOrSetDefaults;
  /**
   * How L1 is kept coherent with L2 (the mode in force is in `stats().coherence`, in a `coherence` event on
   * the observability seam, and logged once to `logger`):
   *
   * - `'tracking'` — hear every change by anyone through L2's change feed (Redis `CLIENT TRACKING`; a memory
   *   L2 always does). Required: where Redis refuses tracking (a managed service, an ACL user, a renamed
   *   command), every call — `ping()` too — answers `Err` `BACKEND` naming the mode and what Redis said, so a
   *   start-up health check fails. Until the feed has asked, calls read through to L2 without filling L1.
   * - `'announce'` — never switch tracking on: hear only the changes other tiercache caches of the same key
   *   prefix write (within about a heartbeat); anything else (redis-cli, other programs, expiry) shows once
   *   L1's copy is `l1Ttl` old.
   * - `'ttl'` — listen to nothing: every change by another process shows once L1's copy is `l1Ttl` old.
   * - `'auto'` (or `true`) — the best the server allows: tracking, else announce, decided again each time the
   *   feed re-arms. `false` is `'ttl'`.
   *
   * L1 is filled only while the mode is in force and its feed is armed (its own heartbeat comes back).
   * @default 'auto'
   */
  coherence?: CoherenceChoice | boolean;
  /**
   * Where the few things worth a line are logged. Pino-compatible: pass a pino logger. It hears:
   *
   * - the coherence mode, once decided and again when it changes (`info`, or `warn` when less than tracking
   *   is in force or the mode required is unavailable);
   * - L2's circuit opening (`warn`) and closing again (`info`): one pair per outage, however many probes;
   * - the change feed lost, with why (`warn`: L1 is emptied), and armed again after a loss (`info`).
   * @default silent
   */
  logger?: CacheLogger;
  /**
   * What a read answers when L1 misses and L2 cannot be reached: `'error'` returns the `Err`; `'miss'` answers
   * as if the key were absent (getOrSet then calls its loader). Writes always return the `Err`.
   * @default 'error'
   */
  onL2Failure?: 'error' | 'miss';
  /**
   * Stale-if-error for reads, in seconds: when L2 cannot be asked (it timed out, the connection is down, or the
   * breaker is open), a `get`, `getMany` or `getOrSet` answers the copy L1 still holds of the key, if it went into
   * L1 less than `staleIfError` seconds ago, instead of the `Err` (or the miss of `onL2Failure: 'miss'`). The
   * answer is `Ok(value)`, counted in `stats().staleHits` and published with outcome `'stale'` on the
   * observability seam.
   *
   * While L2 can be asked, a copy that may be stale is never answered: once the change feed is lost, L1 answers
   * nothing on its own (every read goes to L2) until the feed is re-armed, when L1 is emptied, since its copies
   * may have missed changes. So reads are coherent whenever Redis can be asked, and available when it cannot.
   *
   * Copies older than `l1Ttl` are gone anyway (L1 expires them), so a larger value acts as `l1Ttl`. A copy's
   * age is read on L1's clock. `0` is strict: a lost change feed empties L1 at once, and a read L2 cannot
   * answer fails.
   * @default l1Ttl
   * @example 5 // tolerate an outage with copies at most 5 s old
   */
  staleIfError?: number;
  /** The circuit breaker around L2. */
  breaker?: CircuitBreakerOptions;
  /** Whether `close()` also closes both tiers. @default true */
  closeTiers?: boolean;
  /**
   * Where the circuit breaker and getOrSet (back-offs, refresh ahead, grace ages) read the time; tests pass a
   * manual clock. @default the system clock
   */
  clock?: Clock;
}

const DEFAULT_L1_TTL_SECONDS = 60;

/** A tier as the tiered driver uses it: its driver, and how to close it (through its cache, if given one). */
interface Tier {
  driver: CacheDriver;
  close(): Promise<unknown>;
}

/**
 * Creates a two-tier cache: reads are answered from the in-process L1 when they can, and read through to L2
 * otherwise; writes go to L2, then L1. With an L2 that has a change feed (Redis), every process's L1 drops a
 * key as soon as anyone changes it in L2.
 *
 * @example
 * const cache = createTieredBackend({
 *   l1: { maxEntries: 50_000 },
 *   l2: createRedisBackend({ url: process.env.REDIS_URL, keyPrefix: 'app:' }),
 *   l1Ttl: 30,
 * });
 */
export function createTieredBackend(options: TieredBackendOptions): CacheBackend {
  const { l1Ttl = DEFAULT_L1_TTL_SECONDS, onL2Failure = 'error' } = options;
  const coherence = coherenceOf(options.coherence);
  const logger = options.logger ?? silentLogger;
  if (typeof logger?.warn !== 'function' || typeof logger.info !== 'function') {
    throw new TypeError(`[tiercache:${NAME}] logger must have warn and info methods (a pino logger will do)`);
  }
  const defaultTtl = options.defaultTtl ?? (options.l2 as Partial<CacheBackend> | undefined)?.defaultTtl;
  const l2 = tierOf(options.l2);
  if (!l2)
    throw new TypeError(`[tiercache:${NAME}] l2 must be a cache backend, e.g. createRedisBackend({ url })`);
  const l1TtlError = checkTtl(NAME, 'set', undefined, l1Ttl, 'l1Ttl');
  if (l1TtlError) throw new RangeError(l1TtlError.message);
  const { staleIfError = l1Ttl } = options;
  if (typeof staleIfError !== 'number' || !Number.isFinite(staleIfError) || staleIfError < 0) {
    throw new RangeError(
      `[tiercache:${NAME}] staleIfError must be a finite number of seconds >= 0 (0 turns stale answers off), got ${String(staleIfError)}`,
    );
  }
  if (onL2Failure !== 'error' && onL2Failure !== 'miss') {
    throw new TypeError(
      `[tiercache:${NAME}] onL2Failure must be 'error' or 'miss', got ${String(onL2Failure)}`,
    );
  }
  const l1 = options.l1 === undefined ? undefined : tierOf(options.l1);
  if (!l1 && looksLikeBackend(options.l1)) {
    throw new TypeError(
      `[tiercache:${NAME}] l1 must answer reads in-process (a local driver): pass a memory backend or its options`,
    );
  }
  const local = l1
    ? l1.driver
    : createMemoryDriver((options.l1 as MemoryDriverOptions) ?? { maxEntries: 10_000 });
  if (!isLocal(local)) {
    throw new TypeError(
      `[tiercache:${NAME}] l1 must answer reads in-process (a local driver): pass a memory backend or its options`,
    );
  }
  if (local === l2.driver) throw new TypeError(`[tiercache:${NAME}] l1 and l2 must be different backends`);
  const clock = options.clock;
  const closeL1 = l1 ? () => l1.close() : () => local.close();
  const driver = new TieredDriver({
    l1: local,
    l2: l2.driver,
    l1TtlMs: toMilliseconds(l1Ttl),
    coherence,
    logger,
    missOnFailure: onL2Failure === 'miss',
    staleIfErrorMs: staleIfError * 1000,
    breaker: options.breaker,
    now: clock ? () => clock.now() : undefined,
    closeTiers:
      (options.closeTiers ?? true)
        ? async () => {
            await Promise.all([closeL1(), l2.close()]);
          }
        : undefined,
  });
  return createCache(driver, { defaultTtl, getOrSet: options.getOrSet, logger, clock });
}

/** The `coherence` option as a mode, or `auto`; throws for anything else. */
function coherenceOf(value: TieredBackendOptions['coherence']): CoherenceChoice {
  if (value === undefined || value === true) return 'auto';
  if (value === false) return 'ttl';
  if (value === 'auto' || value === 'tracking' || value === 'announce' || value === 'ttl') return value;
  throw new TypeError(
    `[tiercache:${NAME}] coherence must be 'auto', 'tracking', 'announce', 'ttl' or a boolean, got ${String(value)}`,
  );
}

/** A cache made by a tiercache factory (its driver, closed through the cache), or a driver; else undefined. */
function tierOf(value: unknown): Tier | undefined {
  if (isDriver(value)) return { driver: value, close: () => value.close() };
  const cache = value as CacheBackend;
  const driver = typeof cache?.close === 'function' ? driverOf(cache) : undefined;
  return driver && { driver, close: () => cache.close() };
}

function isDriver(value: unknown): value is CacheDriver {
  const driver = value as CacheDriver | undefined;
  return typeof driver?.classify === 'function' && typeof driver.local === 'boolean';
}

function isLocal(driver: CacheDriver): driver is LocalDriver {
  return driver.local;
}

/** Something with methods that is not a tiercache cache or driver: not memory options either. */
function looksLikeBackend(value: unknown): boolean {
  return typeof (value as { get?: unknown } | undefined)?.get === 'function';
}
