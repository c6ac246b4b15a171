import { expect, it } from 'vitest';
import type { CacheEntries } from '../../cache-backend.js';
import { expectOk } from '../helpers.js';
import { type ConformanceContext, expectRefused } from './context.js';

/**
 * Defines, inside the `bad input` block of `describeBadInput`, the tests of input that throws when read
 * (options, key lists, entries), and of keys, values, patterns and TTLs the store cannot carry: lone
 * surrogates, TTLs under a millisecond. Each is refused with `INVALID_ARGUMENT`, and nothing is written.
 */
export function hostileInputTests({ make }: ConformanceContext): void {
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

  it('getMany reads the keys it checked, even from a list that answers otherwise when read again', async () => {
    const cache = await make();
    expectOk(await cache.set('a', '1'));
    expectOk(await cache.set('b', '2'));
    // Each index answers its key the first time, and a number every time after.
    const reads = new Map<string, number>();
    const shifty = new Proxy(['a', 'b'], {
      get(target, property, receiver) {
        if (typeof property !== 'string' || !/^\d+$/.test(property))
          return Reflect.get(target, property, receiver);
        const count = (reads.get(property) ?? 0) + 1;
        reads.set(property, count);
        return count === 1 ? Reflect.get(target, property, receiver) : 42;
      },
    });
    const found = expectOk(await cache.getMany(shifty));
    expect([...found]).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
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
      const error = await expectRefused(cache, 'setMany', `setMany(${what})`, () => cache.setMany(build()));
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
      await expectRefused(cache, 'getMany', `getMany(['a', ${shown(key)}])`, () => cache.getMany(['a', key]));
      await expectRefused(cache, 'setMany', `setMany({ a: 'new', ${shown(key)}: 'new' })`, () =>
        cache.setMany({ a: 'new', [key]: 'new' }),
      );
    }
    const found = expectOk(await cache.getMany(['\uFFFD', 'a\uFFFDb', 'a']));
    expect([...found.values()]).toEqual(['old', 'old', null]);
    expect(expectOk(await cache.countKeys()).keys).toBe(2);
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
    await expectRefused(cache, 'setMany', 'setMany({ k }, 0.0005)', () => cache.setMany({ k: 'new' }, ttl));
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
}
