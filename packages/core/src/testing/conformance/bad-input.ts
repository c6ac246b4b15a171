import { describe, expect, it } from 'vitest';
import type { CacheBackend } from '../../cache-backend.js';
import { expectErr, expectOk } from '../helpers.js';
import type { ConformanceContext, Outcome } from './context.js';
import { hostileInputTests } from './hostile-input.js';

/**
 * Input the types forbid but a plain-JS caller can pass: keys, values, TTLs and amounts of the wrong type or
 * range, refused with `INVALID_ARGUMENT` and changing nothing; then, from {@link hostileInputTests}, input that
 * throws when read or that the store cannot carry.
 */
export function describeBadInput(context: ConformanceContext): void {
  const { make } = context;
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

    hostileInputTests(context);
  });
}
