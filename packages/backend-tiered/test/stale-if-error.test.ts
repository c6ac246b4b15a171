import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createManualClock, createMemoryDriver, createMemoryStore } from '@tiercache/backend-memory';
import {
  type BackendEvent,
  type CacheDriver,
  DriverError,
  driverOf,
  EVENT_CHANNEL,
  StaleCopy,
} from '@tiercache/core';
import { expectErr, expectOk, publishedDuring } from '@tiercache/core/testing';
import { describe, expect, it } from 'vitest';
import { createTieredBackend, type TieredBackendOptions } from '../src/index.js';
import { handFedFeed } from './fixtures/hand-fed-feed.js';

/*
 * Stale-if-error for reads over memory tiers, on the manual clock. L2 is a memory driver whose calls can be made
 * to fail as an unreachable Redis's do (a CONNECTION or TIMEOUT DriverError), and whose change feed the test
 * feeds by hand, so "Redis is down" (feed lost, calls failing) and "only the feed is lost" are both set up
 * exactly. The same behaviour against a real redis-server, killed and frozen, is in redis-stale-if-error.test.ts.
 */

type Failure = 'CONNECTION' | 'TIMEOUT' | 'BACKEND' | undefined;

function setup(options: Partial<TieredBackendOptions> = {}) {
  const clock = createManualClock();
  const store = createMemoryStore({ clock });
  const l1 = createMemoryDriver({ clock });
  const l2 = createMemoryDriver({ store, keyPrefix: 'app:' });
  const { feed, emit } = handFedFeed();
  let failure: Failure;
  let calls = 0;
  /** While set, L2 reads its answer at once but replies only once it resolves, as a slow network would. */
  let held: Promise<void> | undefined;
  const flaky = new Proxy(l2 as CacheDriver, {
    get(object, property) {
      if (property === 'changes') return feed;
      const value = Reflect.get(object, property, object);
      if (typeof value !== 'function' || property === 'classify') return value;
      return (...args: unknown[]) => {
        calls++;
        if (failure !== undefined) {
          return Promise.reject(new DriverError(failure, `${failure} (the test's L2 is down)`));
        }
        const reply = value.apply(object, args);
        const gate = held;
        return gate ? gate.then(() => reply) : reply;
      };
    },
  });
  const cache = createTieredBackend({
    l1,
    l2: flaky,
    clock,
    breaker: { failureThreshold: 3, resetAfterMs: 1000 },
    ...options,
  });
  /** Redis going down as the tiered cache sees it: the feed is lost, and calls fail with `code`. */
  const down = (code: Failure = 'CONNECTION') => {
    failure = code;
    emit({ type: 'lost', reason: 'connection closed' });
  };
  const up = () => {
    failure = undefined;
    emit({ type: 'armed' });
  };
  /** Holds L2's replies back until the returned function is called. */
  const holdReplies = () => {
    let release: () => void = () => {};
    held = new Promise<void>((resolve) => {
      release = resolve;
    });
    return () => {
      held = undefined;
      release();
    };
  };
  return { clock, l1, l2, cache, emit, down, up, holdReplies, calls: () => calls };
}

const published = (during: () => Promise<unknown>) => publishedDuring(during);

