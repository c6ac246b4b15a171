import {
  createManualClock,
  createMemoryBackend,
  createMemoryDriver,
  createMemoryStore,
} from '@tiercache/backend-memory';
import {
  type BackendEvent,
  type CacheDriver,
  type CacheLogger,
  DriverError,
  EVENT_CHANNEL,
  type LocalDriver,
} from '@tiercache/core';
import { publishedDuring } from '@tiercache/core/testing';
import { describe, expect, it } from 'vitest';
import { createTieredBackend } from '../src/index.js';
import { handFedFeed } from './fixtures/hand-fed-feed.js';

/*
 * The tiered backend over memory tiers. Two tiered caches over one memory store behave as two processes over
 * one Redis: the store's change feed reports each one's writes to the other. The tiers are drivers, watched, so
 * a test sees every call the tiered cache makes to them.
 */

function setup(options: { l1Ttl?: number } = {}) {
  const clock = createManualClock();
  const store = createMemoryStore({ clock });
  const l1 = watch<LocalDriver>(createMemoryDriver({ clock }));
  const l2 = watch<CacheDriver>(createMemoryDriver({ store, keyPrefix: 'app:' }));
  const cache = createTieredBackend({ l1: l1.driver, l2: l2.driver, clock, ...options });
  /** Another process: its own L1, the same L2 store. */
  const otherProcess = () =>
    createTieredBackend({ l1: { clock }, l2: createMemoryBackend({ store, keyPrefix: 'app:' }), clock });
  /** A program writing to L2 without tiercache's tiered layer; also how a test reads what L2 holds. */
  const plainWriter = createMemoryBackend({ store, keyPrefix: 'app:' });
  return { clock, store, l1, l2, cache, otherProcess, plainWriter };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

/** `driver`, with a count of the calls made to each of its methods. */
function watch<D extends CacheDriver>(driver: D) {
  const calls: Record<string, number> = {};
  const watched = new Proxy(driver, {
    get(object, property) {
      const value = Reflect.get(object, property, object);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls[String(property)] = (calls[String(property)] ?? 0) + 1;
        return value.apply(object, args);
      };
    },
  });
  return { driver: watched, calls: (method: string) => calls[method] ?? 0 };
}

/** Delegates to `target`, binding methods to it, except for what `overrides` replaces. */
function wrap<D extends CacheDriver>(target: D, overrides: Partial<Record<keyof CacheDriver, unknown>>): D {
  return new Proxy(target, {
    get(object, property) {
      if (property in overrides) return overrides[property as keyof CacheDriver];
      const value = Reflect.get(object, property, object);
      return typeof value === 'function' ? value.bind(object) : value;
    },
  });
}

/** What a driver does when its store cannot be reached. */
const unreachable = (code: 'TIMEOUT' | 'CONNECTION' = 'CONNECTION') =>
  Promise.reject(new DriverError(code, code === 'TIMEOUT' ? 'timed out' : 'refused'));

