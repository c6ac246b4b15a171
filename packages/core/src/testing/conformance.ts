import type { Result } from 'ts-results-es';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { CacheBackend } from '../cache-backend.js';
import type { CacheError, CacheErrorCode } from '../cache-error.js';

/** What the conformance suite needs to know about the backend under test. */
export interface ConformanceTarget {
  /** Shown in the test names. */
  name: string;
  /**
   * Makes a backend over the one store under test (one Redis, one memory store…), using `keyPrefix`.
   * The suite calls it several times, with distinct prefixes, and closes what it gets.
   */
  create(options: { keyPrefix: string }): CacheBackend | Promise<CacheBackend>;
  /**
   * Moves the backend's clock forward by `ms`. Without it the suite waits in real time, using TTLs of a
   * few hundred milliseconds.
   */
  advanceTime?(ms: number): void | Promise<void>;
  /** Runs once after the whole suite. */
  teardown?(): void | Promise<void>;
}

type Outcome<T> = Result<T, CacheError>;

/** Unwraps an `Ok`, failing the test with the error's message otherwise. */
function ok<T>(result: Outcome<T>): T {
  if (result.isErr()) expect.fail(`expected Ok, got Err: ${result.error.message}`);
  return result.value;
}

/** Asserts an `Err` with `code` and returns the error. */
function err<T>(result: Outcome<T>, code: CacheErrorCode): CacheError {
  if (result.isOk()) expect.fail(`expected Err ${code}, got Ok(${JSON.stringify(result.value)})`);
  expect(result.error.code, result.error.message).toBe(code);
  return result.error;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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
 * });
 */