describe('stale-if-error: L2 cannot be asked', () => {
  it('a warm key answers its L1 copy: Ok, counted as a stale hit, published as stale', async () => {
    const { cache, down, up } = setup();
    await cache.set('k', 'v');
    down();
    const seen = await published(async () => {
      expect(expectOk(await cache.get('k'))).toBe('v');
    });
    expect(seen.map(({ operation, outcome, tier }) => ({ operation, outcome, tier }))).toEqual([
      { operation: 'get', outcome: 'stale', tier: 'l1' },
    ]);
    let loads = 0;
    expect(expectOk(await cache.getOrSet('k', () => `loaded ${++loads}`))).toBe('v');
    expect(loads).toBe(0);
    up();
    const stats = expectOk(await cache.stats());
    expect(stats.staleHits).toBe(2);
    expect(stats.tiers?.l1?.staleHits).toBe(2);
    expect(stats.tiers?.l2?.staleHits).toBe(0);
  });

  it('answers stale for a timeout, a lost connection and the open breaker alike, and the copy knows its age', async () => {
    const { clock, cache, down, calls } = setup();
    await cache.set('k', 'v');
    clock.advance(1234);
    down('TIMEOUT');
    const copy = await driverOf(cache)?.get('k');
    expect(copy).toEqual(new StaleCopy('v', 1234, 'l1'));
    down('CONNECTION');
    expect(expectOk(await cache.get('k'))).toBe('v');
    expect(expectOk(await cache.get('k'))).toBe('v'); // the third failure opens the breaker
    const asked = calls();
    expect(expectOk(await cache.get('k'))).toBe('v');
    expect(calls()).toBe(asked); // refused by the breaker, answered from L1
  });

  it('getMany answers every key it has a copy of; a key without one fails the batch, or misses with onL2Failure: miss', async () => {
    const strict = setup();
    expectOk(await strict.cache.setMany({ a: '1', b: '2' }));
    strict.down();
    expect(expectOk(await strict.cache.getMany(['a', 'b']))).toEqual(
      new Map([
        ['a', '1'],
        ['b', '2'],
      ]),
    );
    expectErr(await strict.cache.getMany(['a', 'never']), 'CONNECTION');

    const lenient = setup({ onL2Failure: 'miss' });
    await lenient.cache.set('a', '1');
    lenient.down();
    expect(expectOk(await lenient.cache.getMany(['a', 'never']))).toEqual(
      new Map([
        ['a', '1'],
        ['never', null],
      ]),
    );
    lenient.up();
    expect(expectOk(await lenient.cache.stats())).toMatchObject({ hits: 1, misses: 1, staleHits: 1 });
  });

  it('a copy as old as staleIfError is not served: Err, or a miss with onL2Failure: miss', async () => {
    const strict = setup({ staleIfError: 5 });
    await strict.cache.set('k', 'v');
    strict.clock.advance(4999);
    strict.down();
    expect(expectOk(await strict.cache.get('k'))).toBe('v');
    strict.clock.advance(1);
    expectErr(await strict.cache.get('k'), 'CONNECTION');

    const lenient = setup({ staleIfError: 5, onL2Failure: 'miss' });
    await lenient.cache.set('k', 'v');
    lenient.clock.advance(5000);
    lenient.down();
    expect(expectOk(await lenient.cache.get('k'))).toBeNull();
  });

  it('staleIfError: 0 keeps the strict behaviour: L1 is emptied when the feed is lost, and reads answer Err', async () => {
    const { cache, l1, down } = setup({ staleIfError: 0 });
    await cache.set('k', 'v');
    down();
    expect(l1.exists('k')).toBe(false);
    expectErr(await cache.get('k'), 'CONNECTION');
    expectErr(await cache.getMany(['k']), 'CONNECTION');
  });

  it('staleIfError: 0 reports the emptied L1 as the feed is lost, not when it re-arms', async () => {
    const { cache, emit } = setup({ staleIfError: 0 });
    await cache.set('k', 'v');
    const events: BackendEvent[] = [];
    const listener = (event: unknown) => events.push(event as BackendEvent);
    subscribe(EVENT_CHANNEL, listener);
    try {
      emit({ type: 'lost', reason: 'connection reset' });
      emit({ type: 'armed' });
    } finally {
      unsubscribe(EVENT_CHANNEL, listener);
    }
    expect(events).toEqual([
      { backend: 'tiered', type: 'feed', state: 'lost', reason: 'connection reset' },
      { backend: 'tiered', type: 'l1-emptied', reason: 'change feed lost: connection reset' },
      { backend: 'tiered', type: 'feed', state: 'armed', reason: undefined },
    ]);
  });

  it('an L2 that answers with an error of its own (not unreachable) is not covered by a stale copy', async () => {
    const { cache, down } = setup();
    await cache.set('k', 'v');
    down('BACKEND');
    expectErr(await cache.get('k'), 'BACKEND');
  });

  it('with L2 reachable again and the feed re-armed, reads go to L2 and answer the new value', async () => {
    const { cache, l1, l2, down, up } = setup();
    await cache.set('k', 'old');
    down();
    expect(expectOk(await cache.get('k'))).toBe('old');
    up();
    l2.set('k', 'new', undefined); // written by someone else while this cache was not hearing
    expect(l1.exists('k')).toBe(false); // emptied on re-arming
    expect(expectOk(await cache.get('k'))).toBe('new');
  });
});

describe('stale-if-error: the feed lost while L2 answers', () => {
  it('L1 keeps its copies but answers none: reads go to L2, and L1 is emptied once re-armed', async () => {
    const { cache, l1, l2, emit, calls } = setup();
    l2.set('k', 'v', undefined);
    l2.set('other', 'o', undefined);
    await cache.getMany(['k', 'other']);
    emit({ type: 'lost', reason: 'connection reset' });
    expect(l1.exists('k')).toBe(true); // kept for reads L2 cannot answer
    l2.set('k', 'changed unheard', undefined);
    const asked = calls();
    expect(expectOk(await cache.get('k'))).toBe('changed unheard');
    expect(expectOk(await cache.getMany(['k', 'other']))).toEqual(
      new Map([
        ['k', 'changed unheard'],
        ['other', 'o'],
      ]),
    );
    expect(expectOk(await cache.exists('other'))).toBe(true);
    expect(calls()).toBe(asked + 3); // each call asked L2, none was answered by L1
    expect(l1.get('k')).toBeNull(); // contradicted by L2: never to be answered as a stale copy
    expect(l1.get('other')).toBe('o'); // L2 agreed: kept, not refreshed
    expectOk(await cache.set('other', 'mine'));
    expect(l1.exists('other')).toBe(false); // our own write: the older copy goes, the new one is not kept
    emit({ type: 'armed' });
    expect(expectOk(await cache.get('other'))).toBe('mine');
    expect(l1.get('other')).toBe('mine');
  });

  it('a read sent while the feed was lost and answered after it re-armed does not fill L1', async () => {
    for (const staleIfError of [0, 60]) {
      const { cache, l1, l2, emit, holdReplies } = setup({ staleIfError });
      l2.set('k', 'old', undefined);
      emit({ type: 'lost', reason: 'connection reset' });
      const release = holdReplies();
      const pending = cache.get('k');
      l2.set('k', 'new', undefined); // unheard: the feed is down
      emit({ type: 'armed' });
      release();
      expect(expectOk(await pending)).toBe('old');
      expect(l1.exists('k')).toBe(false);
      expect(expectOk(await cache.get('k'))).toBe('new');
    }
  });
});

describe('stale-if-error: options', () => {
  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, '5'])(
    'refuses staleIfError %s at construction, saying what to pass',
    (staleIfError) => {
      expect(() => setup({ staleIfError: staleIfError as number })).toThrow(
        /staleIfError must be a finite number of seconds >= 0 \(0 turns stale answers off\)/,
      );
    },
  );
});
