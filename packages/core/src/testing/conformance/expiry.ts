import { describe, expect, it } from 'vitest';
import { expectOk } from '../helpers.js';
import type { ConformanceContext } from './context.js';

/** TTLs: `ttl`, `expire`, and keys that go once their TTL has passed, on the target's clock. */
export function describeExpiry({ make, elapse, slack, manualClock }: ConformanceContext): void {
  describe('TTL, expire and expiry', () => {
    it('ttl is null for a missing key and for a key without TTL', async () => {
      const cache = await make();
      expect(expectOk(await cache.ttl('absent'))).toBeNull();
      expectOk(await cache.set('forever', 'v'));
      expect(expectOk(await cache.ttl('forever'))).toBeNull();
    });

    it('ttl reports seconds left with millisecond precision, never more than was set', async () => {
      const cache = await make();
      expectOk(await cache.set('k', 'v', 1.5));
      const left = expectOk(await cache.ttl('k'));
      expect(left).not.toBeNull();
      expect(left).toBeLessThanOrEqual(1.5);
      expect(left).toBeGreaterThanOrEqual(1.5 - slack);
      expect(Math.abs((left as number) * 1000 - Math.round((left as number) * 1000))).toBeLessThan(1e-6);
      await elapse(250);
      const later = expectOk(await cache.ttl('k'));
      expect(later).toBeLessThanOrEqual(1.25);
      expect(later).toBeGreaterThanOrEqual(1.25 - slack);
      if (manualClock) expect(later).toBe(1.25);
    });

    it('a key is gone once its TTL has passed: get, exists, ttl and getMany all see it gone', async () => {
      const cache = await make();
      expectOk(await cache.set('short', 'v', 0.2));
      expectOk(await cache.set('long', 'v', 100));
      expect(expectOk(await cache.get('short'))).toBe('v');
      await elapse(300);
      expect(expectOk(await cache.get('short'))).toBeNull();
      expect(expectOk(await cache.exists('short'))).toBe(false);
      expect(expectOk(await cache.ttl('short'))).toBeNull();
      expect([...expectOk(await cache.getMany(['short', 'long']))]).toEqual([
        ['short', null],
        ['long', 'v'],
      ]);
    });

    it('expire is false for a missing key, and sets a new TTL on an existing one', async () => {
      const cache = await make();
      expect(expectOk(await cache.expire('absent', 10))).toBe(false);
      expect(expectOk(await cache.exists('absent'))).toBe(false);
      expectOk(await cache.set('k', 'v'));
      expect(expectOk(await cache.expire('k', 10))).toBe(true);
      const left = expectOk(await cache.ttl('k'));
      expect(left).toBeLessThanOrEqual(10);
      expect(left).toBeGreaterThan(10 - slack - 0.001);
      expect(expectOk(await cache.expire('k', 0.2))).toBe(true);
      expect(expectOk(await cache.get('k'))).toBe('v');
      await elapse(300);
      expect(expectOk(await cache.get('k'))).toBeNull();
    });

    it('expire on a key that already expired is false', async () => {
      const cache = await make();
      expectOk(await cache.set('k', 'v', 0.1));
      await elapse(200);
      expect(expectOk(await cache.expire('k', 10))).toBe(false);
    });

    it('set with a TTL then without one makes the key permanent', async () => {
      const cache = await make();
      expectOk(await cache.set('k', 'v', 0.2));
      expectOk(await cache.set('k', 'v2'));
      await elapse(300);
      expect(expectOk(await cache.get('k'))).toBe('v2');
    });
  });
}
