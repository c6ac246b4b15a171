import { commandCalls, type RedisServer, startRedisServer } from '@tiercache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisBackend } from '../src/index.js';

/* getEntries on a real redis-server of its own, whose command statistics show what was sent. */
let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(() => server.stop());

describe('getEntries', () => {
  it('answers each key once, in the order asked, with its TTL, and null for a miss', async () => {
    const cache = createRedisBackend({ url: server.url, keyPrefix: 'entries:' });
    expect((await cache.set('forever', 'a')).isOk()).toBe(true);
    expect((await cache.set('brief', 'b', 30)).isOk()).toBe(true);
    expect((await cache.set('empty', '')).isOk()).toBe(true);
    const before = Date.now();
    const found = (await cache.getEntries?.(['brief', 'missing', 'forever', 'brief', 'empty']))?.unwrap();
    const after = Date.now();
    expect([...(found?.keys() ?? [])]).toEqual(['brief', 'missing', 'forever', 'empty']);
    expect(found?.get('missing')).toBeNull();
    expect(found?.get('forever')).toEqual({
      key: 'forever',
      value: 'a',
      ttl: null,
      expiresAt: null,
      createdAt: null,
      accessCount: null,
      lastAccessedAt: null,
      version: null,
    });
    expect(found?.get('empty')?.value).toBe('');
    const brief = found?.get('brief');
    expect(brief?.value).toBe('b');
    expect(brief?.ttl).toBeGreaterThan(29);
    expect(brief?.ttl).toBeLessThanOrEqual(30);
    // The expiry is counted from when the reply came, in whole milliseconds as PTTL gives them.
    expect(brief?.expiresAt).toBeGreaterThanOrEqual(before + 29_000);
    expect(brief?.expiresAt).toBeLessThanOrEqual(after + 30_000);
    await cache.close();
  });

  it('reads every key in one pipeline, not a transaction, and counts hits and misses as getMany does', async () => {
    const cache = createRedisBackend({ url: server.url, keyPrefix: 'trip:' });
    await cache.setMany({ a: '1', b: '2', c: '3' });
    await server.cli('CONFIG', 'RESETSTAT');
    const found = (await cache.getEntries?.(['a', 'b', 'c', 'x', 'y', 'a']))?.unwrap();
    expect(found?.size).toBe(5);
    const calls = await commandCalls(server);
    expect(calls).toMatchObject({ get: 5, pttl: 5 });
    expect(calls.multi).toBeUndefined();
    const stats = (await cache.stats()).unwrap();
    expect(stats).toMatchObject({ hits: 3, misses: 2 });
    expect(stats.operations.getEntries).toBe(1);
    expect((await cache.getEntries?.([]))?.unwrap().size).toBe(0);
    await cache.close();
  });

  it('refuses malformed keys before sending anything, and answers CLOSED once closed', async () => {
    const cache = createRedisBackend({ url: server.url });
    const refused = await cache.getEntries?.(['ok', '']);
    expect(refused?.isErr() && refused.error.code).toBe('INVALID_ARGUMENT');
    const notArray = await cache.getEntries?.('k' as never);
    expect(notArray?.isErr() && notArray.error.message).toContain('keys must be an array');
    await cache.close();
    const closed = await cache.getEntries?.(['k']);
    expect(closed?.isErr() && closed.error.code).toBe('CLOSED');
  });
});
