import type { CacheBackend } from '@tiercache/core';
import { expectErr, expectOk } from '@tiercache/core/testing';
import { describe, expect, it } from 'vitest';
import { createManualClock, createMemoryBackend, createMemoryStore } from '../src/index.js';

describe('bounds', () => {
  it('evicts the least recently used key beyond maxEntries, and counts the eviction', async () => {
    const cache = createMemoryBackend({ maxEntries: 3 });
    await cache.set('a', '1');
    await cache.set('b', '2');
    await cache.set('c', '3');
    await cache.get('a'); // a is now the most recently used
    await cache.set('d', '4');
    expect(expectOk(await cache.exists('b'))).toBe(false);
    expect(expectOk(await cache.getMany(['a', 'c', 'd']))).toEqual(
      new Map([
        ['a', '1'],
        ['c', '3'],
        ['d', '4'],
      ]),
    );
    const stats = expectOk(await cache.stats());
    expect(stats.evictedKeys).toBe(1);
    expect(stats.totalKeys).toBe(3);
  });

  it('keeps the UTF-8 bytes of keys and values under maxBytes by evicting', async () => {
    const cache = createMemoryBackend({ maxBytes: 100 });
    for (let i = 0; i < 10; i++) await cache.set(`key${i}`, 'x'.repeat(16)); // 20 bytes each
    const stats = expectOk(await cache.stats());
    expect(stats.memoryUsageBytes).toBeLessThanOrEqual(100);
    expect(stats.totalKeys).toBe(5);
    expect(stats.evictedKeys).toBe(5);
    // 'é' is two bytes in UTF-8: 2 + 4 + 2 + 2 = 10 bytes for key "éa" and value "éé"
    await cache.set('éa', 'éé');
    const entry = expectOk(await cache.getEntry('éa'));
    expect(entry?.value).toBe('éé');
  });

  it('refuses with CAPACITY an entry larger than maxBytes, keeping the old value', async () => {
    const cache = createMemoryBackend({ maxBytes: 64 });
    await cache.set('k', 'small');
    expectErr(await cache.set('k', 'x'.repeat(100)), 'CAPACITY');
    expectErr(await cache.setJson('k', 'x'.repeat(100)), 'CAPACITY');
    expectErr(await cache.setMany({ other: 'ok', k: 'x'.repeat(100) }), 'CAPACITY');
    expect(expectOk(await cache.get('k'))).toBe('small');
    expect(expectOk(await cache.exists('other'))).toBe(false);
  });

  it('answers a getOrSet value too large to store, and counts it as not stored', async () => {
    const cache = createMemoryBackend({ maxBytes: 64 });
    expect(expectOk(await cache.getOrSet('big', () => 'x'.repeat(100)))).toBe('x'.repeat(100));
    expect(expectOk(await cache.exists('big'))).toBe(false);
    expect(expectOk(await cache.stats()).loadsNotStored).toBe(1);
  });
});