describe('reads', () => {
  it('an L1 hit does not touch L2', async () => {
    const { cache, l2 } = setup();
    await cache.set('k', 'v');
    const before = l2.calls('getEntries') + l2.calls('get');
    for (let i = 0; i < 3; i++) expect((await cache.get('k')).unwrap()).toBe('v');
    expect(l2.calls('getEntries') + l2.calls('get')).toBe(before);
  });

  it('exists answers from L1 without asking L2 or reading the key in L1', async () => {
    const { cache, l1, l2 } = setup();
    await cache.set('k', 'v');
    const l1Gets = l1.calls('get');
    expect((await cache.exists('k')).unwrap()).toBe(true);
    expect(l1.calls('get')).toBe(l1Gets);
    expect(l1.calls('exists')).toBe(1);
    expect(l2.calls('exists')).toBe(0);
    expect((await cache.exists('absent')).unwrap()).toBe(false);
    expect(l2.calls('exists')).toBe(1);
  });

  it('an L1 miss reads L2 once and fills L1 with what L2 has left, capped by l1Ttl', async () => {
    const { cache, l1, plainWriter } = setup({ l1Ttl: 30 });
    await plainWriter.set('short', 'v', 10);
    await plainWriter.set('long', 'v', 100);
    await plainWriter.set('forever', 'v');
    for (const key of ['short', 'long', 'forever']) expect((await cache.get(key)).unwrap()).toBe('v');
    expect(l1.driver.ttl('short')).toBe(10_000);
    expect(l1.driver.ttl('long')).toBe(30_000);
    expect(l1.driver.ttl('forever')).toBe(30_000);
  });

  it('getMany answers L1 hits locally and asks L2 for all misses in one batch, in the order asked', async () => {
    const { cache, l2, plainWriter } = setup();
    await plainWriter.setMany({ a: '1', b: '2', c: '3' });
    await cache.get('a');
    const before = l2.calls('getEntries');
    const found = (await cache.getMany(['c', 'a', 'x', 'b', 'c'])).unwrap();
    expect([...found]).toEqual([
      ['c', '3'],
      ['a', '1'],
      ['x', null],
      ['b', '2'],
    ]);
    expect(l2.calls('getEntries') - before).toBe(1);
    expect(l2.calls('get')).toBe(0);
  });

  it('a key with a lone surrogate is refused without asking L2, even while L1 holds its U+FFFD twin', async () => {
    const { cache, l1, l2 } = setup();
    await cache.set('\uFFFD', 'twin');
    expect(l1.driver.get('\uFFFD')).toBe('twin');
    const before = l2.calls('getEntries') + l2.calls('get');
    for (const key of ['\uD800', '\uDFFF', 'a\uDC00b']) {
      const refused = await cache.get(key);
      expect(refused.isErr() && refused.error.code).toBe('INVALID_ARGUMENT');
    }
    expect(l2.calls('getEntries') + l2.calls('get')).toBe(before);
  });

  it('concurrent misses on one key make one L2 read', async () => {
    const { cache, l2, plainWriter } = setup();
    await plainWriter.set('k', 'v');
    const results = await Promise.all(Array.from({ length: 20 }, () => cache.get('k')));
    expect(results.map((result) => result.unwrap())).toEqual(Array(20).fill('v'));
    expect(l2.calls('getEntries')).toBe(1);
  });

  it('stats count L1 hits, L2 hits and misses, per tier and combined', async () => {
    const { cache, plainWriter } = setup();
    await plainWriter.set('remote', 'v');
    await cache.set('local', 'v');
    await cache.get('local'); // L1 hit
    await cache.get('remote'); // L2 hit, fills L1
    await cache.get('remote'); // L1 hit
    await cache.get('absent'); // miss
    const stats = (await cache.stats()).unwrap();
    expect(stats).toMatchObject({ backend: 'tiered', hits: 3, misses: 1, hitRate: 0.75, totalKeys: 2 });
    expect(stats.tiers?.l1).toMatchObject({ backend: 'memory', hits: 2, misses: 2, totalKeys: 2 });
    expect(stats.tiers?.l2).toMatchObject({ backend: 'memory', hits: 1, misses: 1, totalKeys: 2 });
  });
});

