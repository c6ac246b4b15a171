import { type RedisForTests, useRedisForTests } from '@tiercache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheFromUrl } from '../src/cache-from-url.js';
import { runDemo } from '../src/demo.js';

let redis: RedisForTests;
beforeAll(async () => {
  redis = await useRedisForTests();
});
afterAll(() => redis.stop());

describe('choosing a backend at startup', () => {
  it('defaults to the memory backend when nothing is configured', () => {
    expect(cacheFromUrl(undefined).name).toBe('memory');
    expect(cacheFromUrl('').name).toBe('memory');
  });

  it('reads options from the URL', async () => {
    const cache = cacheFromUrl('memory://?maxEntries=2&prefix=demo:');
    expect(cache.keyPrefix).toBe('demo:');
    await cache.setMany({ a: '1', b: '2', c: '3' });
    expect((await cache.stats()).unwrap().totalKeys).toBe(2);
  });

  it('makes a Redis or a tiered backend from a redis URL', async () => {
    const plain = cacheFromUrl(`${redis.url}?prefix=choose:&commandTimeout=200`);
    const tiered = cacheFromUrl(`tiered+${redis.url}?prefix=choose:&l1Ttl=5`);
    expect([plain.name, tiered.name]).toEqual(['redis', 'tiered']);
    expect((await plain.set('k', 'shared')).isOk()).toBe(true);
    expect((await tiered.get('k')).unwrap()).toBe('shared');
    await plain.flush();
    await Promise.all([plain.close(), tiered.close()]);
  });

  it('refuses what it does not understand, saying what it accepts', () => {
    expect(() => cacheFromUrl('ftp://x')).toThrow(/Unsupported cache URL scheme "ftp:"/);
    expect(() => cacheFromUrl('memory://?maxEntries=lots')).toThrow(/maxEntries must be a number/);
  });

  for (const scheme of ['memory', 'redis', 'tiered'] as const) {
    it(`the demo runs through the protocol on the ${scheme} backend`, async () => {
      const url = { memory: 'memory://', redis: redis.url, tiered: `tiered+${redis.url}` }[scheme];
      const cache = cacheFromUrl(`${url}?prefix=demo-${scheme}:`);
      const lines: string[] = [];
      await runDemo(cache, (line) => lines.push(line));
      await cache.flush();
      await cache.close();
      expect(lines[0]).toBe(`backend: ${cache.name} (prefix "demo-${scheme}:")`);
      expect(lines[1]).toMatch(/^get greeting → "hello, tiercache", ttl (60|59\.\d+) s$/);
      expect(lines.find((line) => line.startsWith('getOrSet user:42 (second)'))).toMatch(/in \d+\.\d ms/);
      expect(lines).toContain('increment visits → 11');
      expect(lines.find((line) => line.includes('Err WRONG_TYPE'))).toContain(`increment "not-a-number"`);
      expect(lines).toContain('deletePattern color:* → 2 deleted');
      expect(lines).toContain('countKeys → 4 keys, 2 with a TTL');
    });
  }
});
