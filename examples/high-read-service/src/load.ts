import type { AddressInfo } from 'node:net';
import { createRedisBackend } from '@tiercache/backend-redis';
import { createTieredBackend } from '@tiercache/backend-tiered';
import type { CacheBackend } from '@tiercache/core';
import { startRedisServer } from '@tiercache/redis-harness';
import { type CatalogStats, createCatalogServer } from './catalog-server.js';
import { ProductSource } from './product-source.js';

/*
 * The same catalog service under the same load, first with Redis alone, then with an L1 in front: requests
 * per second, latency percentiles and where reads were answered. Uses REDIS_URL if set, else starts a Redis.
 * Requests are bounded in count and go to 127.0.0.1 only.
 */

const REQUESTS = Number(process.env.REQUESTS ?? 20_000);
const CONCURRENCY = 32;
const HOT_PRODUCTS = 200;

async function run(label: string, cache: CacheBackend): Promise<void> {
  await cache.flush();
  const source = new ProductSource(HOT_PRODUCTS, 20);
  const server = createCatalogServer(cache, source);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) {
        // A skewed workload: most requests go to a few products, as on a real catalog.
        const id = Math.floor(HOT_PRODUCTS * Math.random() ** 3);
        next++;
        const sent = performance.now();
        const response = await fetch(`http://127.0.0.1:${port}/products/${id}`);
        await response.arrayBuffer();
        latencies.push(performance.now() - sent);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const stats = (await (await fetch(`http://127.0.0.1:${port}/stats`)).json()) as CatalogStats;
  server.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => (latencies[Math.floor(q * (latencies.length - 1))] ?? 0).toFixed(2);
  console.log(
    `${label.padEnd(16)} ${String(Math.round(REQUESTS / seconds)).padStart(6)} req/s   p50 ${at(0.5)} ms   p99 ${at(0.99)} ms   ` +
      `hit rate ${(stats.hitRate * 100).toFixed(1)}%   L1 hits ${stats.l1Hits}   source reads ${stats.sourceReads}`,
  );
}

const started = process.env.REDIS_URL ? undefined : await startRedisServer();
const url = process.env.REDIS_URL ?? (started?.url as string);
console.log(`${REQUESTS} requests, ${CONCURRENCY} at a time, against Redis at ${url}`);
const redisOnly = createRedisBackend({ url, keyPrefix: 'catalog-load:' });
await run('Redis only', redisOnly);
await redisOnly.close();
const tiered = createTieredBackend({
  l1: { maxEntries: 10_000 },
  l2: createRedisBackend({ url, keyPrefix: 'catalog-load:' }),
  l1Ttl: 30,
});
await run('L1 + Redis', tiered);
await tiered.flush();
await tiered.close();
await started?.stop();