describe('writes', () => {
  it('go to L2 and L1, so the writer reads back what it wrote without asking L2', async () => {
    const { cache, l1, plainWriter } = setup();
    await cache.set('k', 'v1', 50);
    expect((await plainWriter.get('k')).unwrap()).toBe('v1');
    expect(l1.driver.get('k')).toBe('v1');
    expect(l1.driver.ttl('k')).toBe(50_000);
  });

  it('a failed L2 write answers Err and leaves L1 without the key', async () => {
    const { cache, l1, l2 } = setup();
    await cache.set('k', 'old');
    const failing = createTieredBackend({
      l1: l1.driver,
      l2: wrap(l2.driver, { set: () => unreachable('TIMEOUT') }),
    });
    const result = await failing.set('k', 'new');
    expect(result.isErr() && result.error.code).toBe('TIMEOUT');
    expect(result.isErr() && result.error.message).toBe('[tiercache:tiered] set "k": timed out');
    expect(l1.driver.exists('k')).toBe(false);
    expect((await failing.get('k')).unwrap()).toBe('old'); // read through to what L2 really has
  });

  it('a value too large for L1 is written to L2 and leaves no older copy in L1', async () => {
    const { l2, plainWriter } = setup();
    const small = createMemoryDriver({ maxBytes: 100 });
    const cache = createTieredBackend({ l1: small, l2: l2.driver });
    await cache.set('k', 'small');
    expect(small.get('k')).toBe('small');
    expect((await cache.set('k', 'x'.repeat(1000))).isOk()).toBe(true);
    expect(small.exists('k')).toBe(false);
    expect((await cache.get('k')).unwrap()).toBe('x'.repeat(1000));
    expect((await plainWriter.get('k')).unwrap()).toBe('x'.repeat(1000));
    await cache.setMany({ k: 'small again' });
    await cache.setMany({ k: 'y'.repeat(1000) });
    expect(small.exists('k')).toBe(false);
    expect((await cache.get('k')).unwrap()).toBe('y'.repeat(1000));
  });

  it('increment is atomic in L2 and leaves nothing in L1; delete and expire act on both tiers', async () => {
    const { cache, l1, plainWriter } = setup();
    await cache.set('n', '1', 100);
    expect((await cache.increment('n', 4)).unwrap()).toBe(5);
    expect(l1.driver.exists('n')).toBe(false);
    expect((await cache.get('n')).unwrap()).toBe('5');
    expect((await cache.expire('n', 5)).unwrap()).toBe(true);
    expect(l1.driver.exists('n')).toBe(false);
    expect((await plainWriter.ttl('n')).unwrap()).toBe(5);
    await cache.get('n');
    expect((await cache.delete('n')).unwrap()).toBe(true);
    expect(l1.driver.exists('n')).toBe(false);
    expect((await plainWriter.exists('n')).unwrap()).toBe(false);
  });

  it('flush and deletePattern clear both tiers', async () => {
    const { cache, l1, plainWriter } = setup();
    await cache.setMany({ 'user:1': 'a', 'user:2': 'b', other: 'c' });
    expect((await cache.deletePattern('user:*')).unwrap()).toBe(2);
    expect(l1.driver.exists('user:1')).toBe(false);
    expect(l1.driver.exists('other')).toBe(true);
    await cache.flush();
    expect(l1.driver.exists('other')).toBe(false);
    expect((await plainWriter.exists('other')).unwrap()).toBe(false);
  });
});

describe('coherence across processes', () => {
  it("a write in one process drops the key from the other process's L1", async () => {
    const { cache, otherProcess } = setup();
    const other = otherProcess();
    await cache.set('k', 'v1');
    expect((await other.get('k')).unwrap()).toBe('v1'); // now in the other L1
    await cache.set('k', 'v2');
    await settle();
    expect((await other.get('k')).unwrap()).toBe('v2');
    await cache.delete('k');
    await settle();
    expect((await other.get('k')).unwrap()).toBeNull();
  });

  it('a write to L2 by a program outside the tiered layer reaches L1', async () => {
    const { cache, plainWriter } = setup();
    await cache.set('k', 'v1');
    await plainWriter.set('k', 'external');
    await settle();
    expect((await cache.get('k')).unwrap()).toBe('external');
  });

  /** L2 reads the value at once, but its reply is held back until `release()`, as a slow network would. */
  function heldBack(l2: CacheDriver, holding: () => boolean = () => true) {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const driver = wrap(l2, {
      getEntries: async (keys: readonly string[]) => {
        const entries = await l2.getEntries(keys);
        if (holding()) await gate;
        return entries;
      },
    });
    return { driver, release: () => release() };
  }

  it('a read-through that began before an invalidation does not put the old value into L1', async () => {
    const { l1, l2, plainWriter } = setup();
    await plainWriter.set('k', 'old');
    const slow = heldBack(l2.driver);
    const cache = createTieredBackend({ l1: l1.driver, l2: slow.driver });
    const pending = cache.get('k');
    await plainWriter.set('k', 'new'); // the invalidation arrives while the reply is in flight
    await settle();
    slow.release();
    expect((await pending).unwrap()).toBe('old'); // the answer was right when read...
    expect(l1.driver.exists('k')).toBe(false); // ...but is not kept
    expect((await cache.get('k')).unwrap()).toBe('new');
  });

  it('a read that starts after a local write does not join an older read still in flight', async () => {
    const { l1, l2, plainWriter } = setup();
    await plainWriter.set('k', 'old');
    let held = true;
    const slow = heldBack(l2.driver, () => held);
    const cache = createTieredBackend({ l1: l1.driver, l2: slow.driver, coherence: false });
    const early = cache.get('k');
    held = false;
    await cache.set('k', 'new');
    l1.driver.delete('k'); // even with nothing in L1, the read after the write must not see 'old'
    expect((await cache.get('k')).unwrap()).toBe('new');
    slow.release();
    expect((await early).unwrap()).toBe('old');
  });

  it('with staleIfError: 0, when the feed is lost, L1 is emptied and not filled again until the feed is re-armed', async () => {
    const { l1, l2, plainWriter } = setup();
    const { feed, emit } = handFedFeed();
    const cache = createTieredBackend({
      l1: l1.driver,
      l2: wrap(l2.driver, { changes: feed }),
      staleIfError: 0,
    });
    await plainWriter.set('k', 'v');
    await cache.get('k');
    expect(l1.driver.exists('k')).toBe(true);
    emit({ type: 'lost', reason: 'connection reset' });
    expect(l1.driver.exists('k')).toBe(false);
    expect((await cache.get('k')).unwrap()).toBe('v');
    expect(l1.driver.exists('k')).toBe(false); // served, not cached
    await cache.set('k', 'v2');
    expect(l1.driver.exists('k')).toBe(false); // not even our own write
    emit({ type: 'armed' });
    expect((await cache.get('k')).unwrap()).toBe('v2');
    expect(l1.driver.exists('k')).toBe(true);
  });
});