export function describeConformance(target: ConformanceTarget): void {
  const run = Math.random().toString(36).slice(2, 8);
  let prefixes = 0;
  const open: CacheBackend[] = [];
  const manualClock = target.advanceTime !== undefined;
  // In real time, allow for the time the calls themselves take.
  const slack = manualClock ? 0 : 0.25;

  async function make(): Promise<CacheBackend> {
    const cache = await target.create({ keyPrefix: `conformance:${run}:${++prefixes}:` });
    open.push(cache);
    return cache;
  }

  async function elapse(ms: number): Promise<void> {
    if (target.advanceTime) await target.advanceTime(ms);
    else await sleep(ms);
  }

  describe(`${target.name} backend conforms to the tiercache protocol`, () => {
    afterEach(async () => {
      for (const cache of open.splice(0)) {
        await cache.flush();
        await cache.close();
      }
    });
    if (target.teardown) afterAll(target.teardown);

    describe('get and set', () => {
      it('get returns null for a key that was never set', async () => {
        const cache = await make();
        expect(ok(await cache.get('never-set'))).toBeNull();
      });

      it('get returns what set stored', async () => {
        const cache = await make();
        ok(await cache.set('greeting', 'hello'));
        expect(ok(await cache.get('greeting'))).toBe('hello');
      });

      it('an empty string is a hit, not a miss', async () => {
        const cache = await make();
        ok(await cache.set('empty', ''));
        expect(ok(await cache.get('empty'))).toBe('');
        expect(ok(await cache.exists('empty'))).toBe(true);
      });

      it('set replaces the value and clears an earlier TTL, as Redis SET does', async () => {
        const cache = await make();
        ok(await cache.set('k', 'first', 100));
        ok(await cache.set('k', 'second'));
        expect(ok(await cache.get('k'))).toBe('second');
        expect(ok(await cache.ttl('k'))).toBeNull();
      });

      it('unicode keys and values round-trip unchanged', async () => {
        const cache = await make();
        const pairs = [
          ['ключ', 'значение'],
          ['键', '值'],
          ['🔑:emoji', '🧊❄️'],
          ['e\u0301', 'combining accent'],
        ] as const;
        for (const [key, value] of pairs) ok(await cache.set(key, value));
        for (const [key, value] of pairs) expect(ok(await cache.get(key))).toBe(value);
        expect(ok(await cache.get('\u00e9'))).toBeNull(); // precomposed é is another key
      });

      it('long keys and large values round-trip', async () => {
        const cache = await make();
        const longKey = `k${'x'.repeat(10_000)}`;
        const largeValue = 'v'.repeat(1024 * 1024);
        ok(await cache.set(longKey, largeValue));
        expect(ok(await cache.get(longKey))).toBe(largeValue);
      });

      it('glob characters in keys are stored literally', async () => {
        const cache = await make();
        ok(await cache.set('a*b', 'star'));
        expect(ok(await cache.get('a*b'))).toBe('star');
        expect(ok(await cache.get('axb'))).toBeNull();
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
        for (const [i, value] of values.entries()) ok(await cache.setJson(`json:${i}`, value));
        for (const [i, value] of values.entries())
          expect(ok(await cache.getJson(`json:${i}`))).toEqual(value);
      });

      it('setJson stores plain JSON text that get can read', async () => {
        const cache = await make();
        ok(await cache.setJson('user', { name: 'Ada' }));
        expect(ok(await cache.get('user'))).toBe('{"name":"Ada"}');
      });

      it('getJson returns null on a miss', async () => {
        const cache = await make();
        expect(ok(await cache.getJson('absent'))).toBeNull();
      });

      it('getJson of text that is not JSON is a SERIALIZATION error naming the key', async () => {
        const cache = await make();
        ok(await cache.set('broken', '{not json'));
        const error = err(await cache.getJson('broken'), 'SERIALIZATION');
        expect(error.key).toBe('broken');
        expect(error.message).toContain('"broken"');
      });

      it('setJson refuses values JSON cannot carry and keeps the old value', async () => {
        const cache = await make();
        ok(await cache.set('keep', 'old'));
        const circular: Record<string, unknown> = {};
        circular.self = circular;
        for (const value of [circular, 10n, undefined, () => 1, Symbol('s')]) {
          const error = err(await cache.setJson('keep', value), 'SERIALIZATION');
          expect(error.operation).toBe('setJson');
        }
        expect(ok(await cache.get('keep'))).toBe('old');
      });
    });

    describe('delete and exists', () => {
      it('delete says whether the key was there', async () => {
        const cache = await make();
        ok(await cache.set('k', 'v'));
        expect(ok(await cache.delete('k'))).toBe(true);
        expect(ok(await cache.delete('k'))).toBe(false);
        expect(ok(await cache.get('k'))).toBeNull();
      });

      it('exists follows set and delete', async () => {
        const cache = await make();
        expect(ok(await cache.exists('k'))).toBe(false);
        ok(await cache.set('k', 'v'));
        expect(ok(await cache.exists('k'))).toBe(true);
        ok(await cache.delete('k'));
        expect(ok(await cache.exists('k'))).toBe(false);
      });
    });

    describe('TTL, expire and expiry', () => {
      it('ttl is null for a missing key and for a key without TTL', async () => {
        const cache = await make();
        expect(ok(await cache.ttl('absent'))).toBeNull();
        ok(await cache.set('forever', 'v'));
        expect(ok(await cache.ttl('forever'))).toBeNull();
      });

      it('ttl reports seconds left with millisecond precision, never more than was set', async () => {
        const cache = await make();
        ok(await cache.set('k', 'v', 1.5));
        const left = ok(await cache.ttl('k'));
        expect(left).not.toBeNull();
        expect(left).toBeLessThanOrEqual(1.5);
        expect(left).toBeGreaterThanOrEqual(1.5 - slack);
        expect(Math.abs((left as number) * 1000 - Math.round((left as number) * 1000))).toBeLessThan(1e-6);
        await elapse(250);
        const later = ok(await cache.ttl('k'));
        expect(later).toBeLessThanOrEqual(1.25);
        expect(later).toBeGreaterThanOrEqual(1.25 - slack);
        if (manualClock) expect(later).toBe(1.25);
      });

      it('a key is gone once its TTL has passed: get, exists, ttl and getMany all see it gone', async () => {
        const cache = await make();
        ok(await cache.set('short', 'v', 0.2));
        ok(await cache.set('long', 'v', 100));
        expect(ok(await cache.get('short'))).toBe('v');
        await elapse(300);
        expect(ok(await cache.get('short'))).toBeNull();
        expect(ok(await cache.exists('short'))).toBe(false);
        expect(ok(await cache.ttl('short'))).toBeNull();
        expect([...ok(await cache.getMany(['short', 'long']))]).toEqual([
          ['short', null],
          ['long', 'v'],
        ]);
      });

      it('expire is false for a missing key, and sets a new TTL on an existing one', async () => {
        const cache = await make();
        expect(ok(await cache.expire('absent', 10))).toBe(false);
        expect(ok(await cache.exists('absent'))).toBe(false);
        ok(await cache.set('k', 'v'));
        expect(ok(await cache.expire('k', 10))).toBe(true);
        const left = ok(await cache.ttl('k'));
        expect(left).toBeLessThanOrEqual(10);
        expect(left).toBeGreaterThan(10 - slack - 0.001);
        expect(ok(await cache.expire('k', 0.2))).toBe(true);
        expect(ok(await cache.get('k'))).toBe('v');
        await elapse(300);
        expect(ok(await cache.get('k'))).toBeNull();
      });

      it('expire on a key that already expired is false', async () => {
        const cache = await make();
        ok(await cache.set('k', 'v', 0.1));
        await elapse(200);
        expect(ok(await cache.expire('k', 10))).toBe(false);
      });

      it('set with a TTL then without one makes the key permanent', async () => {
        const cache = await make();
        ok(await cache.set('k', 'v', 0.2));
        ok(await cache.set('k', 'v2'));
        await elapse(300);
        expect(ok(await cache.get('k'))).toBe('v2');
      });
    });

    describe('increment and decrement', () => {
      it('a missing key counts from 0, by 1 unless told otherwise', async () => {
        const cache = await make();
        expect(ok(await cache.increment('n'))).toBe(1);
        expect(ok(await cache.increment('n', 41))).toBe(42);
        expect(ok(await cache.decrement('n'))).toBe(41);
        expect(ok(await cache.decrement('n', 50))).toBe(-9);
        expect(ok(await cache.increment('n', -1))).toBe(-10);
        expect(ok(await cache.decrement('fresh', 5))).toBe(-5);
      });

      it('the counter is stored as a decimal string that get reads', async () => {
        const cache = await make();
        ok(await cache.set('n', '10'));
        expect(ok(await cache.increment('n', 5))).toBe(15);
        expect(ok(await cache.get('n'))).toBe('15');
      });

      it('an existing key keeps its TTL; a new key gets none', async () => {
        const cache = await make();
        ok(await cache.set('n', '5', 100));
        expect(ok(await cache.increment('n'))).toBe(6);
        const left = ok(await cache.ttl('n'));
        expect(left).toBeLessThanOrEqual(100);
        expect(left).toBeGreaterThan(100 - slack - 0.001);
        ok(await cache.increment('new'));
        expect(ok(await cache.ttl('new'))).toBeNull();
      });

      it('a value that is not a base-10 integer is WRONG_TYPE and stays as it was', async () => {
        const cache = await make();
        for (const stored of ['abc', '1.5', ' 1', '1 ', '01', '', '+1', '1e3', '-0', '9223372036854775808']) {
          ok(await cache.set('n', stored));
          const error = err(await cache.increment('n'), 'WRONG_TYPE');
          expect(error.key).toBe('n');
          expect(ok(await cache.get('n'))).toBe(stored);
        }
      });

      it('a result outside the safe-integer range is OUT_OF_RANGE and changes nothing', async () => {
        const cache = await make();
        ok(await cache.set('max', String(Number.MAX_SAFE_INTEGER)));
        err(await cache.increment('max'), 'OUT_OF_RANGE');
        expect(ok(await cache.get('max'))).toBe(String(Number.MAX_SAFE_INTEGER));
        ok(await cache.set('min', String(Number.MIN_SAFE_INTEGER)));
        err(await cache.decrement('min'), 'OUT_OF_RANGE');
        expect(ok(await cache.get('min'))).toBe(String(Number.MIN_SAFE_INTEGER));
        expect(ok(await cache.decrement('max', Number.MAX_SAFE_INTEGER))).toBe(0);
      });

      it('counts exactly up to the edge of the safe-integer range', async () => {
        const cache = await make();
        ok(await cache.set('edge', String(Number.MAX_SAFE_INTEGER - 1)));
        expect(ok(await cache.increment('edge'))).toBe(Number.MAX_SAFE_INTEGER);
        expect(ok(await cache.get('edge'))).toBe('9007199254740991');
        ok(await cache.set('low', String(Number.MIN_SAFE_INTEGER + 1)));
        expect(ok(await cache.decrement('low'))).toBe(Number.MIN_SAFE_INTEGER);
      });

      it('1,000 concurrent increments count exactly 1,000', async () => {
        const cache = await make();
        const results = await Promise.all(Array.from({ length: 1000 }, () => cache.increment('hits')));
        const values = results.map(ok).sort((a, b) => a - b);
        expect(values).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
        expect(ok(await cache.get('hits'))).toBe('1000');
      });
    });

    describe('flush and deletePattern', () => {
      it('flush removes every key of this cache', async () => {
        const cache = await make();
        ok(await cache.setMany({ a: '1', b: '2', c: '3' }));
        ok(await cache.flush());
        expect([...ok(await cache.getMany(['a', 'b', 'c'])).values()]).toEqual([null, null, null]);
        expect(ok(await cache.stats()).totalKeys).toBe(0);
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
          for (const key of keys) ok(await cache.set(key, 'v'));
          expect(ok(await cache.deletePattern(pattern))).toBe(deleted.length);
          for (const key of keys) expect(ok(await cache.exists(key)), key).toBe(!deleted.includes(key));
        });
      }

      it('deletePattern refuses a pattern that is not a non-empty string', async () => {
        const cache = await make();
        for (const pattern of ['', 42, undefined]) {
          err(await cache.deletePattern(pattern as never), 'INVALID_ARGUMENT');
        }
      });
    });

    describe('getMany and setMany', () => {
      it('getMany answers in the order asked, null for misses, each key once', async () => {
        const cache = await make();
        ok(await cache.set('a', '1'));
        ok(await cache.set('c', '3'));
        const found = ok(await cache.getMany(['c', 'b', 'a', 'c']));
        expect([...found]).toEqual([
          ['c', '3'],
          ['b', null],
          ['a', '1'],
        ]);
        expect(ok(await cache.getMany([])).size).toBe(0);
      });

      it('getMany refuses a list with an invalid key', async () => {
        const cache = await make();
        err(await cache.getMany(['ok', '']), 'INVALID_ARGUMENT');
        err(await cache.getMany(['ok', 7 as never]), 'INVALID_ARGUMENT');
        err(await cache.getMany('not-a-list' as never), 'INVALID_ARGUMENT');
      });

      it('setMany stores a Map or a plain object, with one TTL for all', async () => {
        const cache = await make();
        ok(
          await cache.setMany(
            new Map([
              ['m1', 'x'],
              ['m2', 'y'],
            ]),
          ),
        );
        ok(await cache.setMany({ o1: 'p', o2: 'q' }, 50));
        expect([...ok(await cache.getMany(['m1', 'm2', 'o1', 'o2'])).values()]).toEqual(['x', 'y', 'p', 'q']);
        expect(ok(await cache.ttl('m1'))).toBeNull();
        const left = ok(await cache.ttl('o2'));
        expect(left).toBeLessThanOrEqual(50);
        expect(left).toBeGreaterThan(50 - slack - 0.001);
      });

      it('setMany writes nothing when any key, value or the TTL is invalid', async () => {
        const cache = await make();
        ok(await cache.set('a', 'old'));
        err(await cache.setMany({ a: 'new', b: 42 as never }), 'INVALID_ARGUMENT');
        err(
          await cache.setMany(
            new Map([
              ['a', 'new'],
              ['', 'v'],
            ]),
          ),
          'INVALID_ARGUMENT',
        );
        err(await cache.setMany({ a: 'new' }, -5), 'INVALID_ARGUMENT');
        err(await cache.setMany(null as never), 'INVALID_ARGUMENT');
        expect(ok(await cache.get('a'))).toBe('old');
        expect(ok(await cache.exists('b'))).toBe(false);
      });

      it('setMany with no entries is Ok', async () => {
        const cache = await make();
        ok(await cache.setMany({}));
        ok(await cache.setMany(new Map()));
      });
    });

    describe('getOrSet', () => {
      it('a miss calls the loader and stores its value with the TTL; a hit does not call it', async () => {
        const cache = await make();
        let calls = 0;
        const loader = async () => `loaded-${++calls}`;
        expect(ok(await cache.getOrSet('k', loader, { ttl: 0.2 }))).toBe('loaded-1');
        expect(ok(await cache.getOrSet('k', loader, { ttl: 0.2 }))).toBe('loaded-1');
        expect(calls).toBe(1);
        expect(ok(await cache.get('k'))).toBe('loaded-1');
        await elapse(300);
        expect(ok(await cache.getOrSet('k', loader))).toBe('loaded-2');
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
        expect(results.map(ok)).toEqual(Array(10).fill('shared'));
        expect(calls).toBe(1);
      });

      it('a failing loader is a LOADER error and nothing is stored', async () => {
        const cache = await make();
        const error = err(
          await cache.getOrSet('k', async () => {
            throw new Error('database down');
          }),
          'LOADER',
        );
        expect(error.message).toContain('database down');
        expect(error.cause).toBeInstanceOf(Error);
        err(await cache.getOrSet('k', () => 42 as never), 'LOADER');
        expect(ok(await cache.exists('k'))).toBe(false);
        expect(ok(await cache.getOrSet('k', () => 'fine'))).toBe('fine');
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
            const error = err(await call(cache, key as never), 'INVALID_ARGUMENT');
            expect(error.operation).toBe(operation);
            expect(error.backend).toBe(cache.name);
            expect(error.message).toContain(`[tiercache:${cache.name}] ${operation}`);
            expect(error.message).toMatch(/key/);
          }
        });
      }

      it('set refuses a value that is not a string and keeps the old one', async () => {
        const cache = await make();
        ok(await cache.set('k', 'old'));
        for (const value of [42, undefined, null, { a: 1 }, Buffer.from('x')]) {
          const error = err(await cache.set('k', value as never), 'INVALID_ARGUMENT');
          expect(error.key).toBe('k');
          expect(error.message).toContain('"k"');
        }
        expect(ok(await cache.get('k'))).toBe('old');
      });

      it('a TTL that is not a positive finite number of seconds is refused and changes nothing', async () => {
        const cache = await make();
        ok(await cache.set('k', 'old'));
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
          err(await cache.set('k', 'new', ttl as never), 'INVALID_ARGUMENT');
          err(await cache.setJson('k', 'new', ttl as never), 'INVALID_ARGUMENT');
          err(await cache.expire('k', ttl as never), 'INVALID_ARGUMENT');
          err(await cache.getOrSet('other', () => 'v', { ttl: ttl as never }), 'INVALID_ARGUMENT');
        }
        expect(ok(await cache.get('k'))).toBe('old');
        expect(ok(await cache.ttl('k'))).toBeNull();
        expect(ok(await cache.exists('other'))).toBe(false);
      });

      it('an amount that is not a safe integer is refused and changes nothing', async () => {
        const cache = await make();
        ok(await cache.set('n', '5'));
        for (const amount of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '1', null]) {
          err(await cache.increment('n', amount as never), 'INVALID_ARGUMENT');
          err(await cache.decrement('n', amount as never), 'INVALID_ARGUMENT');
        }
        expect(ok(await cache.get('n'))).toBe('5');
      });
    });

    describe('ping and stats', () => {
      it('ping answers true', async () => {
        const cache = await make();
        expect(ok(await cache.ping())).toBe(true);
      });

      it('stats count hits, misses, rates, keys and operations', async () => {
        const cache = await make();
        ok(await cache.set('a', '1'));
        ok(await cache.set('b', '2', 100));
        ok(await cache.get('a'));
        ok(await cache.get('missing'));
        ok(await cache.getMany(['a', 'nope']));
        const stats = ok(await cache.stats());
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
        ok(await first.set('shared-name', 'first'));
        ok(await second.set('shared-name', 'second'));
        expect(ok(await first.get('shared-name'))).toBe('first');
        expect(ok(await second.get('shared-name'))).toBe('second');
        expect(ok(await first.stats()).totalKeys).toBe(1);
      });

      it('flush and deletePattern of one cache leave the other alone', async () => {
        const first = await make();
        const second = await make();
        ok(await first.setMany({ a: '1', b: '2' }));
        ok(await second.setMany({ a: '1', b: '2' }));
        expect(ok(await second.deletePattern('*'))).toBe(2);
        ok(await second.flush());
        expect([...ok(await first.getMany(['a', 'b'])).values()]).toEqual(['1', '2']);
      });
    });

    describe('getEntry', () => {
      it('where a backend offers getEntry, it returns the value and TTL, or null on a miss', async () => {
        const cache = await make();
        if (!cache.getEntry) {
          expect(cache.getEntry).toBeUndefined();
          return;
        }
        ok(await cache.set('k', 'v', 10));
        const entry = ok(await cache.getEntry('k'));
        expect(entry?.key).toBe('k');
        expect(entry?.value).toBe('v');
        expect(entry?.ttl).toBeLessThanOrEqual(10);
        expect(entry?.ttl).toBeGreaterThan(10 - slack - 0.001);
        expect(entry?.expiresAt).toBeGreaterThan(0);
        expect(ok(await cache.getEntry('absent'))).toBeNull();
      });
    });

    describe('getEntries', () => {
      it('where a backend offers getEntries, it answers values and TTLs in the order asked, each key once', async () => {
        const cache = await make();
        if (!cache.getEntries) {
          expect(cache.getEntries).toBeUndefined();
          return;
        }
        ok(await cache.set('a', '1', 10));
        ok(await cache.set('b', '2'));
        const found = ok(await cache.getEntries(['b', 'missing', 'a', 'b']));
        expect([...found.keys()]).toEqual(['b', 'missing', 'a']);
        expect(found.get('b')).toMatchObject({ key: 'b', value: '2', ttl: null });
        expect(found.get('missing')).toBeNull();
        expect(found.get('a')?.value).toBe('1');
        expect(found.get('a')?.ttl).toBeLessThanOrEqual(10);
        expect(found.get('a')?.ttl).toBeGreaterThan(10 - slack - 0.001);
        err(await cache.getEntries(['ok', ''] as never), 'INVALID_ARGUMENT');
      });
    });

    describe('close', () => {
      it('after close every operation is a CLOSED error, and closing again is Ok', async () => {
        const cache = await make();
        ok(await cache.close());
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
          const error = err(result, 'CLOSED');
          expect(error.message).toContain(`[tiercache:${cache.name}]`);
        }
        ok(await cache.close());
        // The afterEach flush of a closed cache is a harmless CLOSED error.
        open.splice(open.indexOf(cache), 1);
      });
    });
  });
}
