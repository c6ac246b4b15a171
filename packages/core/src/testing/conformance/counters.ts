import { describe, expect, it } from 'vitest';
import { expectErr, expectOk } from '../helpers.js';
import type { ConformanceContext } from './context.js';

/** `increment` and `decrement`: exact base-10 counters within the safe-integer range. */
export function describeCounters({ make, slack }: ConformanceContext): void {
  describe('increment and decrement', () => {
    it('a missing key counts from 0, by 1 unless told otherwise', async () => {
      const cache = await make();
      expect(expectOk(await cache.increment('n'))).toBe(1);
      expect(expectOk(await cache.increment('n', 41))).toBe(42);
      expect(expectOk(await cache.decrement('n'))).toBe(41);
      expect(expectOk(await cache.decrement('n', 50))).toBe(-9);
      expect(expectOk(await cache.increment('n', -1))).toBe(-10);
      expect(expectOk(await cache.decrement('fresh', 5))).toBe(-5);
    });

    it('the counter is stored as a decimal string that get reads', async () => {
      const cache = await make();
      expectOk(await cache.set('n', '10'));
      expect(expectOk(await cache.increment('n', 5))).toBe(15);
      expect(expectOk(await cache.get('n'))).toBe('15');
    });

    it('an existing key keeps its TTL; a new key gets none', async () => {
      const cache = await make();
      expectOk(await cache.set('n', '5', 100));
      expect(expectOk(await cache.increment('n'))).toBe(6);
      const left = expectOk(await cache.ttl('n'));
      expect(left).toBeLessThanOrEqual(100);
      expect(left).toBeGreaterThan(100 - slack - 0.001);
      expectOk(await cache.increment('new'));
      expect(expectOk(await cache.ttl('new'))).toBeNull();
    });

    it('a value that is not a base-10 integer is WRONG_TYPE and stays as it was', async () => {
      const cache = await make();
      for (const stored of ['abc', '1.5', ' 1', '1 ', '01', '', '+1', '1e3', '-0', '9223372036854775808']) {
        expectOk(await cache.set('n', stored));
        const error = expectErr(await cache.increment('n'), 'WRONG_TYPE');
        expect(error.key).toBe('n');
        expect(expectOk(await cache.get('n'))).toBe(stored);
      }
    });

    it('a result outside the safe-integer range is OUT_OF_RANGE and changes nothing', async () => {
      const cache = await make();
      expectOk(await cache.set('max', String(Number.MAX_SAFE_INTEGER)));
      expectErr(await cache.increment('max'), 'OUT_OF_RANGE');
      expect(expectOk(await cache.get('max'))).toBe(String(Number.MAX_SAFE_INTEGER));
      expectOk(await cache.set('min', String(Number.MIN_SAFE_INTEGER)));
      expectErr(await cache.decrement('min'), 'OUT_OF_RANGE');
      expect(expectOk(await cache.get('min'))).toBe(String(Number.MIN_SAFE_INTEGER));
      expect(expectOk(await cache.decrement('max', Number.MAX_SAFE_INTEGER))).toBe(0);
    });

    it('counts exactly up to the edge of the safe-integer range', async () => {
      const cache = await make();
      expectOk(await cache.set('edge', String(Number.MAX_SAFE_INTEGER - 1)));
      expect(expectOk(await cache.increment('edge'))).toBe(Number.MAX_SAFE_INTEGER);
      expect(expectOk(await cache.get('edge'))).toBe('9007199254740991');
      expectOk(await cache.set('low', String(Number.MIN_SAFE_INTEGER + 1)));
      expect(expectOk(await cache.decrement('low'))).toBe(Number.MIN_SAFE_INTEGER);
    });

    it('1,000 concurrent increments count exactly 1,000', async () => {
      const cache = await make();
      const results = await Promise.all(Array.from({ length: 1000 }, () => cache.increment('hits')));
      const values = results.map(expectOk).sort((a, b) => a - b);
      expect(values).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
      expect(expectOk(await cache.get('hits'))).toBe('1000');
    });
  });
}
