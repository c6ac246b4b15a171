import { describe, expect, it } from 'vitest';
import { expectErr, expectOk } from '../helpers.js';
import type { ConformanceContext } from './context.js';

/** `getOrSet`: one loader call per miss, shared by concurrent misses, and `LOADER` errors. */
export function describeGetOrSet({ make, elapse }: ConformanceContext): void {
  describe('getOrSet', () => {
    it('a miss calls the loader and stores its value with the TTL; a hit does not call it', async () => {
      const cache = await make();
      let calls = 0;
      const loader = async () => `loaded-${++calls}`;
      expect(expectOk(await cache.getOrSet('k', loader, { ttl: 0.2 }))).toBe('loaded-1');
      expect(expectOk(await cache.getOrSet('k', loader, { ttl: 0.2 }))).toBe('loaded-1');
      expect(calls).toBe(1);
      expect(expectOk(await cache.get('k'))).toBe('loaded-1');
      await elapse(300);
      expect(expectOk(await cache.getOrSet('k', loader))).toBe('loaded-2');
    });

    it('concurrent misses on one key share a single loader call', async () => {
      const cache = await make();
      let calls = 0;
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      // The loader finishes only once every call has been made, so all ten overlap.
      const loader = async () => {
        calls++;
        await gate;
        return 'shared';
      };
      const pending = Array.from({ length: 10 }, () => cache.getOrSet('k', loader));
      while (calls === 0) await new Promise((resolve) => setImmediate(resolve));
      release();
      const results = await Promise.all(pending);
      expect(results.map(expectOk)).toEqual(Array(10).fill('shared'));
      expect(calls).toBe(1);
    });

    it('a failing loader is a LOADER error and nothing is stored', async () => {
      const cache = await make();
      const error = expectErr(
        await cache.getOrSet('k', async () => {
          throw new Error('database down');
        }),
        'LOADER',
      );
      expect(error.message).toContain('database down');
      expect(error.cause).toBeInstanceOf(Error);
      expectErr(await cache.getOrSet('k', () => 42 as never), 'LOADER');
      expect(expectOk(await cache.exists('k'))).toBe(false);
      expect(expectOk(await cache.getOrSet('k', () => 'fine'))).toBe('fine');
    });
  });
}
