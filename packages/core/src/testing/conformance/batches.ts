import { describe, expect, it } from 'vitest';
import { expectErr, expectOk } from '../helpers.js';
import type { ConformanceContext } from './context.js';

/** `getMany` and `setMany`: answers in the order asked, and all-or-nothing writes. */
export function describeBatches({ make, slack }: ConformanceContext): void {
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
}