describe('when L2 fails', () => {
  function failingSetup(onL2Failure: 'error' | 'miss' = 'error') {
    const { clock, l1, l2 } = setup();
    let calls = 0;
    let down = false;
    const flaky = new Proxy(l2.driver, {
      get(object, property) {
        const value = Reflect.get(object, property, object);
        if (typeof value !== 'function' || property === 'classify') return value;
        return (...args: unknown[]) => {
          if (!down) return value.apply(object, args);
          calls++;
          return unreachable();
        };
      },
    });
    const cache = createTieredBackend({
      l1: l1.driver,
      l2: flaky,
      clock,
      onL2Failure,
      breaker: { failureThreshold: 3, resetAfterMs: 1000 },
    });
    return { clock, cache, setDown: (value: boolean) => (down = value), calls: () => calls };
  }

  it('L1 hits go on; misses answer Err; after 3 failures the breaker answers without calling L2', async () => {
    const { clock, cache, setDown, calls } = failingSetup();
    await cache.set('cached', 'v');
    setDown(true);
    expect((await cache.get('cached')).unwrap()).toBe('v');
    for (let i = 0; i < 3; i++) {
      const miss = await cache.get(`miss-${i}`);
      expect(miss.isErr() && miss.error.code).toBe('CONNECTION');
    }
    expect(calls()).toBe(3);
    const refused = await cache.get('another');
    expect(refused.isErr() && refused.error.message).toMatch(/circuit open after 3 consecutive failures/);
    const write = await cache.set('cached', 'new');
    expect(write.isErr() && write.error.code).toBe('CONNECTION');
    expect(calls()).toBe(3); // neither call reached L2
    expect((await cache.get('cached')).unwrap()).toBe('v'); // L1 still agrees with L2, which was never written

    // After resetAfterMs one probe goes through; once L2 answers, the circuit closes.
    setDown(false);
    clock.advance(1000);
    expect((await cache.get('another')).unwrap()).toBeNull();
    expect((await cache.set('k', 'v')).isOk()).toBe(true);
  });

  it('a failed probe opens the circuit again for another resetAfterMs', async () => {
    const { clock, cache, setDown, calls } = failingSetup();
    setDown(true);
    for (let i = 0; i < 3; i++) await cache.get(`miss-${i}`);
    clock.advance(1000);
    await cache.get('probe');
    expect(calls()).toBe(4);
    await cache.get('refused');
    expect(calls()).toBe(4);
  });

  it("with onL2Failure: 'miss', reads answer as misses instead of errors", async () => {
    const { cache, setDown, clock } = failingSetup('miss');
    setDown(true);
    expect((await cache.get('k')).unwrap()).toBeNull();
    expect((await cache.getMany(['a', 'b'])).unwrap()).toEqual(
      new Map([
        ['a', null],
        ['b', null],
      ]),
    );
    expect((await cache.exists('k')).unwrap()).toBe(false);
    // The loaded value is answered though it could not be stored, and counted as not stored.
    expect((await cache.getOrSet('k', () => 'loaded')).unwrap()).toBe('loaded');
    setDown(false);
    clock.advance(1000); // past the breaker's reset
    expect((await cache.stats()).unwrap().loadsNotStored).toBe(1);
  });
});

