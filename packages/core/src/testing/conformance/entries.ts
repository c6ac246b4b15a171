import { describe, expect, it } from 'vitest';
import { expectErr, expectOk } from '../helpers.js';
import type { ConformanceContext } from './context.js';

/** `getEntry`: the value with its TTL. */
export function describeGetEntry({ make, slack }: ConformanceContext): void {
  describe('getEntry', () => {
    it('getEntry returns the value and TTL, or null on a miss', async () => {
      const cache = await make();
      expectOk(await cache.set('k', 'v', 10));
      const entry = expectOk(await cache.getEntry('k'));
      expect(entry?.key).toBe('k');
      expect(entry?.value).toBe('v');
      expect(entry?.ttl).toBeLessThanOrEqual(10);
      expect(entry?.ttl).toBeGreaterThan(10 - slack - 0.001);
      expect(entry?.expiresAt).toBeGreaterThan(0);
      expect(expectOk(await cache.getEntry('absent'))).toBeNull();
    });
  });
}

/** `getEntries`: values with their TTLs, in the order asked. */
export function describeGetEntries({ make, slack }: ConformanceContext): void {
  describe('getEntries', () => {
    it('getEntries answers values and TTLs in the order asked, each key once', async () => {
      const cache = await make();
      expectOk(await cache.set('a', '1', 10));
      expectOk(await cache.set('b', '2'));
      const found = expectOk(await cache.getEntries(['b', 'missing', 'a', 'b']));
      expect([...found.keys()]).toEqual(['b', 'missing', 'a']);
      expect(found.get('b')).toMatchObject({ key: 'b', value: '2', ttl: null });
      expect(found.get('missing')).toBeNull();
      expect(found.get('a')?.value).toBe('1');
      expect(found.get('a')?.ttl).toBeLessThanOrEqual(10);
      expect(found.get('a')?.ttl).toBeGreaterThan(10 - slack - 0.001);
      expectErr(await cache.getEntries(['ok', ''] as never), 'INVALID_ARGUMENT');
    });
  });
}
