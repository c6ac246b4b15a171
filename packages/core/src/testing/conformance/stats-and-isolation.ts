import { describe, expect, it } from 'vitest';
import { expectOk } from '../helpers.js';
import type { ConformanceContext } from './context.js';

/** `ping` and `stats`. */
export function describeStats({ make, slack }: ConformanceContext): void {
  describe('ping and stats', () => {
    it('ping answers true', async () => {
      const cache = await make();
      expect(expectOk(await cache.ping())).toBe(true);
    });

    it('stats count hits, misses, rates, keys and operations', async () => {
      const cache = await make();
      expectOk(await cache.set('a', '1'));
      expectOk(await cache.set('b', '2', 100));
      expectOk(await cache.get('a'));
      expectOk(await cache.get('missing'));
      expectOk(await cache.getMany(['a', 'nope']));
      const stats = expectOk(await cache.stats());
      expect(stats.backend).toBe(cache.name);
      expect(stats.hits).toBe(2);
      expect(stats.misses).toBe(2);
      expect(stats.hitRate).toBe(0.5);
      expect(stats.missRate).toBe(0.5);
      // Counted where the backend can tell without a walk (memory), `null` where it cannot (Redis): countKeys.
      if (stats.totalKeys !== null) expect(stats.totalKeys).toBe(2);
      expect(stats.memoryUsageBytes).toBeGreaterThan(0);
      expect(stats.operations.set).toBe(2);
      expect(stats.operations.get).toBe(2);
      expect(stats.operations.getMany).toBe(1);
      if (stats.totalKeys === null) expect(stats.averageTtlSeconds).toBeNull();
      else {
        expect(stats.averageTtlSeconds).toBeGreaterThan(100 - slack - 0.001);
        expect(stats.averageTtlSeconds).toBeLessThanOrEqual(100);
      }
      const count = expectOk(await cache.countKeys());
      expect(count).toMatchObject({ keys: 2, keysWithTtl: 1, complete: true });
      expect(count.averageTtlSeconds).toBeGreaterThan(100 - slack - 0.001);
      expect(count.averageTtlSeconds).toBeLessThanOrEqual(100);
    });
  });
}

/**
 * Caches over distinct prefixes of one store do not see each other; caches over one prefix share their keys.
 */
export function describePrefixIsolation({ make, makeSharing }: ConformanceContext): void {
  describe('prefix isolation', () => {
    it('two caches with different prefixes on one store do not see each other', async () => {
      const first = await make();
      const second = await make();
      expectOk(await first.set('shared-name', 'first'));
      expectOk(await second.set('shared-name', 'second'));
      expect(expectOk(await first.get('shared-name'))).toBe('first');
      expect(expectOk(await second.get('shared-name'))).toBe('second');
      expect(expectOk(await first.countKeys()).keys).toBe(1);
    });

    it('flush and deletePattern of one cache leave the other alone', async () => {
      const first = await make();
      const second = await make();
      expectOk(await first.setMany({ a: '1', b: '2' }));
      expectOk(await second.setMany({ a: '1', b: '2' }));
      expect(expectOk(await second.deletePattern('*'))).toBe(2);
      expectOk(await second.flush());
      expect([...expectOk(await first.getMany(['a', 'b'])).values()]).toEqual(['1', '2']);
    });

    it('two caches made with one prefix share their keys, as two processes over one store do', async () => {
      const [first, second] = await makeSharing();
      expectOk(await first.set('shared-name', 'from first'));
      expect(expectOk(await second.get('shared-name'))).toBe('from first');
    });
  });
}