describe('tiers', () => {
  it('take caches made by the backend factories, and close them with the tiered cache', async () => {
    const store = createMemoryStore();
    const l1 = createMemoryBackend();
    const l2 = createMemoryBackend({ store, keyPrefix: 'app:' });
    const cache = createTieredBackend({ l1, l2 });
    await cache.set('k', 'v');
    expect((await l2.get('k')).unwrap()).toBe('v');
    expect((await l1.get('k')).unwrap()).toBe('v');
    await cache.close();
    const closed = await l2.get('k');
    expect(closed.isErr() && closed.error.code).toBe('CLOSED');
  });

  it('are left open with closeTiers: false', async () => {
    const l2 = createMemoryBackend();
    const cache = createTieredBackend({ l2, closeTiers: false });
    await cache.set('k', 'v');
    await cache.close();
    expect((await l2.get('k')).unwrap()).toBe('v');
  });
});

describe('options', () => {
  it.each([
    [{}, /l2 must be a cache backend/],
    [{ l2: { get: () => null } }, /l2 must be a cache backend/],
    [{ l2: createMemoryBackend(), l1Ttl: 0 }, /l1Ttl must be/],
    [{ l2: createMemoryBackend(), onL2Failure: 'ignore' }, /onL2Failure must be 'error' or 'miss'/],
    [
      { l2: createMemoryBackend(), breaker: { failureThreshold: 0 } },
      /failureThreshold must be a positive integer/,
    ],
    [{ l2: createMemoryBackend(), l1: { get: () => undefined } }, /l1 must answer reads in-process/],
  ])('%o is refused at construction with a message that says how to fix it', (options, message) => {
    expect(() => createTieredBackend(options as never)).toThrow(message);
  });

  it('refuses an L1 that does not answer in-process, such as another tiered cache', () => {
    const inner = createTieredBackend({ l2: createMemoryBackend() });
    expect(() => createTieredBackend({ l1: inner, l2: createMemoryBackend() })).toThrow(
      /l1 must answer reads in-process/,
    );
  });
});

describe('health events on the observability seam', () => {
  const eventsDuring = (body: () => Promise<void>) => publishedDuring<BackendEvent>(body, EVENT_CHANNEL);

  it('the breaker reports opening, its probe and closing again', async () => {
    const clock = createManualClock();
    const l2 = createMemoryDriver({ clock });
    let down = false;
    const flaky = wrap(l2, {
      getEntries: (keys: readonly string[]) => (down ? unreachable() : l2.getEntries(keys)),
    });
    const cache = createTieredBackend({
      l2: flaky,
      clock,
      breaker: { failureThreshold: 2, resetAfterMs: 100 },
    });
    const events = await eventsDuring(async () => {
      down = true;
      await cache.get('a');
      await cache.get('b');
      down = false;
      clock.advance(100);
      await cache.get('c');
    });
    expect(events).toEqual([
      { backend: 'tiered', type: 'breaker', state: 'open' },
      { backend: 'tiered', type: 'breaker', state: 'half-open' },
      { backend: 'tiered', type: 'breaker', state: 'closed' },
    ]);
  });

  it('a lost feed reports the loss with its reason; re-arming, the L1 emptied then, and invalidations are reported', async () => {
    const { l1, l2, plainWriter } = setup();
    const { feed, emit } = handFedFeed();
    const cache = createTieredBackend({ l1: l1.driver, l2: wrap(l2.driver, { changes: feed }) });
    await plainWriter.set('k', 'v');
    await cache.get('k');
    const events = await eventsDuring(async () => {
      emit({ type: 'keys', keys: ['k', 'other'] });
      emit({ type: 'lost', reason: 'connection reset' });
      emit({ type: 'armed' });
      emit({ type: 'all' });
    });
    expect(events).toEqual([
      { backend: 'tiered', type: 'invalidation', count: 2 },
      { backend: 'tiered', type: 'feed', state: 'lost', reason: 'connection reset' },
      { backend: 'tiered', type: 'feed', state: 'armed', reason: undefined },
      {
        backend: 'tiered',
        type: 'l1-emptied',
        reason: 'change feed re-armed: copies from before may have missed changes',
      },
      { backend: 'tiered', type: 'invalidation', count: 'all' },
    ]);
  });

  it('an L1 hit and an L2 hit are told apart on the operation channel', async () => {
    const { cache, plainWriter } = setup();
    await plainWriter.set('remote', 'v');
    const seen = await publishedDuring(async () => {
      await cache.get('remote');
      await cache.get('remote');
      await cache.get('absent');
    });
    expect(seen.map(({ outcome, tier }) => ({ outcome, tier }))).toEqual([
      { outcome: 'hit', tier: 'l2' },
      { outcome: 'hit', tier: 'l1' },
      { outcome: 'miss', tier: 'none' },
    ]);
  });
});

