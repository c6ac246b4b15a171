import { describe, expect, it } from 'vitest';
import { expectOk } from '../helpers.js';
import type { ConformanceContext } from './context.js';

/** The plain reads and writes: `get` and `set`, of any string key and value. */
export function describeGetAndSet({ make }: ConformanceContext): void {
  describe('get and set', () => {
    it('get returns null for a key that was never set', async () => {
      const cache = await make();
      expect(expectOk(await cache.get('never-set'))).toBeNull();
    });

    it('get returns what set stored', async () => {
      const cache = await make();
      expectOk(await cache.set('greeting', 'hello'));
      expect(expectOk(await cache.get('greeting'))).toBe('hello');
    });

    it('an empty string is a hit, not a miss', async () => {
      const cache = await make();
      expectOk(await cache.set('empty', ''));
      expect(expectOk(await cache.get('empty'))).toBe('');
      expect(expectOk(await cache.exists('empty'))).toBe(true);
    });

    it('set replaces the value and clears an earlier TTL, as Redis SET does', async () => {
      const cache = await make();
      expectOk(await cache.set('k', 'first', 100));
      expectOk(await cache.set('k', 'second'));
      expect(expectOk(await cache.get('k'))).toBe('second');
      expect(expectOk(await cache.ttl('k'))).toBeNull();
    });

    it('unicode keys and values round-trip unchanged', async () => {
      const cache = await make();
      const pairs = [
        ['ключ', 'значение'],
        ['键', '值'],
        ['🔑:emoji', '🧊❄️'],
        ['e\u0301', 'combining accent'],
      ] as const;
      for (const [key, value] of pairs) expectOk(await cache.set(key, value));
      for (const [key, value] of pairs) expect(expectOk(await cache.get(key))).toBe(value);
      expect(expectOk(await cache.get('\u00e9'))).toBeNull(); // precomposed é is another key
    });

    it('long keys and large values round-trip', async () => {
      const cache = await make();
      const longKey = `k${'x'.repeat(10_000)}`;
      const largeValue = 'v'.repeat(1024 * 1024);
      expectOk(await cache.set(longKey, largeValue));
      expect(expectOk(await cache.get(longKey))).toBe(largeValue);
    });

    it('glob characters in keys are stored literally', async () => {
      const cache = await make();
      expectOk(await cache.set('a*b', 'star'));
      expect(expectOk(await cache.get('a*b'))).toBe('star');
      expect(expectOk(await cache.get('axb'))).toBeNull();
    });
  });
}

/** `delete` and `exists`. */
export function describeDeleteAndExists({ make }: ConformanceContext): void {
  describe('delete and exists', () => {
    it('delete says whether the key was there', async () => {
      const cache = await make();
      expectOk(await cache.set('k', 'v'));
      expect(expectOk(await cache.delete('k'))).toBe(true);
      expect(expectOk(await cache.delete('k'))).toBe(false);
      expect(expectOk(await cache.get('k'))).toBeNull();
    });

    it('exists follows set and delete', async () => {
      const cache = await make();
      expect(expectOk(await cache.exists('k'))).toBe(false);
      expectOk(await cache.set('k', 'v'));
      expect(expectOk(await cache.exists('k'))).toBe(true);
      expectOk(await cache.delete('k'));
      expect(expectOk(await cache.exists('k'))).toBe(false);
    });
  });
}
