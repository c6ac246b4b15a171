import type { Result } from 'ts-results-es';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { CacheBackend, CacheEntries, ChangeFeed, KeyChange, OperationName } from '../cache-backend.js';
import { type CacheError, errorMessage } from '../cache-error.js';
import { backendFixture, expectErr, expectOk, listenToChanges } from './helpers.js';

/**
 * Optional capabilities a backend declares to the conformance suite. The tests of a capability run only where
 * it is declared; elsewhere vitest shows them as skipped.
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

type Outcome<T> = Result<T, CacheError>;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** How long a change feed may take to arm, or to deliver a change, in the suite. */
const FEED_WAIT_MS = 5_000;

/**
 * What `call` resolves to. A synchronous throw, an answer that is not a Promise, or a rejection fails the test,
 * saying which: every operation must resolve to a Result, whatever it is given.
 */
async function settle<T>(what: string, call: () => Promise<Outcome<T>>): Promise<Outcome<T>> {
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

/** Waits until `check` holds, failing the test after `withinMs`. */
async function waitFor(what: string, check: () => boolean, withinMs = FEED_WAIT_MS): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!check()) {
    if (Date.now() > deadline) expect.fail(`timed out after ${withinMs} ms waiting for ${what}`);
    await sleep(10);
  }
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
  // In real time, allow for the time the calls themselves take.
  const slack = manualClock ? 0 : 0.25;
  const hasChangeFeed = target.capabilities?.changeFeed === true;

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

  /** Asserts that `call` resolves to `Err` `INVALID_ARGUMENT` of `operation`, whose message names both. */
  async function expectRefused(
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

  /** The cache's change feed, which a backend declaring the capability must have. */
  function feedOf(cache: CacheBackend): ChangeFeed {
    if (cache.changes === null || cache.changes === undefined) {
      return expect.fail(`${target.name} declares the changeFeed capability, but its \`changes\` is null`);
    }
    return cache.changes;
  }

  async function armed(...caches: CacheBackend[]): Promise<void> {
    await waitFor('the change feed to arm', () => caches.every((cache) => feedOf(cache).armed));
  }

  describe(`${target.name} backend conforms to the tiercache protocol`, () => {
    afterEach(backends.closeAll);
    if (target.teardown) afterAll(target.teardown);

    describe('get and set', () => {
      it('get returns null for a key that was never set', async () => {
        const cache = await make();
        expect(expectOk(await cache.get('never-set'))).toBeNull();
      });

      it('get returns what set stored', async () => {
        const cache = await make();
        expectOk(await cache.set('greeting', 'hello'));
        expect(expectOk(await cache.get('greeting'))).toBe('hello');
      });

      it('an empty string is a hit, not a miss', async () => {
        const cache = await make();
        expectOk(await cache.set('empty', ''));
        expect(expectOk(await cache.get('empty'))).toBe('');
        expect(expectOk(await cache.exists('empty'))).toBe(true);
      });

      it('set replaces the value and clears an earlier TTL, as Redis SET does', async () => {
        const cache = await make();
        expectOk(await cache.set('k', 'first', 100));
        expectOk(await cache.set('k', 'second'));
        expect(expectOk(await cache.get('k'))).toBe('second');
        expect(expectOk(await cache.ttl('k'))).toBeNull();
      });

      it('unicode keys and values round-trip unchanged', async () => {
        const cache = await make();
        const pairs = [
          ['ключ', 'значение'],
          ['键', '值'],
          ['🔑:emoji', '🧊❄️'],
          ['e\u0301', 'combining accent'],
        ] as const;
        for (const [key, value] of pairs) expectOk(await cache.set(key, value));
        for (const [key, value] of pairs) expect(expectOk(await cache.get(key))).toBe(value);
        expect(expectOk(await cache.get('\u00e9'))).toBeNull(); // precomposed é is another key
      });

      it('long keys and large values round-trip', async () => {
        const cache = await make();
        const longKey = `k${'x'.repeat(10_000)}`;
        const largeValue = 'v'.repeat(1024 * 1024);
        expectOk(await cache.set(longKey, largeValue));
        expect(expectOk(await cache.get(longKey))).toBe(largeValue);
      });

      it('glob characters in keys are stored literally', async () => {
        const cache = await make();
        expectOk(await cache.set('a*b', 'star'));
        expect(expectOk(await cache.get('a*b'))).toBe('star');
        expect(expectOk(await cache.get('axb'))).toBeNull();
      });
    });

    describe('JSON', () => {
      it('setJson and getJson round-trip objects, arrays, numbers and strings', async () => {
        const cache = await make();
        const values = [
          { id: 1, tags: ['a', 'b'], nested: { ok: true } },
          [1, 'two', null],
          42.5,
          'text',
          false,
        ];
        for (const [i, value] of values.entries()) expectOk(await cache.setJson(`json:${i}`, value));
        for (const [i, value] of values.entries())
          expect(expectOk(await cache.getJson(`json:${i}`))).toEqual(value);
      });

      it('setJson stores plain JSON text that get can read', async () => {
        const cache = await make();
        expectOk(await cache.setJson('user', { name: 'Ada' }));
        expect(expectOk(await cache.get('user'))).toBe('{"name":"Ada"}');
      });

      it('getJson returns null on a miss', async () => {
        const cache = await make();
        expect(expectOk(await cache.getJson('absent'))).toBeNull();
      });

      it('getJson of text that is not JSON is a SERIALIZATION error naming the key', async () => {
        const cache = await make();
        expectOk(await cache.set('broken', '{not json'));
        const error = expectErr(await cache.getJson('broken'), 'SERIALIZATION');
        expect(error.key).toBe('broken');
        expect(error.message).toContain('"broken"');
      });

      it('setJson refuses values JSON cannot carry and keeps the old value', async () => {
        const cache = await make();
        expectOk(await cache.set('keep', 'old'));
        const circular: Record<string, unknown> = {};
        circular.self = circular;
        for (const value of [circular, 10n, undefined, () => 1, Symbol('s')]) {
          const error = expectErr(await cache.setJson('keep', value), 'SERIALIZATION');
          expect(error.operation).toBe('setJson');
        }
        expect(expectOk(await cache.get('keep'))).toBe('old');
      });
    });

    describe('delete and exists', () => {
      it('delete says whether the key was there', async () => {
        const cache = await make();
        expectOk(await cache.set('k', 'v'));
        expect(expectOk(await cache.delete('k'))).toBe(true);
        expect(expectOk(await cache.delete('k'))).toBe(false);
        expect(expectOk(await cache.get('k'))).toBeNull();
      });

      it('exists follows set and delete', async () => {
        const cache = await make();
        expect(expectOk(await cache.exists('k'))).toBe(false);
        expectOk(await cache.set('k', 'v'));
        expect(expectOk(await cache.exists('k'))).toBe(true);
        expectOk(await cache.delete('k'));
        expect(expectOk(await cache.exists('k'))).toBe(false);
      });
    });

    describe('TTL, expire and expiry', () => {
      it('ttl is null for a missing key and for a key without TTL', async () => {
        const cache = await make();
        expect(expectOk(await cache.ttl('absent'))).toBeNull();
        expectOk(await cache.set('forever', 'v'));
        expect(expectOk(await cache.ttl('forever'))).toBeNull();
      });

      it('ttl reports seconds left with millisecond precision, never more than was set', async () => {
        const cache = await make();
        expectOk(await cache.set('k', 'v', 1.5));
        const left = expectOk(await cache.ttl('k'));
        expect(left).not.toBeNull();
        expect(left).toBeLessThanOrEqual(1.5);
        expect(left).toBeGreaterThanOrEqual(1.5 - slack);
        expect(Math.abs((left as number) * 1000 - Math.round((left as number) * 1000))).toBeLessThan(1e-6);
        await elapse(250);
        const later = expectOk(await cache.ttl('k'));
        expect(later).toBeLessThanOrEqual(1.25);
        expect(later).toBeGreaterThanOrEqual(1.25 - slack);
        if (manualClock) expect(later).toBe(1.25);
      });

      it('a key is gone once its TTL has passed: get, exists, ttl and getMany all see it gone', async () => {
        const cache = await make();
        expectOk(await cache.set('short', 'v', 0.2));
        expectOk(await cache.set('long', 'v', 100));
        expect(expectOk(await cache.get('short'))).toBe('v');
        await elapse(300);
        expect(expectOk(await cache.get('short'))).toBeNull();
        expect(expectOk(await cache.exists('short'))).toBe(false);
        expect(expectOk(await cache.ttl('short'))).toBeNull();
        expect([...expectOk(await cache.getMany(['short', 'long']))]).toEqual([
          ['short', null],
          ['long', 'v'],
        ]);
      });

      it('expire is false for a missing key, and sets a new TTL on an existing one', async () => {
        const cache = await make();
        expect(expectOk(await cache.expire('absent', 10))).toBe(false);
        expect(expectOk(await cache.exists('absent'))).toBe(false);
        expectOk(await cache.set('k', 'v'));
        expect(expectOk(await cache.expire('k', 10))).toBe(true);
        const left = expectOk(await cache.ttl('k'));
        expect(left).toBeLessThanOrEqual(10);
        expect(left).toBeGreaterThan(10 - slack - 0.001);
        expect(expectOk(await cache.expire('k', 0.2))).toBe(true);
        expect(expectOk(await cache.get('k'))).toBe('v');
        await elapse(300);
        expect(expectOk(await cache.get('k'))).toBeNull();
      });

      it('expire on a key that already expired is false', async () => {
        const cache = await make();
        expectOk(await cache.set('k', 'v', 0.1));
        await elapse(200);
        expect(expectOk(await cache.expire('k', 10))).toBe(false);
      });

      it('set with a TTL then without one makes the key permanent', async () => {
        const cache = await make();
        expectOk(await cache.set('k', 'v', 0.2));
        expectOk(await cache.set('k', 'v2'));
        await elapse(300);
        expect(expectOk(await cache.get('k'))).toBe('v2');
      });
    });

    describe('increment and decrement', () => {
      it('a missing key counts from 0, by 1 unless told otherwise', async () => {
        const cache = await make();
        expect(expectOk(await cache.increment('n'))).toBe(1);
        expect(expectOk(await cache.increment('n', 41))).toBe(42);
        expect(expectOk(await cache.decrement('n'))).toBe(41);
        expect(expectOk(await cache.decrement('n', 50))).toBe(-9);
        expect(expectOk(await cache.increment('n', -1))).toBe(-10);
        expect(expectOk(await cache.decrement('fresh', 5))).toBe(-5);
      });

      it('the counter is stored as a decimal string that get reads', async () => {
        const cache = await make();
        expectOk(await cache.set('n', '10'));
        expect(expectOk(await cache.increment('n', 5))).toBe(15);
        expect(expectOk(await cache.get('n'))).toBe('15');
      });

      it('an existing key keeps its TTL; a new key gets none', async () => {
        const cache = await make();
        expectOk(await cache.set('n', '5', 100));
        expect(expectOk(await cache.increment('n'))).toBe(6);
        const left = expectOk(await cache.ttl('n'));
        expect(left).toBeLessThanOrEqual(100);
        expect(left).toBeGreaterThan(100 - slack - 0.001);
        expectOk(await cache.increment('new'));
        expect(expectOk(await cache.ttl('new'))).toBeNull();
      });

      it('a value that is not a base-10 integer is WRONG_TYPE and stays as it was', async () => {
        const cache = await make();
        for (const stored of ['abc', '1.5', ' 1', '1 ', '01', '', '+1', '1e3', '-0', '9223372036854775808']) {
          expectOk(await cache.set('n', stored));
          const error = expectErr(await cache.increment('n'), 'WRONG_TYPE');
          expect(error.key).toBe('n');
          expect(expectOk(await cache.get('n'))).toBe(stored);
        }
      });

      it('a result outside the safe-integer range is OUT_OF_RANGE and changes nothing', async () => {
        const cache = await make();
        expectOk(await cache.set('max', String(Number.MAX_SAFE_INTEGER)));
        expectErr(await cache.increment('max'), 'OUT_OF_RANGE');
        expect(expectOk(await cache.get('max'))).toBe(String(Number.MAX_SAFE_INTEGER));
        expectOk(await cache.set('min', String(Number.MIN_SAFE_INTEGER)));
        expectErr(await cache.decrement('min'), 'OUT_OF_RANGE');
        expect(expectOk(await cache.get('min'))).toBe(String(Number.MIN_SAFE_INTEGER));
        expect(expectOk(await cache.decrement('max', Number.MAX_SAFE_INTEGER))).toBe(0);
      });

      it('counts exactly up to the edge of the safe-integer range', async () => {
        const cache = await make();
        expectOk(await cache.set('edge', String(Number.MAX_SAFE_INTEGER - 1)));
        expect(expectOk(await cache.increment('edge'))).toBe(Number.MAX_SAFE_INTEGER);
        expect(expectOk(await cache.get('edge'))).toBe('9007199254740991');
        expectOk(await cache.set('low', String(Number.MIN_SAFE_INTEGER + 1)));
        expect(expectOk(await cache.decrement('low'))).toBe(Number.MIN_SAFE_INTEGER);
      });

      it('1,000 concurrent increments count exactly 1,000', async () => {
        const cache = await make();
        const results = await Promise.all(Array.from({ length: 1000 }, () => cache.increment('hits')));
        const values = results.map(expectOk).sort((a, b) => a - b);
        expect(values).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
        expect(expectOk(await cache.get('hits'))).toBe('1000');
      });
    });

    describe('flush and deletePattern', () => {
      it('flush removes every key of this cache', async () => {
        const cache = await make();
        expectOk(await cache.setMany({ a: '1', b: '2', c: '3' }));
        expectOk(await cache.flush());
        expect([...expectOk(await cache.getMany(['a', 'b', 'c'])).values()]).toEqual([null, null, null]);
        expect(expectOk(await cache.stats()).totalKeys).toBe(0);
      });

      const patternCases: Array<[pattern: string, keys: string[], deleted: string[]]> = [
        ['user:*', ['user:1', 'user:22', 'users', 'admin:1'], ['user:1', 'user:22']],
        ['h?llo', ['hello', 'hallo', 'hxllo', 'hllo', 'heello'], ['hello', 'hallo', 'hxllo']],
        ['h*llo', ['hllo', 'heeeello', 'hello', 'help'], ['hllo', 'heeeello', 'hello']],
        ['h[ae]llo', ['hello', 'hallo', 'hillo'], ['hello', 'hallo']],
        ['h[^e]llo', ['hello', 'hallo', 'hbllo'], ['hallo', 'hbllo']],
        ['h[a-b]llo', ['hallo', 'hbllo', 'hcllo'], ['hallo', 'hbllo']],
        ['a\\*b', ['a*b', 'axb', 'a**b'], ['a*b']],
        ['a\\?b', ['a?b', 'axb'], ['a?b']],
        ['\\[x\\]', ['[x]', 'x'], ['[x]']],
        ['*', ['one', 'two'], ['one', 'two']],
        ['no-match-*', ['one'], []],
      ];
      for (const [pattern, keys, deleted] of patternCases) {
        it(`deletePattern ${JSON.stringify(pattern)} deletes ${JSON.stringify(deleted)} and nothing else`, async () => {
          const cache = await make();
          for (const key of keys) expectOk(await cache.set(key, 'v'));
          expect(expectOk(await cache.deletePattern(pattern))).toBe(deleted.length);
          for (const key of keys) expect(expectOk(await cache.exists(key)), key).toBe(!deleted.includes(key));
        });
      }

      it('deletePattern refuses a pattern that is not a non-empty string', async () => {
        const cache = await make();
        for (const pattern of ['', 42, undefined]) {
          expectErr(await cache.deletePattern(pattern as never), 'INVALID_ARGUMENT');
        }
      });
    });

    describe('getMany and setMany', () => {
      it('getMany answers in the order asked, null for misses, each key once', async () => {
        const cache = await make();
        expectOk(await cache.set('a', '1'));
        expectOk(await cache.set('c', '3'));
        const found = expectOk(await cache.getMany(['c', 'b', 'a', 'c']));
        expect([...found]).toEqual([
          ['c', '3'],
          ['b', null],
          ['a', '1'],
        ]);
        expect(expectOk(await cache.getMany([])).size).toBe(0);
      });

      it('getMany refuses a list with an invalid key', async () => {
        const cache = await make();
        expectErr(await cache.getMany(['ok', '']), 'INVALID_ARGUMENT');
        expectErr(await cache.getMany(['ok', 7 as never]), 'INVALID_ARGUMENT');
        expectErr(await cache.getMany('not-a-list' as never), 'INVALID_ARGUMENT');
      });

      it('setMany stores a Map or a plain object, with one TTL for all', async () => {
        const cache = await make();
        expectOk(
          await cache.setMany(
            new Map([
              ['m1', 'x'],
              ['m2', 'y'],
            ]),
          ),
        );
        expectOk(await cache.setMany({ o1: 'p', o2: 'q' }, 50));
        expect([...expectOk(await cache.getMany(['m1', 'm2', 'o1', 'o2'])).values()]).toEqual([
          'x',
          'y',
          'p',
          'q',
        ]);
        expect(expectOk(await cache.ttl('m1'))).toBeNull();
        const left = expectOk(await cache.ttl('o2'));
        expect(left).toBeLessThanOrEqual(50);
        expect(left).toBeGreaterThan(50 - slack - 0.001);
      });

      it('setMany writes nothing when any key, value or the TTL is invalid', async () => {
        const cache = await make();
        expectOk(await cache.set('a', 'old'));
        expectErr(await cache.setMany({ a: 'new', b: 42 as never }), 'INVALID_ARGUMENT');
        expectErr(
          await cache.setMany(
            new Map([
              ['a', 'new'],
              ['', 'v'],
            ]),
          ),
          'INVALID_ARGUMENT',
        );
        expectErr(await cache.setMany({ a: 'new' }, -5), 'INVALID_ARGUMENT');
        expectErr(await cache.setMany(null as never), 'INVALID_ARGUMENT');
        expect(expectOk(await cache.get('a'))).toBe('old');
        expect(expectOk(await cache.exists('b'))).toBe(false);
      });

      it('setMany with no entries is Ok', async () => {
        const cache = await make();
        expectOk(await cache.setMany({}));
        expectOk(await cache.setMany(new Map()));
      });
    });

    describe('getOrSet', () => {
      it('a miss calls the loader and stores its value with the TTL; a hit does not call it', async () => {
        const cache = await make();
        let calls = 0;
        const loader = async () => `loaded-${++calls}`;
        expect(expectOk(await cache.getOrSet('k', loader, { ttl: 0.2 }))).toBe('loaded-1');
        expect(expectOk(await cache.getOrSet('k', loader, { ttl: 0.2 }))).toBe('loaded-1');
        expect(calls).toBe(1);
        expect(expectOk(await cache.get('k'))).toBe('loaded-1');
        await elapse(300);
        expect(expectOk(await cache.getOrSet('k', loader))).toBe('loaded-2');
      });

      it('concurrent misses on one key share a single loader call', async () => {
        const cache = await make();
        let calls = 0;
        let release: () => void = () => {};
        const gate = new Promise<void>((resolve) => {
          release = resolve;
        });
        // The loader finishes only once every call has been made, so all ten overlap.
        const loader = async () => {
          calls++;
          await gate;
          return 'shared';
        };
        const pending = Array.from({ length: 10 }, () => cache.getOrSet('k', loader));
        while (calls === 0) await new Promise((resolve) => setImmediate(resolve));
        release();
        const results = await Promise.all(pending);
        expect(results.map(expectOk)).toEqual(Array(10).fill('shared'));
        expect(calls).toBe(1);
      });

      it('a failing loader is a LOADER error and nothing is stored', async () => {
        const cache = await make();
        const error = expectErr(
          await cache.getOrSet('k', async () => {
            throw new Error('database down');
          }),
          'LOADER',
        );
        expect(error.message).toContain('database down');
        expect(error.cause).toBeInstanceOf(Error);
        expectErr(await cache.getOrSet('k', () => 42 as never), 'LOADER');
        expect(expectOk(await cache.exists('k'))).toBe(false);
        expect(expectOk(await cache.getOrSet('k', () => 'fine'))).toBe('fine');
      });
    });

    describe('bad input', () => {
      const keyed: Array<[string, (cache: CacheBackend, key: never) => Promise<Outcome<unknown>>]> = [
        ['get', (c, k) => c.get(k)],
        ['getJson', (c, k) => c.getJson(k)],
        ['set', (c, k) => c.set(k, 'v')],
        ['setJson', (c, k) => c.setJson(k, { v: 1 })],
        ['delete', (c, k) => c.delete(k)],
        ['exists', (c, k) => c.exists(k)],
        ['expire', (c, k) => c.expire(k, 10)],
        ['ttl', (c, k) => c.ttl(k)],
        ['increment', (c, k) => c.increment(k)],
        ['decrement', (c, k) => c.decrement(k)],
        ['getOrSet', (c, k) => c.getOrSet(k, () => 'v')],
      ];
      for (const [operation, call] of keyed) {
        it(`${operation} refuses an empty or non-string key with a message naming backend and operation`, async () => {
          const cache = await make();
          for (const key of ['', 42, undefined, null, {}]) {
            const error = expectErr(await call(cache, key as never), 'INVALID_ARGUMENT');
            expect(error.operation).toBe(operation);
            expect(error.backend).toBe(cache.name);
            expect(error.message).toContain(`[tiercache:${cache.name}] ${operation}`);
            expect(error.message).toMatch(/key/);
          }
        });
      }

      it('set refuses a value that is not a string and keeps the old one', async () => {
        const cache = await make();
        expectOk(await cache.set('k', 'old'));
        for (const value of [42, undefined, null, { a: 1 }, Buffer.from('x')]) {
          const error = expectErr(await cache.set('k', value as never), 'INVALID_ARGUMENT');
          expect(error.key).toBe('k');
          expect(error.message).toContain('"k"');
        }
        expect(expectOk(await cache.get('k'))).toBe('old');
      });

      it('a TTL that is not a positive finite number of seconds is refused and changes nothing', async () => {
        const cache = await make();
        expectOk(await cache.set('k', 'old'));
        for (const ttl of [
          Number.NaN,
          -1,
          0,
          Number.POSITIVE_INFINITY,
          Number.NEGATIVE_INFINITY,
          0.0001,
          '10',
          null,
        ]) {
          expectErr(await cache.set('k', 'new', ttl as never), 'INVALID_ARGUMENT');
          expectErr(await cache.setJson('k', 'new', ttl as never), 'INVALID_ARGUMENT');
          expectErr(await cache.expire('k', ttl as never), 'INVALID_ARGUMENT');
          expectErr(await cache.getOrSet('other', () => 'v', { ttl: ttl as never }), 'INVALID_ARGUMENT');
        }
        expect(expectOk(await cache.get('k'))).toBe('old');
        expect(expectOk(await cache.ttl('k'))).toBeNull();
        expect(expectOk(await cache.exists('other'))).toBe(false);
      });

      it('an amount that is not a safe integer is refused and changes nothing', async () => {
        const cache = await make();
        expectOk(await cache.set('n', '5'));
        for (const amount of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '1', null]) {
          expectErr(await cache.increment('n', amount as never), 'INVALID_ARGUMENT');
          expectErr(await cache.decrement('n', amount as never), 'INVALID_ARGUMENT');
        }
        expect(expectOk(await cache.get('n'))).toBe('5');
      });

      // What a plain-JS caller can pass: the types say no, but nothing checks them at run time.
      it('getOrSet refuses null options, a loader that is not a function, and options that throw when read', async () => {
        const cache = await make();
        expectOk(await cache.set('present', 'old'));
        let calls = 0;
        const loader = () => `loaded-${++calls}`;
        const throwingOptions = {
          get ttl(): number {
            throw new Error('boom');
          },
        };
        for (const key of ['absent', 'present']) {
          await expectRefused(cache, 'getOrSet', `getOrSet(${key}, loader, null)`, () =>
            cache.getOrSet(key, loader, null as never),
          );
          await expectRefused(cache, 'getOrSet', `getOrSet(${key}, 'not a function')`, () =>
            cache.getOrSet(key, 'not a function' as never),
          );
          const error = await expectRefused(
            cache,
            'getOrSet',
            `getOrSet(${key}, loader, { get ttl() { throw } })`,
            () => cache.getOrSet(key, loader, throwingOptions),
          );
          expect(error.message).toContain('boom');
        }
        expect(calls).toBe(0);
        expect(expectOk(await cache.exists('absent'))).toBe(false);
        expect(expectOk(await cache.get('present'))).toBe('old');
      });

      it('getMany and getEntries refuse key lists that throw when read', async () => {
        const cache = await make();
        const throwingProxy = () =>
          new Proxy([] as string[], {
            get() {
              throw new Error('boom');
            },
          });
        const throwingElement = () => {
          const keys = ['a', 'b'];
          Object.defineProperty(keys, 1, {
            get() {
              throw new Error('boom');
            },
          });
          return keys;
        };
        for (const [what, keys] of [
          ['a Proxy whose get throws', throwingProxy],
          ['an array whose element getter throws', throwingElement],
        ] as const) {
          const many = await expectRefused(cache, 'getMany', `getMany(${what})`, () => cache.getMany(keys()));
          expect(many.message).toContain('boom');
          const entries = await expectRefused(cache, 'getEntries', `getEntries(${what})`, () =>
            cache.getEntries(keys()),
          );
          expect(entries.message).toContain('boom');
        }
      });

      it('setMany refuses entries that throw when read, and writes none of them', async () => {
        const cache = await make();
        expectOk(await cache.set('a', 'old'));
        const boom = (): never => {
          throw new Error('boom');
        };
        class ThrowingMap extends Map<string, string> {
          override [Symbol.iterator]() {
            return boom();
          }
          override entries() {
            return boom();
          }
          override keys() {
            return boom();
          }
          override values() {
            return boom();
          }
          override forEach() {
            return boom();
          }
        }
        const overridden = new Map([
          ['a', 'new'],
          ['b', 'new'],
        ]);
        Object.defineProperty(overridden, Symbol.iterator, { value: boom });
        Object.defineProperty(overridden, 'entries', { value: boom });
        const entries: Array<[string, () => CacheEntries]> = [
          [
            'a Map subclass whose iterators throw',
            () =>
              new ThrowingMap([
                ['a', 'new'],
                ['b', 'new'],
              ]),
          ],
          ['a Map whose own [Symbol.iterator] and entries throw', () => overridden],
          [
            'an object whose getter throws',
            () => ({
              b: 'new',
              get a(): string {
                return boom();
              },
            }),
          ],
          [
            'a Proxy whose ownKeys throws',
            () => new Proxy({ a: 'new', b: 'new' } as Record<string, string>, { ownKeys: boom }),
          ],
        ];
        for (const [what, build] of entries) {
          const error = await expectRefused(cache, 'setMany', `setMany(${what})`, () =>
            cache.setMany(build()),
          );
          expect(error.message).toContain('boom');
        }
        expect(expectOk(await cache.get('a'))).toBe('old');
        expect(expectOk(await cache.exists('b'))).toBe(false);
      });

      // UTF-8 cannot carry a lone surrogate: Redis would store U+FFFD, so two keys would name one Redis key.
      const loneSurrogates = ['\uD800', '\uDFFF', 'a\uDC00b'];
      const shown = (text: string) => JSON.stringify(text);

      it('a key holding a lone surrogate is refused by get, set, getMany and setMany, and nothing is written', async () => {
        const cache = await make();
        // The keys the refused ones would become in UTF-8.
        expectOk(await cache.setMany({ '\uFFFD': 'old', 'a\uFFFDb': 'old' }));
        for (const key of loneSurrogates) {
          await expectRefused(cache, 'get', `get(${shown(key)})`, () => cache.get(key));
          await expectRefused(cache, 'set', `set(${shown(key)}, 'new')`, () => cache.set(key, 'new'));
          await expectRefused(cache, 'getMany', `getMany(['a', ${shown(key)}])`, () =>
            cache.getMany(['a', key]),
          );
          await expectRefused(cache, 'setMany', `setMany({ a: 'new', ${shown(key)}: 'new' })`, () =>
            cache.setMany({ a: 'new', [key]: 'new' }),
          );
        }
        const found = expectOk(await cache.getMany(['\uFFFD', 'a\uFFFDb', 'a']));
        expect([...found.values()]).toEqual(['old', 'old', null]);
        expect(expectOk(await cache.stats()).totalKeys).toBe(2);
      });

      it('a value holding a lone surrogate is refused by set and setMany, and the old value is kept', async () => {
        const cache = await make();
        expectOk(await cache.set('k', 'old'));
        for (const value of loneSurrogates) {
          const error = await expectRefused(cache, 'set', `set('k', ${shown(value)})`, () =>
            cache.set('k', value),
          );
          expect(error.key).toBe('k');
          await expectRefused(cache, 'setMany', `setMany({ other: 'v', k: ${shown(value)} })`, () =>
            cache.setMany({ other: 'v', k: value }),
          );
          await expectRefused(
            cache,
            'setMany',
            `setMany(new Map([['other', 'v'], ['k', ${shown(value)}]]))`,
            () =>
              cache.setMany(
                new Map([
                  ['other', 'v'],
                  ['k', value],
                ]),
              ),
          );
        }
        expect(expectOk(await cache.get('k'))).toBe('old');
        expect(expectOk(await cache.exists('other'))).toBe(false);
      });

      it('a deletePattern pattern holding a lone surrogate is refused, and nothing is deleted', async () => {
        const cache = await make();
        const keys = ['a', 'b', '\uFFFD', 'a\uFFFDb'];
        for (const key of keys) expectOk(await cache.set(key, 'v'));
        // `[^\uD800]*` would match every key here, were it read as anything.
        for (const pattern of [...loneSurrogates, '\uDFFF*', '*a\uDC00b*', '[^\uD800]*']) {
          await expectRefused(cache, 'deletePattern', `deletePattern(${shown(pattern)})`, () =>
            cache.deletePattern(pattern),
          );
        }
        for (const key of keys) expect(expectOk(await cache.exists(key)), shown(key)).toBe(true);
      });

      it('a TTL under 0.001 s is refused, even one that rounds to a millisecond; 0.001 s is accepted', async () => {
        const cache = await make();
        expectOk(await cache.set('k', 'old'));
        const ttl = 0.0005;
        await expectRefused(cache, 'set', 'set(k, v, 0.0005)', () => cache.set('k', 'new', ttl));
        await expectRefused(cache, 'setJson', 'setJson(k, v, 0.0005)', () => cache.setJson('k', 'new', ttl));
        await expectRefused(cache, 'expire', 'expire(k, 0.0005)', () => cache.expire('k', ttl));
        await expectRefused(cache, 'setMany', 'setMany({ k }, 0.0005)', () =>
          cache.setMany({ k: 'new' }, ttl),
        );
        await expectRefused(cache, 'getOrSet', 'getOrSet(other, loader, { ttl: 0.0005 })', () =>
          cache.getOrSet('other', () => 'v', { ttl }),
        );
        expect(expectOk(await cache.get('k'))).toBe('old');
        expect(expectOk(await cache.ttl('k'))).toBeNull();
        expect(expectOk(await cache.exists('other'))).toBe(false);
        // The shortest TTL there is. The keys may be gone by the time anyone reads them: only the answers count.
        expectOk(await cache.set('shortest', 'v', 0.001));
        expectOk(await cache.setJson('shortest-json', 1, 0.001));
        expectOk(await cache.setMany({ 'shortest-many': 'v' }, 0.001));
        expectOk(await cache.getOrSet('shortest-loaded', () => 'v', { ttl: 0.001 }));
        expectOk(await cache.expire('k', 0.001));
      });
    });

    describe('ping and stats', () => {
      it('ping answers true', async () => {
        const cache = await make();
        expect(expectOk(await cache.ping())).toBe(true);
      });

      it('stats count hits, misses, rates, keys and operations', async () => {
        const cache = await make();
        expectOk(await cache.set('a', '1'));
        expectOk(await cache.set('b', '2', 100));
        expectOk(await cache.get('a'));
        expectOk(await cache.get('missing'));
        expectOk(await cache.getMany(['a', 'nope']));
        const stats = expectOk(await cache.stats());
        expect(stats.backend).toBe(cache.name);
        expect(stats.hits).toBe(2);
        expect(stats.misses).toBe(2);
        expect(stats.hitRate).toBe(0.5);
        expect(stats.missRate).toBe(0.5);
        expect(stats.totalKeys).toBe(2);
        expect(stats.memoryUsageBytes).toBeGreaterThan(0);
        expect(stats.operations.set).toBe(2);
        expect(stats.operations.get).toBe(2);
        expect(stats.operations.getMany).toBe(1);
        expect(stats.averageTtlSeconds).toBeGreaterThan(100 - slack - 0.001);
        expect(stats.averageTtlSeconds).toBeLessThanOrEqual(100);
      });
    });

    describe('prefix isolation', () => {
      it('two caches with different prefixes on one store do not see each other', async () => {
        const first = await make();
        const second = await make();
        expectOk(await first.set('shared-name', 'first'));
        expectOk(await second.set('shared-name', 'second'));
        expect(expectOk(await first.get('shared-name'))).toBe('first');
        expect(expectOk(await second.get('shared-name'))).toBe('second');
        expect(expectOk(await first.stats()).totalKeys).toBe(1);
      });

      it('flush and deletePattern of one cache leave the other alone', async () => {
        const first = await make();
        const second = await make();
        expectOk(await first.setMany({ a: '1', b: '2' }));
        expectOk(await second.setMany({ a: '1', b: '2' }));
        expect(expectOk(await second.deletePattern('*'))).toBe(2);
        expectOk(await second.flush());
        expect([...expectOk(await first.getMany(['a', 'b'])).values()]).toEqual(['1', '2']);
      });

      it('two caches made with one prefix share their keys, as two processes over one store do', async () => {
        const [first, second] = await makeSharing();
        expectOk(await first.set('shared-name', 'from first'));
        expect(expectOk(await second.get('shared-name'))).toBe('from first');
      });
    });

    describe.skipIf(!hasChangeFeed)('change feed (capability changeFeed)', () => {
      it('changes is a feed that arms within a few seconds of the first subscribe', async () => {
        const cache = await make();
        const feed = feedOf(cache);
        const armedBefore = feed.armed;
        const heard = listenToChanges(feed);
        await armed(cache);
        // A feed that was not armed when subscribed to tells its listeners when it becomes armed.
        if (!armedBefore) {
          await waitFor("an 'armed' event", () => heard.events().some((event) => event.type === 'armed'));
        }
        expect(heard.events().filter((event) => event.type === 'lost')).toEqual([]);
      });

      it("reports a write by another cache of the prefix as a keys change, and not the cache's own set", async () => {
        const [mine, theirs] = await makeSharing();
        const heard = listenToChanges(feedOf(mine));
        await armed(mine);
        expectOk(await mine.set('own', 'v'));
        // Written after the cache's own set: had that been reported, it would have come first.
        expectOk(await theirs.set('foreign', 'v'));
        await waitFor("the other cache's write", () => heard.keys().includes('foreign'));
        expect(heard.keys()).not.toContain('own');
      });

      it('announce reaches the other caches of the prefix intact, and not the announcer', async () => {
        const [announcer, other] = await makeSharing();
        const heardByAnnouncer = listenToChanges(feedOf(announcer));
        const heardByOther = listenToChanges(feedOf(other));
        await armed(announcer, other);
        const sent: KeyChange[] = [
          { type: 'keys', keys: ['x', 'y'] },
          { type: 'pattern', pattern: 'user:[0-9]*' },
          { type: 'all' },
        ];
        for (const change of sent) {
          expectOk(
            await settle(`announce(${JSON.stringify(change)})`, () => feedOf(announcer).announce(change)),
          );
        }
        await waitFor('the three announcements', () => heardByOther.changes().length >= sent.length);
        // Intact, each once; not necessarily in order (in a Redis Cluster, two messages may travel by two nodes).
        expect(heardByOther.changes()).toHaveLength(sent.length);
        expect(heardByOther.changes()).toEqual(expect.arrayContaining(sent));
        // Sent after the three: had the announcer heard its own, they would have come first.
        expectOk(await feedOf(other).announce({ type: 'keys', keys: ['reply'] }));
        await waitFor('the reply', () => heardByAnnouncer.keys().includes('reply'));
        expect(heardByAnnouncer.changes()).toEqual([{ type: 'keys', keys: ['reply'] }]);
      });

      it('a listener that throws stops neither the feed nor the listeners after it', async () => {
        const [cache, writer] = await makeSharing();
        const unsubscribe = feedOf(cache).subscribe(() => {
          throw new Error('listener failure');
        });
        const heard = listenToChanges(feedOf(cache));
        await armed(cache);
        expectOk(await writer.set('first', 'v'));
        expectOk(await writer.set('second', 'v'));
        await waitFor('both writes', () => heard.keys().includes('first') && heard.keys().includes('second'));
        unsubscribe();
      });

      it('a listener that unsubscribed hears nothing more, while the others go on hearing', async () => {
        const [cache, writer] = await makeSharing();
        const leaving = listenToChanges(feedOf(cache));
        const staying = listenToChanges(feedOf(cache));
        await armed(cache);
        expectOk(await writer.set('before', 'v'));
        await waitFor(
          'the first write',
          () => leaving.keys().includes('before') && staying.keys().includes('before'),
        );
        leaving.stop();
        expectOk(await writer.set('after', 'v'));
        expectOk(await feedOf(writer).announce({ type: 'keys', keys: ['announced-after'] }));
        await waitFor(
          'the later write and announcement',
          () => staying.keys().includes('after') && staying.keys().includes('announced-after'),
        );
        expect(leaving.keys()).not.toContain('after');
        expect(leaving.keys()).not.toContain('announced-after');
      });
    });

    describe('getEntry', () => {
      it('where a backend offers getEntry, it returns the value and TTL, or null on a miss', async () => {
        const cache = await make();
        if (!cache.getEntry) {
          expect(cache.getEntry).toBeUndefined();
          return;
        }
        expectOk(await cache.set('k', 'v', 10));
        const entry = expectOk(await cache.getEntry('k'));
        expect(entry?.key).toBe('k');
        expect(entry?.value).toBe('v');
        expect(entry?.ttl).toBeLessThanOrEqual(10);
        expect(entry?.ttl).toBeGreaterThan(10 - slack - 0.001);
        expect(entry?.expiresAt).toBeGreaterThan(0);
        expect(expectOk(await cache.getEntry('absent'))).toBeNull();
      });
    });

    describe('getEntries', () => {
      it('where a backend offers getEntries, it answers values and TTLs in the order asked, each key once', async () => {
        const cache = await make();
        if (!cache.getEntries) {
          expect(cache.getEntries).toBeUndefined();
          return;
        }
        expectOk(await cache.set('a', '1', 10));
        expectOk(await cache.set('b', '2'));
        const found = expectOk(await cache.getEntries(['b', 'missing', 'a', 'b']));
        expect([...found.keys()]).toEqual(['b', 'missing', 'a']);
        expect(found.get('b')).toMatchObject({ key: 'b', value: '2', ttl: null });
        expect(found.get('missing')).toBeNull();
        expect(found.get('a')?.value).toBe('1');
        expect(found.get('a')?.ttl).toBeLessThanOrEqual(10);
        expect(found.get('a')?.ttl).toBeGreaterThan(10 - slack - 0.001);
        expectErr(await cache.getEntries(['ok', ''] as never), 'INVALID_ARGUMENT');
      });
    });

    describe('close', () => {
      it('after close every operation is a CLOSED error, and closing again is Ok', async () => {
        const cache = await make();
        expectOk(await cache.close());
        const calls: Array<Promise<Outcome<unknown>>> = [
          cache.get('k'),
          cache.getJson('k'),
          cache.set('k', 'v'),
          cache.setJson('k', 1),
          cache.delete('k'),
          cache.exists('k'),
          cache.expire('k', 1),
          cache.ttl('k'),
          cache.increment('k'),
          cache.decrement('k'),
          cache.flush(),
          cache.ping(),
          cache.deletePattern('*'),
          cache.getMany(['k']),
          cache.setMany({ k: 'v' }),
          cache.getOrSet('k', () => 'v'),
          cache.stats(),
        ];
        for (const result of await Promise.all(calls)) {
          const error = expectErr(result, 'CLOSED');
          expect(error.message).toContain(`[tiercache:${cache.name}]`);
        }
        expectOk(await cache.close());
        // The afterEach flush and close of this closed cache answer CLOSED and Ok: harmless.
      });
    });
  });
}
