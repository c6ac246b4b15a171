import { describe, expect, it } from 'vitest';
import { driverOf } from '../../cache.js';
import type { CacheBackend } from '../../cache-backend.js';
import type { CacheDriver, LockGrant } from '../../driver.js';
import { expectErr, expectOk } from '../helpers.js';
import { type ConformanceContext, sleep } from './context.js';

/** A loader that never settles, as a database call that hangs. */
const never = () => new Promise<string>(() => {});

/** Waits, in real time, until `read` answers `expected` (a background write landing); fails after 3 s. */
async function until(read: () => Promise<unknown>, expected: unknown): Promise<void> {
  const deadline = Date.now() + 3_000;
  let last: unknown;
  while (Date.now() < deadline) {
    last = await read();
    if (last === expected) return;
    await sleep(10);
  }
  expect(last).toBe(expected);
}

const readsOf = (cache: CacheBackend, key: string) => async () => expectOk(await cache.get(key));

/**
 * getOrSet in full: typed values, grace copies, soft and hard timeouts, `close()`, batches, a lock shared by
 * the caches of one store with its fencing, refresh ahead and jitter.
 */
export function describeLoadThrough({ make, makeSharing, elapse, slack }: ConformanceContext): void {
  describe('getOrSetJson', () => {
    it('stores plain JSON text and answers the typed value, on a miss and on a hit', async () => {
      const cache = await make();
      const user = { id: 1, tags: ['a'] };
      expect(expectOk(await cache.getOrSetJson('user', () => user))).toBe(user);
      expect(expectOk(await cache.get('user'))).toBe('{"id":1,"tags":["a"]}');
      let calls = 0;
      const again = expectOk(await cache.getOrSetJson('user', () => ({ calls: ++calls })));
      expect(again).toEqual(user);
      expect(calls).toBe(0);
    });

    it('a value JSON cannot carry is Err SERIALIZATION and is not stored', async () => {
      const cache = await make();
      expectErr(await cache.getOrSetJson('k', () => 10n), 'SERIALIZATION');
      expectErr(await cache.getOrSetJson('k', () => undefined), 'SERIALIZATION');
      expect(expectOk(await cache.exists('k'))).toBe(false);
    });
  });

  describe('getOrSet when the loader fails or hangs', () => {
    it('with grace, answers the last good value as stale and leaves the loader alone for the back-off', async () => {
      const cache = await make();
      const options = { ttl: 0.2, grace: 60 };
      await cache.getOrSet('k', () => 'good', options);
      await elapse(300);
      // The key itself expired, as its TTL said: other programs see the truth.
      expect(expectOk(await cache.exists('k'))).toBe(false);
      let calls = 0;
      const failing = () => {
        calls++;
        throw new Error('database down');
      };
      expect(expectOk(await cache.getOrSet('k', failing, options))).toBe('good');
      expect(expectOk(await cache.getOrSet('k', failing, options))).toBe('good');
      expect(calls).toBe(1);
      expect(expectOk(await cache.stats()).staleHits).toBe(2);
    });

    it('without a grace copy, a failing loader is Err LOADER', async () => {
      const cache = await make();
      await cache.getOrSet('k', () => 'good', { ttl: 0.2 });
      await elapse(300);
      expectErr(await cache.getOrSet('k', () => Promise.reject(new Error('down')), { ttl: 0.2 }), 'LOADER');
    });

    it('a hard timeout answers TIMEOUT for a loader that never settles, and the next call loads afresh', async () => {
      const cache = await make();
      const error = expectErr(await cache.getOrSet('k', never, { hardTimeout: 0.05 }), 'TIMEOUT');
      expect(error.message).toContain('"k"');
      // The hung load no longer holds the key: this call runs its own loader, with all the time it needs.
      expect(expectOk(await cache.getOrSet('k', () => 'fresh', { hardTimeout: 10 }))).toBe('fresh');
    });

    it('a hard timeout answers the grace copy when there is one', async () => {
      const cache = await make();
      await cache.getOrSet('k', () => 'good', { ttl: 0.2, grace: 60 });
      await elapse(300);
      expect(expectOk(await cache.getOrSet('k', never, { grace: 60, hardTimeout: 0.05 }))).toBe('good');
    });

    it('a soft timeout answers the grace copy and lets the loader finish and store in the background', async () => {
      const cache = await make();
      await cache.getOrSet('k', () => 'old', { ttl: 0.2, grace: 60 });
      await elapse(300);
      let finish: (value: string) => void = () => {};
      const slow = () => new Promise<string>((resolve) => (finish = resolve));
      const options = { ttl: 60, grace: 60, softTimeout: 0.02 };
      expect(expectOk(await cache.getOrSet('k', slow, options))).toBe('old');
      finish('new');
      await until(readsOf(cache, 'k'), 'new');
    });

    it('close() settles a call whose loader never settles, with CLOSED', async () => {
      const cache = await make();
      // Closed while the call may still be reading the store, before its load: answered all the same.
      const pending = cache.getOrSet('k', never);
      expectOk(await cache.close());
      expectErr(await pending, 'CLOSED');
    });
  });

  describe('getOrSetMany', () => {
    it('answers cached keys from the cache, loads the missing ones in one call, in the order asked', async () => {
      const cache = await make();
      await cache.setMany({ a: 'A', b: 'B' });
      const asked: string[][] = [];
      const loaded = expectOk(
        await cache.getOrSetMany(['c', 'a', 'd', 'b', 'c'], (keys) => {
          asked.push(keys);
          return { c: 'C', unasked: 'X' };
        }),
      );
      expect([...loaded]).toEqual([
        ['c', 'C'],
        ['a', 'A'],
        ['d', null],
        ['b', 'B'],
      ]);
      expect(asked).toEqual([['c', 'd']]);
      expect(expectOk(await cache.get('c'))).toBe('C');
      // A key the loader left out is a miss, not stored; one it was not asked for is not stored either.
      expect(expectOk(await cache.exists('d'))).toBe(false);
      expect(expectOk(await cache.exists('unasked'))).toBe(false);
    });

    it('getOrSetManyJson stores JSON text and answers the loader’s values from a Map', async () => {
      const cache = await make();
      const values = expectOk(
        await cache.getOrSetManyJson(['x', 'y'], (keys) => new Map(keys.map((key) => [key, { key }]))),
      );
      expect(values.get('x')).toEqual({ key: 'x' });
      expect(expectOk(await cache.get('y'))).toBe('{"key":"y"}');
    });

    it('a failing batch loader is Err LOADER; with grace, keys with a copy answer it', async () => {
      const cache = await make();
      await cache.getOrSetMany(['a'], () => ({ a: 'A' }), { ttl: 0.2, grace: 60 });
      await elapse(300);
      const failing = () => Promise.reject(new Error('down'));
      expectErr(await cache.getOrSetMany(['a', 'b'], failing, { grace: 60 }), 'LOADER');
      expect([...expectOk(await cache.getOrSetMany(['a'], failing, { grace: 60 }))]).toEqual([['a', 'A']]);
    });
  });

  describe('getOrSet with a lock', () => {
    it('two caches of one store missing the same key run the loader once between them', async () => {
      const [first, second] = await makeSharing();
      let calls = 0;
      const loader = async () => {
        calls++;
        await sleep(50);
        return 'once';
      };
      const options = { lock: { ttl: 2 } };
      const answers = await Promise.all([
        first.getOrSet('k', loader, options),
        second.getOrSet('k', loader, options),
      ]);
      expect(answers.map(expectOk)).toEqual(['once', 'once']);
      expect(calls).toBe(1);
    });

    it('fencing: a holder whose lock expired and was taken over cannot overwrite the newer value', async () => {
      const cache = await make();
      expect(driverOf(cache), 'caches made by createCache expose their driver').toBeDefined();
      const driver = driverOf(cache) as CacheDriver;
      const late = (await driver.lock('k', 100)) as LockGrant;
      expect(late.held).toBe(true);
      const refused = await driver.lock('k', 100);
      expect(refused).toMatchObject({ held: false });
      await elapse(150);
      const newer = (await driver.lock('k', 5_000)) as LockGrant;
      expect(newer.held).toBe(true);
      expect(newer.fence).toBeGreaterThan(late.fence);
      const entry = (value: string) => [{ key: 'k', value, ttlMs: undefined, graceMs: 0 }];
      expect(await driver.storeLoaded(entry('newer'), newer)).toBe(true);
      expect(await driver.storeLoaded(entry('late'), late)).toBe(false);
      expect(expectOk(await cache.get('k'))).toBe('newer');
      await driver.unlock('k', newer);
      // A key that holds a value is not locked again: there is nothing to load.
      expect(await driver.lock('k', 100)).toEqual({ held: false, remainingMs: 0 });
      expectOk(await cache.delete('k'));
      expect(await driver.lock('k', 100)).toMatchObject({ held: true });
    });
  });

  describe('refresh ahead and jitter', () => {
    for (const lock of [false, true]) {
      it(`a hit late in its TTL answers at once and reloads in the background (lock: ${lock})`, async () => {
        const cache = await make();
        const options = { ttl: 0.4, refreshAhead: 0.5, lock };
        await cache.getOrSet('k', () => 'v1', options);
        await elapse(250);
        expect(expectOk(await cache.getOrSet('k', () => 'v2', options))).toBe('v1');
        await until(readsOf(cache, 'k'), 'v2');
      });
    }

    it('jitter shortens a TTL by at most its fraction, never lengthens it', async () => {
      const cache = await make();
      await cache.getOrSet('k', () => 'v', { ttl: 100, jitter: 0.5 });
      const ttl = expectOk(await cache.ttl('k'));
      expect(ttl).toBeGreaterThanOrEqual(50 - slack);
      expect(ttl).toBeLessThanOrEqual(100);
    });
  });

  describe('getOrSet with bad options', () => {
    const bad: unknown[] = [
      'fast',
      [],
      { hardTimeout: -1 },
      { softTimeout: Number.NaN },
      { grace: Number.POSITIVE_INFINITY },
      { softTimeout: 2, hardTimeout: 1 },
      { lock: 'yes' },
      { lock: { ttl: 0 } },
      { refreshAhead: 1 },
      { jitter: -0.1 },
      {
        get grace() {
          throw new Error('getter');
        },
      },
    ];

    it('answers INVALID_ARGUMENT naming the option, calls no loader, and stores nothing', async () => {
      const cache = await make();
      let calls = 0;
      const loader = () => `v${++calls}`;
      for (const options of bad) {
        const error = expectErr(await cache.getOrSet('k', loader, options as never), 'INVALID_ARGUMENT');
        expect(error.message).toMatch(/options|Timeout|grace|lock|refreshAhead|jitter/);
        expectErr(await cache.getOrSetMany(['k'], () => ({}), options as never), 'INVALID_ARGUMENT');
      }
      expectErr(await cache.getOrSet('k', 42 as never), 'INVALID_ARGUMENT');
      expectErr(await cache.getOrSetJson('k', null as never), 'INVALID_ARGUMENT');
      expectErr(await cache.getOrSetMany(['k'], 'loader' as never), 'INVALID_ARGUMENT');
      expectErr(await cache.getOrSetMany('k' as never, () => ({})), 'INVALID_ARGUMENT');
      expect(calls).toBe(0);
      expect(expectOk(await cache.exists('k'))).toBe(false);
    });
  });
}
