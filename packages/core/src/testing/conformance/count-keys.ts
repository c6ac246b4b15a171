import { describe, expect, it } from 'vitest';
import type { CountKeysOptions } from '../../cache-backend.js';
import { expectErr, expectOk } from '../helpers.js';
import { type ConformanceContext, settle } from './context.js';

/**
 * `countKeys`: the exact, bounded count of the keys under the prefix that `stats()` does not walk for. It counts
 * at most `limit` keys; `complete` says whether it counted every key (exactly `limit` keys is complete).
 */
export function describeCountKeys({ make, slack }: ConformanceContext): void {
  describe('countKeys', () => {
    it('an empty prefix counts no keys, completely', async () => {
      const cache = await make();
      expect(expectOk(await cache.countKeys())).toEqual({
        keys: 0,
        keysWithTtl: 0,
        averageTtlSeconds: null,
        complete: true,
      });
    });

    it('counts the keys, those with a TTL and their average TTL, as stats does where it counts', async () => {
      const cache = await make();
      expectOk(await cache.setMany({ a: '1', b: '2' }));
      expectOk(await cache.set('brief', 'x', 100));
      expectOk(await cache.set('long', 'y', 200));
      const count = expectOk(await cache.countKeys());
      expect(count).toMatchObject({ keys: 4, keysWithTtl: 2, complete: true });
      expect(count.averageTtlSeconds).toBeGreaterThan(150 - slack - 0.001);
      expect(count.averageTtlSeconds).toBeLessThanOrEqual(150);
      const stats = expectOk(await cache.stats());
      // stats() counts only where that walks no remote keyspace; then it agrees with countKeys.
      if (stats.totalKeys === null) expect(stats.averageTtlSeconds).toBeNull();
      else {
        expect(stats.totalKeys).toBe(4);
        expect(stats.averageTtlSeconds).toBeGreaterThan(150 - slack - 0.001);
        expect(stats.averageTtlSeconds).toBeLessThanOrEqual(150);
      }
    });

    it('stops once it has counted limit keys, and then says the count is incomplete', async () => {
      const cache = await make();
      const keys = Array.from({ length: 25 }, (_, i) => `key:${i}`);
      expectOk(await cache.setMany(Object.fromEntries(keys.map((key) => [key, 'v'])), 60));
      for (const limit of [1, 10, 24]) {
        const count = expectOk(await cache.countKeys({ limit }));
        expect(count, `limit ${limit}`).toMatchObject({ keys: limit, keysWithTtl: limit, complete: false });
      }
      for (const limit of [25, 26, 100_000]) {
        expect(expectOk(await cache.countKeys({ limit })), `limit ${limit}`).toMatchObject({
          keys: 25,
          keysWithTtl: 25,
          complete: true,
        });
      }
      expect(expectOk(await cache.countKeys({}))).toMatchObject({ keys: 25, complete: true });
    });

    it('refuses a limit that is not a positive safe integer, and options that are not an object', async () => {
      const cache = await make();
      expectOk(await cache.set('kept', 'v'));
      const throwing = new Proxy(
        {},
        {
          get() {
            throw new Error('no reading me');
          },
        },
      );
      const getter = Object.defineProperty({}, 'limit', {
        get() {
          throw new Error('no limit here');
        },
      });
      const refused: Array<[shown: string, options: unknown]> = [
        ['{ limit: 0 }', { limit: 0 }],
        ['{ limit: -1 }', { limit: -1 }],
        ['{ limit: 1.5 }', { limit: 1.5 }],
        ['{ limit: NaN }', { limit: Number.NaN }],
        ['{ limit: Infinity }', { limit: Number.POSITIVE_INFINITY }],
        ['{ limit: 2 ** 53 }', { limit: 2 ** 53 }],
        ["{ limit: '10' }", { limit: '10' }],
        ['{ limit: null }', { limit: null }],
        ['{ limit: 10n }', { limit: 10n }],
        ['42', 42],
        ["'limit'", 'limit'],
        ['null', null],
        ['true', true],
        ['a Proxy that throws', throwing],
        ['a getter that throws', getter],
      ];
      for (const [shown, options] of refused) {
        const what = `countKeys(${shown})`;
        const result = await settle(what, () => cache.countKeys(options as CountKeysOptions));
        const error = expectErr(result, 'INVALID_ARGUMENT');
        expect(error.operation, what).toBe('countKeys');
        expect(error.message).toContain(`[tiercache:${cache.name}] countKeys`);
        expect(error.message).toMatch(/limit|options/);
      }
      const stats = expectOk(await cache.stats());
      expect(stats.operations.countKeys).toBe(refused.length);
      expect(expectOk(await cache.countKeys()).keys).toBe(1);
      expect(expectOk(await cache.stats()).operations.countKeys).toBe(refused.length + 1);
    });
  });
}