describe('health lines in the logger', () => {
  /** The logger's lines, kept. */
  function recordingLogger() {
    const lines: Array<{ level: 'warn' | 'info'; obj: Record<string, unknown>; msg: string }> = [];
    const logger: CacheLogger = {
      warn: (obj, msg) => lines.push({ level: 'warn', obj: obj as Record<string, unknown>, msg }),
      info: (obj, msg) => lines.push({ level: 'info', obj: obj as Record<string, unknown>, msg }),
    };
    return { logger, lines };
  }

  it('an outage of L2 is one warning when the circuit opens and one line when it closes, whatever the probes', async () => {
    const clock = createManualClock();
    const l2 = createMemoryDriver({ clock, keyPrefix: 'app:' });
    let down = false;
    const flaky = wrap(l2, {
      getEntries: (keys: readonly string[]) => (down ? unreachable() : l2.getEntries(keys)),
    });
    const { logger, lines } = recordingLogger();
    const cache = createTieredBackend({
      l2: flaky,
      clock,
      logger,
      breaker: { failureThreshold: 2, resetAfterMs: 100 },
    });
    const before = lines.length;
    down = true;
    await cache.get('a');
    await cache.get('b');
    // Two probes that fail: half-open and open again, twice, on the seam only.
    for (const key of ['c', 'd']) {
      clock.advance(100);
      expect((await cache.get(key)).isErr()).toBe(true);
    }
    down = false;
    clock.advance(100);
    expect((await cache.get('e')).isOk()).toBe(true);
    expect(lines.slice(before)).toEqual([
      {
        level: 'warn',
        obj: { backend: 'tiered', keyPrefix: 'app:', breaker: 'open', failureThreshold: 2 },
        msg: 'tiercache: L2 circuit open after 2 consecutive failures; calls that need L2 fail at once, and one probes it every 100 ms',
      },
      {
        level: 'info',
        obj: { backend: 'tiered', keyPrefix: 'app:', breaker: 'closed' },
        msg: 'tiercache: L2 circuit closed: L2 answers again',
      },
    ]);
  });

  it('a lost change feed is a warning with its reason, and its arming again a line; its first arming is not', async () => {
    const { l1, l2 } = setup();
    const { feed, emit } = handFedFeed();
    const { logger, lines } = recordingLogger();
    createTieredBackend({ l1: l1.driver, l2: wrap(l2.driver, { changes: feed }), logger });
    // The first arming is told by the coherence line.
    expect(lines.map((line) => line.msg)).toEqual(['tiercache: L1 is kept coherent by key tracking']);
    emit({ type: 'lost', reason: 'connection reset' });
    emit({ type: 'armed' });
    expect(lines.slice(1)).toEqual([
      {
        level: 'warn',
        obj: { backend: 'tiered', keyPrefix: 'app:', feed: 'lost', reason: 'connection reset' },
        msg: 'tiercache: change feed lost (connection reset): L1 emptied, and not filled until the feed is armed again',
      },
      {
        level: 'info',
        obj: { backend: 'tiered', keyPrefix: 'app:', feed: 'armed' },
        msg: 'tiercache: change feed armed again: L1 fills again',
      },
    ]);
  });
});
