import { expectOk } from '@tiercache/core/testing';
import { type RedisServer, startRedisServer } from '@tiercache/redis-harness';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisBackend } from '../src/index.js';

/*
 * GET, SET and MGET write each key after the backend's prefix as they encode the command, instead of joining
 * them first: the byte counts of Redis's protocol must then add up for any prefix and key, and every key must
 * land where another client looks for it. Checked through a plain ioredis client on a server of this file's own.
 */
let server: RedisServer;
let plain: Redis;
beforeAll(async () => {
  server = await startRedisServer();
  plain = new Redis(server.url);
});
afterAll(async () => {
  plain.disconnect();
  await server.stop();
});

// Characters of one to four UTF-8 bytes, in the prefix and in the keys.
const PREFIX = 'café:€:🔑:';
const KEYS = ['plain', 'ünïcödé', '€uro', '🔑 key with spaces', 'x'.repeat(300)];

describe('keys written after their prefix', () => {
  it('set, get, getMany and getOrSet use the keys another client reads, whatever their characters', async () => {
    const cache = createRedisBackend({ url: server.url, keyPrefix: PREFIX });
    try {
      for (const key of KEYS) expectOk(await cache.set(key, `value of ${key}`, 60));
      expect(await plain.mget(KEYS.map((key) => PREFIX + key))).toEqual(KEYS.map((key) => `value of ${key}`));
      expect(await plain.pttl(PREFIX + KEYS[1])).toBeGreaterThan(59_000);

      await plain.set(`${PREFIX}written elsewhere ✓`, 'from another client');
      expect(expectOk(await cache.get('written elsewhere ✓'))).toBe('from another client');
      const many = expectOk(await cache.getMany([...KEYS, 'written elsewhere ✓', 'absent ✗']));
      expect([...many.values()]).toEqual([
        ...KEYS.map((key) => `value of ${key}`),
        'from another client',
        null,
      ]);

      expectOk(await cache.getOrSet('loaded ✓', () => 'by the loader', { ttl: 60, grace: 60 }));
      expect(await plain.get(`${PREFIX}loaded ✓`)).toBe('by the loader');
    } finally {
      await cache.close();
    }
  });

  it("a caller's client with a keyPrefix of its own stores under its prefix, then the backend's", async () => {
    const client = new Redis(server.url, { keyPrefix: 'app·1:' });
    const cache = createRedisBackend({ client, closeClient: false, keyPrefix: 'cache:' });
    try {
      expectOk(await cache.set('k', 'v'));
      expect(await plain.get('app·1:cache:k')).toBe('v');
      await plain.set('app·1:cache:other', 'w');
      expect(expectOk(await cache.get('other'))).toBe('w');
      expect([...expectOk(await cache.getMany(['k', 'other', 'none'])).values()]).toEqual(['v', 'w', null]);
      // A grace copy is a key of its own, named by the backend: the client's prefix goes before it too.
      expectOk(await cache.getOrSet('loaded', () => 'x', { ttl: 60, grace: 60 }));
      expect(await plain.get('app·1:cache:loaded')).toBe('x');
      const graceCopies = await plain.keys('app·1:*grace*');
      expect(graceCopies).toHaveLength(1);
    } finally {
      await cache.close();
      client.disconnect();
    }
  });
});
