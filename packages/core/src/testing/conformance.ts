import { afterAll, afterEach, describe } from 'vitest';
import type { CacheBackend, ChangeFeed } from '../cache-backend.js';
import { describeBadInput } from './conformance/bad-input.js';
import { describeBatches } from './conformance/batches.js';
import { describeChangeFeed } from './conformance/change-feed.js';
import { describeClose } from './conformance/close.js';
import { type ConformanceContext, sleep } from './conformance/context.js';
import { describeCountKeys } from './conformance/count-keys.js';
import { describeCounters } from './conformance/counters.js';
import { describeGetEntries, describeGetEntry } from './conformance/entries.js';
import { describeExpiry } from './conformance/expiry.js';
import { describeGetOrSet } from './conformance/get-or-set.js';
import { describeJson } from './conformance/json.js';
import { describeLoadThrough } from './conformance/load-through.js';
import { describePatterns } from './conformance/patterns.js';
import { describeDeleteAndExists, describeGetAndSet } from './conformance/reads-and-writes.js';
import { describePrefixIsolation, describeStats } from './conformance/stats-and-isolation.js';
import { backendFixture } from './helpers.js';

/**
 * Optional capabilities a backend declares to the conformance suite. The tests of a capability run only where
 * it is declared; elsewhere a test checks that the backend indeed lacks it.
 */
export interface ConformanceCapabilities {
  /**
   * `changes` is a working {@link ChangeFeed} over the shared store: it arms within a few seconds, reports writes
   * made by other caches of the same prefix but not the cache's own, and carries `announce` to the other caches
   * of the prefix but not back to the announcer. The contract any shared store's feed must meet.
   */
  changeFeed?: boolean;
}

/** What the conformance suite needs to know about the backend under test. */
export interface ConformanceTarget {
  /** Shown in the test names. */
  name: string;
  /**
   * Makes a backend over the one store under test (one Redis, one memory store…), using `keyPrefix`.
   * The suite calls it several times, with distinct prefixes, and closes what it gets. It also calls it twice
   * with one prefix: those two caches must share their keys, as two processes over one store do.
   */
  create(options: { keyPrefix: string }): CacheBackend | Promise<CacheBackend>;
  /**
   * Moves the backend's clock forward by `ms`. Without it the suite waits in real time, using TTLs of a
   * few hundred milliseconds.
   */
  advanceTime?(ms: number): void | Promise<void>;
  /** Optional capabilities the backend has, whose tests run only when declared. */
  capabilities?: ConformanceCapabilities;
  /** Runs once after the whole suite. */
  teardown?(): void | Promise<void>;
}

/**
 * Defines, as vitest tests, what every tiercache backend must do. Call it inside a test file:
 *
 * @example
 * import { describeConformance } from '@tiercache/core/testing';
 * const clock = createManualClock();
 * const store = createMemoryStore({ clock });
 * describeConformance({
 *   name: 'memory',
 *   create: ({ keyPrefix }) => createMemoryBackend({ store, keyPrefix }),
 *   advanceTime: (ms) => clock.advance(ms),
 *   capabilities: { changeFeed: true },
 * });
 */
export function describeConformance(target: ConformanceTarget): void {
  const run = Math.random().toString(36).slice(2, 8);
  let prefixes = 0;
  const backends = backendFixture({ flush: true });
  const manualClock = target.advanceTime !== undefined;

  async function make(): Promise<CacheBackend> {
    return backends.track(await target.create({ keyPrefix: `conformance:${run}:${++prefixes}:` }));
  }

  /** Two caches over one prefix of the store: two processes sharing their keys. */
  async function makeSharing(): Promise<[CacheBackend, CacheBackend]> {
    const keyPrefix = `conformance:${run}:${++prefixes}:`;
    const first = backends.track(await target.create({ keyPrefix }));
    const second = backends.track(await target.create({ keyPrefix }));
    return [first, second];
  }

  async function elapse(ms: number): Promise<void> {
    if (target.advanceTime) await target.advanceTime(ms);
    else await sleep(ms);
  }

  const context: ConformanceContext = {
    name: target.name,
    make,
    makeSharing,
    elapse,
    manualClock,
    // In real time, allow for the time the calls themselves take.
    slack: manualClock ? 0 : 0.25,
    capabilities: { changeFeed: target.capabilities?.changeFeed === true },
  };

  describe(`${target.name} backend conforms to the tiercache protocol`, () => {
    afterEach(backends.closeAll);
    if (target.teardown) afterAll(target.teardown);

    describeGetAndSet(context);
    describeJson(context);
    describeDeleteAndExists(context);
    describeExpiry(context);
    describeCounters(context);
    describePatterns(context);
    describeBatches(context);
    describeGetOrSet(context);
    describeLoadThrough(context);
    describeBadInput(context);
    describeStats(context);
    describeCountKeys(context);
    describePrefixIsolation(context);
    describeChangeFeed(context);
    describeGetEntry(context);
    describeGetEntries(context);
    describeClose(context);
  });
}
