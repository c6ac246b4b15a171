import { describe, expect, it } from 'vitest';
import { expectErr, expectOk } from '../helpers.js';
import type { ConformanceContext } from './context.js';

/**
 * `getJson` and `setJson`: plain JSON text in the store, and `SERIALIZATION` errors for what JSON cannot
 * carry.
 */
export function describeJson({ make }: ConformanceContext): void {
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
      for (const [i, value] of values.entries()) expectOk(await cache.setJson(`json:${i}`, value));
      for (const [i, value] of values.entries())
        expect(expectOk(await cache.getJson(`json:${i}`))).toEqual(value);
    });

    it('setJson stores plain JSON text that get can read', async () => {
      const cache = await make();
      expectOk(await cache.setJson('user', { name: 'Ada' }));
      expect(expectOk(await cache.get('user'))).toBe('{"name":"Ada"}');
    });

    it('getJson returns null on a miss', async () => {
      const cache = await make();
      expect(expectOk(await cache.getJson('absent'))).toBeNull();
    });

    it('getJson of text that is not JSON is a SERIALIZATION error naming the key', async () => {
      const cache = await make();
      expectOk(await cache.set('broken', '{not json'));
      const error = expectErr(await cache.getJson('broken'), 'SERIALIZATION');
      expect(error.key).toBe('broken');
      expect(error.message).toContain('"broken"');
    });

    it('setJson refuses values JSON cannot carry and keeps the old value', async () => {
      const cache = await make();
      expectOk(await cache.set('keep', 'old'));
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      for (const value of [circular, 10n, undefined, () => 1, Symbol('s')]) {
        const error = expectErr(await cache.setJson('keep', value), 'SERIALIZATION');
        expect(error.operation).toBe('setJson');
      }
      expect(expectOk(await cache.get('keep'))).toBe('old');
    });
  });
}
