import { type RedisServer, startRedisServer } from '@tiercache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisBackend } from '../src/index.js';

/* How calls reach the wire, seen from a redis-server of this file's own, through its read counter. */
let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(() => server.stop());

/** How many times the server has read from a client socket; one `INFO` call adds one read of its own. */
async function readsProcessed(): Promise<number> {
  const match = /^total_reads_processed:(\d+)/m.exec(await server.cli('INFO', 'stats'));
  if (!match) throw new Error('INFO stats has no total_reads_processed');
  return Number(match[1]);
}

describe('write batching', () => {
  it('sends the calls started in one tick in writes of 16, and answers each as asked', async () => {
    const cache = createRedisBackend({ url: server.url, keyPrefix: 'batch:' });
    try {
      expect((await cache.ping()).isOk()).toBe(true);
      const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
      const before = await readsProcessed();
      const writes = await Promise.all(keys.map((key) => cache.set(key, `value of ${key}`)));
      const reads = await Promise.all(keys.map((key) => cache.get(key)));
      // Thirteen writes a batch at most (the server may read several at once), plus the INFO above and the one
      // below; a command per write would be about 400.
      expect((await readsProcessed()) - before).toBeLessThanOrEqual(2 * 13 + 2);
      expect(writes.every((result) => result.isOk())).toBe(true);
      expect(reads.map((result) => result.unwrap())).toEqual(keys.map((key) => `value of ${key}`));
    } finally {
      await cache.close();
    }
  });

  it('serves calls made one at a time, each reading back what the one before wrote', async () => {
    const cache = createRedisBackend({ url: server.url, keyPrefix: 'lone:' });
    try {
      for (let i = 0; i < 50; i++) {
        expect((await cache.set('k', String(i))).isOk()).toBe(true);
        expect((await cache.get('k')).unwrap()).toBe(String(i));
      }
    } finally {
      await cache.close();
    }
  });
});
