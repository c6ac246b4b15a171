import type { AddressInfo } from 'node:net';
import { createRedisBackend } from '@tiercache/backend-redis';
import { createTieredBackend } from '@tiercache/backend-tiered';
import { eventually, type RedisForTests, useRedisForTests } from '@tiercache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CatalogStats, createCatalogServer } from '../src/catalog-server.js';
import { ProductSource } from '../src/product-source.js';

let redis: RedisForTests;
beforeAll(async () => {
  redis = await useRedisForTests();
});
afterAll(() => redis.stop());

describe('the catalog service behind a tiered cache', () => {
  it('answers from the source once, then from L1; an update shows at once; /stats tells', async () => {
    const l2 = createRedisBackend({ url: redis.url, keyPrefix: `catalog-test:${process.pid}:` });
    const cache = createTieredBackend({ l1: { maxEntries: 100 }, l2 });
    // L1 keeps copies only once Redis's invalidations can reach it.
    await eventually('the invalidation feed to be armed', () => l2.changes?.armed === true);
    const source = new ProductSource(10, 1);
    const server = createCatalogServer(cache, source);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (let i = 0; i < 5; i++) {
        const response = await fetch(`${base}/products/3`);
        expect(response.status).toBe(200);
        expect(await response.json()).toEqual({ id: '3', name: 'Product 3', price: 103 });
      }
      expect((await fetch(`${base}/products/404`)).status).toBe(404);
      expect((await fetch(`${base}/products/404`)).status).toBe(404);
      expect((await fetch(`${base}/products/3?price=7`, { method: 'PUT' })).status).toBe(204);
      expect(await (await fetch(`${base}/products/3`)).json()).toMatchObject({ price: 7 });
      const stats = (await (await fetch(`${base}/stats`)).json()) as CatalogStats;
      expect(stats).toMatchObject({ backend: 'tiered', sourceReads: 3, l1Hits: 5 });
      expect(stats.hitRate).toBeGreaterThan(0.5);
    } finally {
      server.close();
      await cache.flush();
      await cache.close();
    }
  });
});