describe('time and expiry with the manual clock', () => {
  it('a key lives for its full TTL and is gone the millisecond after, as in Redis', async () => {
    const clock = createManualClock();
    const cache = createMemoryBackend({ clock });
    await cache.set('k', 'v', 2);
    clock.advance(2000);
    expect(expectOk(await cache.get('k'))).toBe('v');
    expect(expectOk(await cache.ttl('k'))).toBe(0);
    clock.advance(1);
    expect(expectOk(await cache.get('k'))).toBeNull();
  });

  it('counts every expired key exactly, whether or not it was read again', async () => {
    const clock = createManualClock();
    const cache = createMemoryBackend({ clock });
    await cache.setMany({ a: '1', b: '2', c: '3' }, 1);
    await cache.set('d', '4');
    clock.advance(1001);
    await cache.get('a'); // removed on read
    const stats = expectOk(await cache.stats()); // b and c are swept when stats are taken
    expect(stats.expiredKeys).toBe(3);
    expect(stats.totalKeys).toBe(1);
    expect(stats.averageTtlSeconds).toBeNull();
  });

  it('defaultTtl applies when set is given no TTL, and an explicit TTL wins', async () => {
    const clock = createManualClock();
    const cache = createMemoryBackend({ clock, defaultTtl: 60 });
    await cache.set('default', 'v');
    await cache.set('explicit', 'v', 5);
    expect(expectOk(await cache.ttl('default'))).toBe(60);
    expect(expectOk(await cache.ttl('explicit'))).toBe(5);
    await cache.increment('counter');
    expect(expectOk(await cache.ttl('counter'))).toBeNull(); // INCR on a missing key sets no TTL, as in Redis
  });

  it('getEntry reports expiresAt on the clock it was given', async () => {
    const clock = createManualClock(Date.UTC(2030, 0, 1));
    const cache = createMemoryBackend({ clock });
    await cache.set('k', 'v', 10);
    const entry = expectOk(await cache.getEntry('k'));
    expect(entry?.expiresAt).toBe(Date.UTC(2030, 0, 1) + 10_000);
  });
});

describe('time with the system clock', () => {
  it('a key read in a loop of awaits, which never lets a timer run, still expires on time', async () => {
    const cache = createMemoryBackend();
    await cache.set('k', 'v', 0.05);
    const started = Date.now();
    let reads = 0;
    // Only microtasks run here: a clock refreshed by a timer alone would never move.
    while ((await cache.get('k')).unwrap() !== null && Date.now() - started < 1000) reads++;
    const lived = Date.now() - started;
    expect(lived).toBeGreaterThanOrEqual(49);
    expect(lived).toBeLessThan(900); // a clock stuck at one reading would run to the 1 s deadline
    expect(reads).toBeGreaterThan(0);
  });
});

describe('access tracking', () => {
  it('records writes, reads and versions, and ranks the most read keys', async () => {
    const clock = createManualClock();
    const cache = createMemoryBackend({ clock, trackAccess: true });
    await cache.set('hot', '1');
    await cache.set('warm', '1');
    await cache.set('cold', '1');
    for (let i = 0; i < 3; i++) await cache.get('hot');
    clock.advance(500);
    await cache.get('warm');
    await cache.getMany(['hot']);
    // getEntry is a read too, and the entry it returns counts it: 3 gets, 1 getMany, this one.
    const hot = expectOk(await cache.getEntry('hot'));
    expect(hot).toMatchObject({ accessCount: 5, createdAt: clock.now() - 500, lastAccessedAt: clock.now() });
    const before = hot?.version ?? 0;
    await cache.set('hot', '2');
    const rewritten = expectOk(await cache.getEntry('hot'));
    expect(rewritten?.version).toBeGreaterThan(before);
    expect(rewritten?.accessCount).toBe(1); // a new write starts the count again
    await cache.get('hot');
    const stats = expectOk(await cache.stats());
    expect(stats.mostAccessedKeys).toEqual([
      { key: 'hot', accessCount: 2 },
      { key: 'warm', accessCount: 1 },
    ]);
  });

  it("forgets a key's record when the key is deleted or evicted", async () => {
    const cache = createMemoryBackend({ trackAccess: true, maxEntries: 1 });
    await cache.set('a', '1');
    await cache.get('a');
    await cache.set('b', '1'); // evicts a
    await cache.set('a', '1');
    const entry = expectOk(await cache.getEntry('a'));
    expect(entry?.accessCount).toBe(1); // only this read: the evicted key's earlier read is forgotten
    await cache.get('a');
    await cache.delete('a');
    await cache.set('a', '1');
    expect(expectOk(await cache.stats()).mostAccessedKeys).toEqual([]);
  });

  it('is off by default: the fields it feeds are null and the ranking empty', async () => {
    const cache = createMemoryBackend();
    await cache.set('k', 'v');
    await cache.get('k');
    const entry = expectOk(await cache.getEntry('k'));
    expect(entry).toMatchObject({
      accessCount: null,
      createdAt: null,
      version: null,
      ttl: null,
      expiresAt: null,
    });
    expect(expectOk(await cache.stats()).mostAccessedKeys).toEqual([]);
  });

  it('is off by default, yet a key with a TTL still tells when it was written, from its TTL clock', async () => {
    const clock = createManualClock();
    const cache = createMemoryBackend({ clock });
    await cache.set('k', 'v', 60);
    const written = clock.now();
    clock.advance(1500);
    expect(expectOk(await cache.getEntry('k'))).toMatchObject({ createdAt: written, accessCount: null });
  });
});

