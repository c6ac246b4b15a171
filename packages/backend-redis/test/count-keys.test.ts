import { commandCalls, type RedisServer, startRedisServer } from '@tiercache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisBackend } from '../src/index.js';

/* stats() and countKeys on a redis-server of its own, whose command statistics show what each one sent. */
let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(() => server.stop());

const KEYS = 20_000;

describe('stats() walks nothing; countKeys walks, bounded by its limit', () => {
  let url: string;
  beforeAll(async () => {
    url = server.url;
    const writer = createRedisBackend({ url, keyPrefix: 'counted:' });
    const entries = Array.from({ length: KEYS }, (_, i) => [`key:${i}`, 'v'] as const);
    for (let start = 0; start < KEYS; start += 5_000) {
      const chunk = entries.slice(start, start + 5_000);
      // Every other chunk with a TTL of 300 s: half of the keys have one.
      const ttl = start % 10_000 === 0 ? 300 : undefined;
      expect((await writer.setMany(Object.fromEntries(chunk), ttl)).isOk()).toBe(true);
    }
    await writer.close();
  });

  it('stats() sends one INFO and no SCAN nor PTTL, answers null key figures, and answers at once', async () => {
    const cache = createRedisBackend({ url, keyPrefix: 'counted:' });
    expect((await cache.ping()).isOk()).toBe(true);
    const before = await commandCalls(server);
    const started = performance.now();
    const stats = (await cache.stats()).unwrap();
    const elapsed = performance.now() - started;
    const after = await commandCalls(server);
    expect(stats.totalKeys).toBeNull();
    expect(stats.averageTtlSeconds).toBeNull();
    expect(stats.memoryUsageBytes).toBeGreaterThan(0);
    expect(after.scan ?? 0).toBe(before.scan ?? 0);
    expect(after.pttl ?? 0).toBe(before.pttl ?? 0);
    // One INFO from stats(), one from commandCalls() itself.
    expect((after.info ?? 0) - (before.info ?? 0)).toBe(2);
    // The command counts above are the check; the time only guards against a hang.
    expect(elapsed).toBeLessThan(1000);
    await cache.close();
  });

  it('countKeys counts every key exactly, with their TTLs, in about one SCAN per 1,000 keys', async () => {
    const cache = createRedisBackend({ url, keyPrefix: 'counted:' });
    const before = await commandCalls(server);
    const count = (await cache.countKeys()).unwrap();
    const after = await commandCalls(server);
    expect(count).toMatchObject({ keys: KEYS, keysWithTtl: KEYS / 2, complete: true });
    expect(count.averageTtlSeconds).toBeGreaterThan(290);
    expect(count.averageTtlSeconds).toBeLessThanOrEqual(300);
    const scans = (after.scan ?? 0) - (before.scan ?? 0);
    expect(scans).toBeGreaterThanOrEqual(KEYS / 1000);
    expect((after.pttl ?? 0) - (before.pttl ?? 0)).toBe(KEYS);
    await cache.close();
  });

  it('countKeys({ limit: 1000 }) stops early: 1,000 keys, incomplete, a few SCANs and 1,000 PTTLs', async () => {
    const cache = createRedisBackend({ url, keyPrefix: 'counted:' });
    const before = await commandCalls(server);
    const count = (await cache.countKeys({ limit: 1000 })).unwrap();
    const after = await commandCalls(server);
    expect(count).toMatchObject({ keys: 1000, complete: false });
    expect((after.scan ?? 0) - (before.scan ?? 0)).toBeLessThanOrEqual(3);
    expect((after.pttl ?? 0) - (before.pttl ?? 0)).toBe(1000);
    await cache.close();
  });
});
