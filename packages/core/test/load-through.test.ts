import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCache } from '../src/cache.js';
import type { Clock } from '../src/cache-backend.js';
import { expectErr, expectOk, publishedDuring } from '../src/testing/helpers.js';
import { MapDriver } from './map-driver.js';

/*
 * getOrSet's waits on the controllable clock: vitest's fake timers move setTimeout and Date together, so a
 * 10-second hard timeout takes no real time.
 */

const clock: Clock = { now: () => Date.now() };
const never = () => new Promise<string>(() => {});

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A cache whose one key `k` has a grace copy (its value expired, as a TTL would have removed it). */
async function withGraceCopy(value: string) {
  const driver = new MapDriver();
  const cache = createCache(driver, { clock });
  expectOk(await cache.getOrSet('k', () => value, { grace: 3600 }));
  driver.data.delete('k');
  return { driver, cache };
}

describe('getOrSet on the clock', () => {
  it('1,000 concurrent calls on a cold key run the loader once', async () => {
    const cache = createCache(new MapDriver(), { clock });
    let calls = 0;
    const loader = async () => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 50));
      return 'once';
    };
    const pending = Array.from({ length: 1_000 }, () => cache.getOrSet('k', loader));
    await vi.advanceTimersByTimeAsync(50);
    const answers = await Promise.all(pending);
    expect(new Set(answers.map(expectOk))).toEqual(new Set(['once']));
    expect(calls).toBe(1);
  });

  it('a hard timeout answers TIMEOUT at its second, not before, however long the loader hangs', async () => {
    const cache = createCache(new MapDriver(), { clock });
    let settled = false;
    const pending = cache.getOrSet('k', never, { hardTimeout: 10 }).then((result) => {
      settled = true;
      return result;
    });
    await vi.advanceTimersByTimeAsync(9_999);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expectErr(await pending, 'TIMEOUT');
  });

  it('a caller joining a hung load waits its own hard timeout, not the first caller’s', async () => {
    const cache = createCache(new MapDriver(), { clock });
    const first = cache.getOrSet('k', never, { hardTimeout: 10 });
    await vi.advanceTimersByTimeAsync(5_000);
    const second = cache.getOrSet('k', never, { hardTimeout: 1 });
    await vi.advanceTimersByTimeAsync(1_000);
    expectErr(await second, 'TIMEOUT');
    await vi.advanceTimersByTimeAsync(4_000);
    expectErr(await first, 'TIMEOUT');
  });

  it('getOrSetMany answers TIMEOUT at its hard timeout, even when an earlier key of the batch lands late', async () => {
    const cache = createCache(new MapDriver(), { clock });
    // 'a' is already being loaded, and lands after 9 s; the batch's loader for 'b' hangs.
    const slowA = cache.getOrSet(
      'a',
      () => new Promise<string>((resolve) => setTimeout(() => resolve('A'), 9_000)),
    );
    let settled = false;
    const pending = cache
      .getOrSetMany(['a', 'b'], () => new Promise<Record<string, string>>(() => {}), { hardTimeout: 10 })
      .then((result) => {
        settled = true;
        return result;
      });
    await vi.advanceTimersByTimeAsync(9_999);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(settled).toBe(true);
    expectErr(await pending, 'TIMEOUT');
    expect(expectOk(await slowA)).toBe('A');
  });

  it('a soft timeout answers the grace copy at its second, and the loader still updates the cache', async () => {
    const { driver, cache } = await withGraceCopy('old');
    let finish: (value: string) => void = () => {};
    const slow = () => new Promise<string>((resolve) => (finish = resolve));
    const pending = cache.getOrSet('k', slow, { grace: 3600, softTimeout: 2 });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(expectOk(await pending)).toBe('old');
    finish('new');
    await vi.advanceTimersByTimeAsync(0);
    expect(driver.data.get('k')).toBe('new');
    expect(expectOk(await cache.stats()).staleHits).toBe(1);
  });

  it('without a grace copy, a soft timeout leaves the caller waiting for the loader', async () => {
    const cache = createCache(new MapDriver(), { clock });
    let finish: (value: string) => void = () => {};
    const slow = () => new Promise<string>((resolve) => (finish = resolve));
    const pending = cache.getOrSet('k', slow, { grace: 3600, softTimeout: 2, hardTimeout: 60 });
    await vi.advanceTimersByTimeAsync(5_000);
    finish('loaded');
    expect(expectOk(await pending)).toBe('loaded');
  });

  it('after a failure answered from grace, the loader is left alone for graceBackoff, then tried again', async () => {
    const { cache } = await withGraceCopy('good');
    let calls = 0;
    const failing = () => {
      calls++;
      throw new Error('down');
    };
    const options = { grace: 3600, graceBackoff: 30 };
    expect(expectOk(await cache.getOrSet('k', failing, options))).toBe('good');
    await vi.advanceTimersByTimeAsync(29_000);
    expect(expectOk(await cache.getOrSet('k', failing, options))).toBe('good');
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(expectOk(await cache.getOrSet('k', () => 'back', options))).toBe('back');
  });

  it('close() settles a pending call at once, with CLOSED, and stores nothing the loader brings later', async () => {
    const driver = new MapDriver();
    const cache = createCache(driver, { clock });
    let finish: (value: string) => void = () => {};
    const pending = cache.getOrSet('k', () => new Promise<string>((resolve) => (finish = resolve)));
    await vi.advanceTimersByTimeAsync(0);
    expectOk(await cache.close());
    expectErr(await pending, 'CLOSED');
    finish('late');
    await vi.advanceTimersByTimeAsync(0);
    expect(driver.data.has('k')).toBe(false);
  });

  it('a call whose read of the store lands after close() is answered CLOSED, not left waiting', async () => {
    const driver = new MapDriver();
    // A store that answers later, as a remote one does: the read is in flight when close() is called.
    Object.defineProperty(driver, 'local', { value: false });
    Object.defineProperty(driver, 'peek', { value: null });
    Object.defineProperty(driver, 'get', { value: () => Promise.resolve(null) });
    const cache = createCache(driver, { clock });
    const pending = cache.getOrSet('k', never);
    expectOk(await cache.close());
    expectErr(await pending, 'CLOSED');
  });

  it('refresh ahead reloads once, in the background, a key hit in the last part of its TTL', async () => {
    const driver = new MapDriver();
    const cache = createCache(driver, { clock });
    let calls = 0;
    const loader = () => `v${++calls}`;
    const options = { ttl: 100, refreshAhead: 0.2 };
    expect(expectOk(await cache.getOrSet('k', loader, options))).toBe('v1');
    await vi.advanceTimersByTimeAsync(79_000);
    expect(expectOk(await cache.getOrSet('k', loader, options))).toBe('v1');
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(expectOk(await cache.getOrSet('k', loader, options))).toBe('v1');
    expect(expectOk(await cache.getOrSet('k', loader, options))).toBe('v1');
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(2);
    expect(driver.data.get('k')).toBe('v2');
  });
});

describe('where a getOrSet answer came from', () => {
  it('the seam tells a hit, a load, and a stale grace copy with its age, call by call', async () => {
    const { cache } = await withGraceCopy('good');
    await vi.advanceTimersByTimeAsync(90_000);
    const seen = await publishedDuring(async () => {
      await cache.getOrSet('k', () => Promise.reject(new Error('down')), { grace: 3600 });
      await cache.getOrSet('other', () => 'loaded');
      await cache.getOrSet('other', () => 'unused');
    });
    expect(seen.map(({ key, outcome, tier }) => `${key} ${outcome} ${tier}`)).toEqual([
      'k stale l2',
      'other miss none',
      'other hit l1',
    ]);
    expect(seen[0]?.ageMs).toBe(90_000);
  });
});
