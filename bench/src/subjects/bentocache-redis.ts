import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis';
import { LRUCache } from 'lru-cache';
import type { RedisTarget } from '../bench-redis.js';
import type { AsyncReader } from '../measure.js';
import type {
  CoherenceReaderFactory,
  CoherenceWriterFactory,
  GetOrSetFactory,
  OutageFactory,
  TieredGetHitFactory,
} from './subject-contracts.js';

/*
 * BentoCache's two-tier setup as its documentation describes it: a memory L1, a Redis L2 and a Redis bus,
 * which is how BentoCache keeps the L1s of several processes coherent (a write publishes on the bus; the
 * other processes mark their copy stale). The bus adds work to each write, none to a read. Calls go to the
 * store (`bento.use()`), as in memory-get-hit. Everything else is at its default: L1 entries serialized as
 * JSON, ioredis with its own defaults, no L2 timeout, no L2 circuit breaker, L2 errors suppressed when there
 * is an L1.
 *
 * L1 cannot run with `serialize: false` here, its fastest setting in memory-get-hit: with an L2, BentoCache
 * 1.6.1 then puts the JSON text it read from L2 into L1, and the next get of that key throws "Cannot read
 * properties of undefined (reading 'deserialize')" (as does a bus message about it).
 */

const L1_ENTRIES = 20_000;

type MemoryOptions = Parameters<typeof memoryDriver>[0];

/** ioredis connection options for the URL, for the L2 driver and the bus (which takes options, not a URL). */
function connection(url: string) {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
  };
}

function createStore(target: RedisTarget, capacity: number, lru?: LRUCache<string, string>) {
  // With `lru`, the L1's LRU is made here, so the coherence scenario can see what B holds. The memory driver
  // takes `cacheInstance` (see its MemoryDriver), though its options type does not list it.
  const l1 = memoryDriver(lru ? ({ cacheInstance: lru } as MemoryOptions) : { maxItems: capacity });
  const bento = new BentoCache({
    default: 'tiered',
    prefix: target.prefix,
    stores: {
      tiered: bentostore()
        .useL1Layer(l1)
        .useL2Layer(redisDriver({ connection: connection(target.url) }))
        .useBus(redisBusDriver({ connection: connection(target.url) })),
    },
  });
  return { bento, cache: bento.use() };
}

type Store = ReturnType<typeof createStore>;

function closer({ bento }: Store): () => Promise<void> {
  return async () => {
    await bento.disconnectAll();
  };
}

export const bentocacheTieredGetHit: TieredGetHitFactory = async ({ keys, values }, capacity, target) => {
  const store = createStore(target, capacity);
  const { cache } = store;
  // Written through BentoCache (L1, L2 and a bus message each), a hundred at a time.
  const chunk = 100;
  for (let start = 0; start < keys.length; start += chunk) {
    const writes: Promise<boolean>[] = [];
    for (let i = start; i < Math.min(keys.length, start + chunk); i++) {
      writes.push(cache.set({ key: keys[i] as string, value: values[i] as string }));
    }
    await Promise.all(writes);
  }
  const reader: AsyncReader<string | undefined> = {
    mode: 'async',
    read: (key) => cache.get<string | undefined>({ key }),
    isHit: (value) => typeof value === 'string',
    valueOf: (value) => value,
  };
  return { reader, close: closer(store) };
};

export const bentocacheTieredOutage: OutageFactory = async (target) => {
  const store = createStore(target, L1_ENTRIES);
  const { cache } = store;
  return {
    async works() {
      try {
        // set waits for L2 (and the bus); the read then comes from L1.
        await cache.set({ key: 'ready', value: 'yes' });
        return (await cache.get<string>({ key: 'ready' })) === 'yes';
      } catch {
        return false;
      }
    },
    async get(key) {
      try {
        const value = await cache.get<string | undefined>({ key });
        return { answer: value === undefined ? 'miss' : 'value' };
      } catch (error) {
        return { answer: 'error', detail: (error as Error).message };
      }
    },
    close: closer(store),
  };
};

export const bentocacheCoherenceReader: CoherenceReaderFactory = async (target) => {
  const lru = new LRUCache<string, string>({ max: L1_ENTRIES });
  const store = createStore(target, L1_ENTRIES, lru);
  const { cache } = store;
  // L1 holds the JSON of `{ value, logicalExpiration, createdAt }` under `<prefix>:<key>`; a bus message
  // moves its logical expiry into the past.
  const holds = (key: string, value: string) => {
    const text = lru.get(`${target.prefix}:${key}`);
    if (text === undefined) return false;
    const item = JSON.parse(text) as { value?: unknown; logicalExpiration?: number };
    return item.value === value && (item.logicalExpiration ?? 0) > Date.now();
  };
  return {
    read: (key) => cache.get<string | undefined>({ key }),
    holds,
    // The bus subscribes in the background and says nothing when it is done; the warm-up rounds find out.
    listening: async () => true,
    close: closer(store),
  };
};

export const bentocacheCoherenceWriter: CoherenceWriterFactory = async (target) => {
  const store = createStore(target, L1_ENTRIES);
  const { cache } = store;
  return {
    async write(key, value) {
      await cache.set({ key, value });
    },
    close: closer(store),
  };
};

export const bentocacheGetOrSet: GetOrSetFactory = async (target) => {
  const store = createStore(target, L1_ENTRIES);
  const { cache } = store;
  return {
    async getOrSet(key, loader) {
      try {
        return await cache.getOrSet<string>({ key, factory: loader, ttl: '1m' });
      } catch {
        return undefined;
      }
    },
    close: closer(store),
  };
};
