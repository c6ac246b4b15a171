import type { CacheBackend } from '@tiercache/core';

/** A tour of the protocol on whichever backend was chosen. `log` receives one line per step. */
export async function runDemo(cache: CacheBackend, log: (line: string) => void): Promise<void> {
  log(`backend: ${cache.name}${cache.keyPrefix ? ` (prefix "${cache.keyPrefix}")` : ''}`);

  await cache.set('greeting', 'hello, tiercache', 60);
  const greeting = await cache.get('greeting');
  const ttl = await cache.ttl('greeting');
  log(`get greeting → ${JSON.stringify(greeting.unwrapOr(null))}, ttl ${ttl.unwrapOr(null)} s`);

  // getOrSet: the first call runs the slow loader, the next ones are served from the cache.
  const slowLookup = async () => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    return JSON.stringify({ id: 42, name: 'Ada Lovelace' });
  };
  for (const attempt of ['first', 'second']) {
    const started = performance.now();
    const user = await cache.getOrSet('user:42', slowLookup, { ttl: 30 });
    log(
      `getOrSet user:42 (${attempt}) → ${user.unwrapOr('?')} in ${(performance.now() - started).toFixed(1)} ms`,
    );
  }

  await cache.setMany({ 'color:1': 'red', 'color:2': 'green' });
  const colors = (await cache.getMany(['color:1', 'color:2', 'color:3'])).unwrapOr(new Map());
  log(`getMany colors → ${JSON.stringify([...colors])}`);

  await cache.increment('visits');
  const visits = await cache.increment('visits', 10);
  log(`increment visits → ${visits.unwrapOr(Number.NaN)}`);

  // Errors are values: a bad call answers Err with a code to switch on, and nothing is thrown.
  await cache.set('not-a-number', 'abc');
  const wrong = await cache.increment('not-a-number');
  if (wrong.isErr()) log(`increment not-a-number → Err ${wrong.error.code}: ${wrong.error.message}`);

  const deleted = await cache.deletePattern('color:*');
  log(`deletePattern color:* → ${deleted.unwrapOr(0)} deleted`);

  // stats() is cheap (counters, and the server's INFO): fit for a metrics loop.
  const stats = await cache.stats();
  if (stats.isOk()) {
    const { hits, misses, hitRate } = stats.value;
    log(`stats → ${hits} hits, ${misses} misses, hit rate ${(hitRate * 100).toFixed(0)}%`);
  }
  // Counting keys walks them (SCAN on Redis): an explicit call, bounded by its limit.
  const count = await cache.countKeys({ limit: 10_000 });
  if (count.isOk()) {
    const { keys, keysWithTtl, complete } = count.value;
    log(`countKeys → ${keys} keys${complete ? '' : ' (at least)'}, ${keysWithTtl} with a TTL`);
  }
}
