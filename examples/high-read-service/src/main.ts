import { createRedisBackend } from '@tiercache/backend-redis';
import { createTieredBackend } from '@tiercache/backend-tiered';
import { createCatalogServer } from './catalog-server.js';
import { ProductSource } from './product-source.js';

// PORT, REDIS_URL and L1=off choose how it runs: `L1=off` serves from Redis alone.
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const l2 = createRedisBackend({ url: redisUrl, keyPrefix: 'catalog:' });
const cache =
  process.env.L1 === 'off' ? l2 : createTieredBackend({ l1: { maxEntries: 50_000 }, l2, l1Ttl: 30 });
const server = createCatalogServer(cache, new ProductSource(10_000, 20));
server.listen(Number(process.env.PORT ?? 3000), () => {
  console.log(`catalog on http://localhost:${(server.address() as { port: number }).port} (${cache.name})`);
});
process.on('SIGINT', async () => {
  server.close();
  await cache.close();
});
