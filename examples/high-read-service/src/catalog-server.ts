import { createServer, type Server } from 'node:http';
import type { CacheBackend } from '@tiercache/core';
import type { ProductSource } from './product-source.js';

const NOT_FOUND = '__not_found__';

/** What GET /stats answers. */
export interface CatalogStats {
  backend: string;
  hits: number;
  misses: number;
  hitRate: number;
  l1Hits: number;
  sourceReads: number;
}

/**
 * GET /products/:id answers from the cache, loading from the source on a miss (absent products are cached
 * too, briefly, so a hot missing id does not reach the source either). PUT /products/:id?price=N updates the
 * source and drops the cached copy in every process. GET /stats shows what the cache and the source did.
 */
export function createCatalogServer(cache: CacheBackend, source: ProductSource): Server {
  return createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const match = /^\/products\/([\w-]+)$/.exec(url.pathname);
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(typeof body === 'string' ? body : JSON.stringify(body));
    };

    if (request.method === 'GET' && match) {
      const id = match[1] as string;
      const cached = await cache.getOrSet(`product:${id}`, async () => (await source.load(id)) ?? NOT_FOUND, {
        ttl: 300,
      });
      // A cache failure must not fail the request: ask the source directly.
      const body = cached.isOk() ? cached.value : ((await source.load(id)) ?? NOT_FOUND);
      return body === NOT_FOUND ? reply(404, { error: 'no such product' }) : reply(200, body);
    }

    if (request.method === 'PUT' && match) {
      const id = match[1] as string;
      await source.update(id, Number(url.searchParams.get('price')));
      await cache.delete(`product:${id}`);
      return reply(204, '');
    }

    if (request.method === 'GET' && url.pathname === '/stats') {
      const stats = await cache.stats();
      if (stats.isErr()) return reply(503, { error: stats.error.message });
      const { backend, hits, misses, hitRate, tiers } = stats.value;
      return reply(200, {
        backend,
        hits,
        misses,
        hitRate,
        l1Hits: tiers?.l1?.hits ?? 0,
        sourceReads: source.reads,
      } satisfies CatalogStats);
    }

    reply(404, { error: 'not found' });
  });
}
