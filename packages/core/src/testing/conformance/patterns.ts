import { describe, expect, it } from 'vitest';
import { expectErr, expectOk } from '../helpers.js';
import type { ConformanceContext } from './context.js';

/** `flush`, and `deletePattern` with the glob syntax of Redis. */
export function describePatterns({ make }: ConformanceContext): void {
  describe('flush and deletePattern', () => {
    it('flush removes every key of this cache', async () => {
      const cache = await make();
      expectOk(await cache.setMany({ a: '1', b: '2', c: '3' }));
      expectOk(await cache.flush());
      expect([...expectOk(await cache.getMany(['a', 'b', 'c'])).values()]).toEqual([null, null, null]);
      expect(expectOk(await cache.countKeys()).keys).toBe(0);
    });

    const patternCases: Array<[pattern: string, keys: string[], deleted: string[]]> = [
      ['user:*', ['user:1', 'user:22', 'users', 'admin:1'], ['user:1', 'user:22']],
      ['h?llo', ['hello', 'hallo', 'hxllo', 'hllo', 'heello'], ['hello', 'hallo', 'hxllo']],
      ['h*llo', ['hllo', 'heeeello', 'hello', 'help'], ['hllo', 'heeeello', 'hello']],
      ['h[ae]llo', ['hello', 'hallo', 'hillo'], ['hello', 'hallo']],
      ['h[^e]llo', ['hello', 'hallo', 'hbllo'], ['hallo', 'hbllo']],
      ['h[a-b]llo', ['hallo', 'hbllo', 'hcllo'], ['hallo', 'hbllo']],
      ['a\\*b', ['a*b', 'axb', 'a**b'], ['a*b']],
      ['a\\?b', ['a?b', 'axb'], ['a?b']],
      ['\\[x\\]', ['[x]', 'x'], ['[x]']],
      ['*', ['one', 'two'], ['one', 'two']],
      ['no-match-*', ['one'], []],
    ];
    for (const [pattern, keys, deleted] of patternCases) {
      it(`deletePattern ${JSON.stringify(pattern)} deletes ${JSON.stringify(deleted)} and nothing else`, async () => {
        const cache = await make();
        for (const key of keys) expectOk(await cache.set(key, 'v'));
        expect(expectOk(await cache.deletePattern(pattern))).toBe(deleted.length);
        for (const key of keys) expect(expectOk(await cache.exists(key)), key).toBe(!deleted.includes(key));
      });
    }

    it('deletePattern refuses a pattern that is not a non-empty string', async () => {
      const cache = await make();
      for (const pattern of ['', 42, undefined]) {
        expectErr(await cache.deletePattern(pattern as never), 'INVALID_ARGUMENT');
      }
    });
  });
}