describe('shared stores', () => {
  it('two backends with the same prefix on one store share keys, as two clients of one Redis do', async () => {
    const store = createMemoryStore();
    const writer = createMemoryBackend({ store, keyPrefix: 'app:' });
    const reader = createMemoryBackend({ store, keyPrefix: 'app:' });
    await writer.set('k', 'v');
    expect(expectOk(await reader.get('k'))).toBe('v');
  });

  it('an empty prefix sees every key of the store, and its flush clears them all', async () => {
    const store = createMemoryStore();
    const scoped = createMemoryBackend({ store, keyPrefix: 'app:' });
    const root = createMemoryBackend({ store });
    await scoped.set('k', 'v');
    expect(expectOk(await root.get('app:k'))).toBe('v');
    await root.flush();
    expect(expectOk(await scoped.get('k'))).toBeNull();
  });

  it('closing one backend leaves a shared store to the others', async () => {
    const store = createMemoryStore();
    const first = createMemoryBackend({ store, keyPrefix: 'p:' });
    const second = createMemoryBackend({ store, keyPrefix: 'p:' });
    await first.set('k', 'v');
    await first.close();
    expect(expectOk(await second.get('k'))).toBe('v');
  });
});

describe('options', () => {
  it.each([
    [{ maxEntries: 0 }, /maxEntries must be a positive integer/],
    [{ maxEntries: 1.5 }, /maxEntries/],
    [{ maxBytes: -1 }, /maxBytes must be a positive integer/],
    [{ defaultTtl: 0 }, /defaultTtl must be/],
    [{ keyPrefix: 5 }, /keyPrefix must be a string/],
    [{ clock: {} }, /clock must have a now\(\) method/],
    [{ store: createMemoryStore(), maxEntries: 10 }, /pass them to createMemoryStore\(\)/],
  ])('%o is refused at construction with a message that says how to fix it', (options, message) => {
    expect(() => createMemoryBackend(options as never)).toThrow(message);
  });

  it('the manual clock only moves forward', () => {
    const clock = createManualClock(1000);
    clock.advance(5);
    expect(clock.now()).toBe(1005);
    expect(() => clock.advance(-1)).toThrow(/advance/);
    expect(() => clock.set(10)).toThrow(/only move forward/);
    expect(() => createManualClock(0)).toThrow(/positive epoch/);
  });
});

describe('never throws', () => {
  it('answers every call with a Result, even for arguments of the wrong type', async () => {
    const cache: CacheBackend = createMemoryBackend();
    const garbage = [undefined, null, 0, -1, Number.NaN, {}, [], () => 1, Symbol('x'), 10n];
    for (const bad of garbage) {
      const calls = [
        cache.get(bad as never),
        cache.set('k', bad as never, bad as never),
        cache.setJson(bad as never, bad),
        cache.expire('k', bad as never),
        cache.increment('k', bad as never),
        cache.deletePattern(bad as never),
        cache.getMany(bad as never),
        cache.setMany(bad as never),
        cache.getOrSet('k', bad as never),
      ];
      for (const result of await Promise.all(calls)) expect(typeof result.isOk()).toBe('boolean');
    }
  });
});
