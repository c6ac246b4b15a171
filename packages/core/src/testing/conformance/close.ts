import { describe, expect, it } from 'vitest';
import { expectErr, expectOk } from '../helpers.js';
import type { ConformanceContext, Outcome } from './context.js';

/** `close`: every operation after it is a `CLOSED` error. */
export function describeClose({ make }: ConformanceContext): void {
  describe('close', () => {
    it('after close every operation is a CLOSED error, and closing again is Ok', async () => {
      const cache = await make();
      expectOk(await cache.close());
      const calls: Array<Promise<Outcome<unknown>>> = [
        cache.get('k'),
        cache.getJson('k'),
        cache.set('k', 'v'),
        cache.setJson('k', 1),
        cache.delete('k'),
        cache.exists('k'),
        cache.expire('k', 1),
        cache.ttl('k'),
        cache.increment('k'),
        cache.decrement('k'),
        cache.flush(),
        cache.ping(),
        cache.deletePattern('*'),
        cache.getMany(['k']),
        cache.setMany({ k: 'v' }),
        cache.getOrSet('k', () => 'v'),
        cache.stats(),
        cache.countKeys(),
        cache.countKeys({ limit: 0 }),
      ];
      for (const result of await Promise.all(calls)) {
        const error = expectErr(result, 'CLOSED');
        expect(error.message).toContain(`[tiercache:${cache.name}]`);
      }
      expectOk(await cache.close());
      // The afterEach flush and close of this closed cache answer CLOSED and Ok: harmless.
    });
  });
}
