import type { ProfileName } from '../scenario.js';
import type { RedisGetManyFactory } from '../subjects/subject-contracts.js';
import {
  defineRedisCallScenario,
  KEY_BYTES,
  KEYS,
  type RedisCallSettings,
  VALUE_BYTES,
} from './redis-calls.js';

const BATCH = 100;
const TIERCACHE = 'tiercache redis';
const GET_OR_SET_MANY = 'tiercache redis getOrSetMany';
/** Keys of each getOrSetMany call that are not in Redis, loaded by one loader call and stored. */
export const MISSING = 10;

/** The keys read by each call: ten disjoint runs of a hundred, in order. */
function batchesOf(keys: readonly string[]): string[][] {
  const batches: string[][] = [];
  for (let start = 0; start + BATCH <= keys.length; start += BATCH)
    batches.push(keys.slice(start, start + BATCH));
  return batches;
}

/** Adapts a batch-get factory to the shared shape: the batches are cut from the entries' keys. */
function withBatches(load: () => Promise<RedisGetManyFactory>) {
  return async () => {
    const factory = await load();
    return (target: Parameters<RedisGetManyFactory>[0], entries: Parameters<RedisGetManyFactory>[1]) =>
      factory(target, entries, batchesOf(entries.keys));
  };
}

const SETTINGS: Readonly<Record<ProfileName, RedisCallSettings>> = {
  full: { warmupMs: 400, rounds: 8, roundMs: 120, samples: 1_000 },
  quick: { warmupMs: 200, rounds: 5, roundMs: 50, samples: 500 },
  smoke: { warmupMs: 5, rounds: 2, roundMs: 5, samples: 20 },
};

export const redisGetMany100 = defineRedisCallScenario({
  name: 'redis-getmany-100',
  title: `getMany of ${BATCH} present keys, one call at a time: ${KEYS.toLocaleString('en-US')} keys of ${KEY_BYTES} bytes (plus the prefix), ${VALUE_BYTES}-byte values, in the run's own redis-server`,
  notes: [
    `Sequential calls (each awaited before the next), each reading one of ${KEYS / BATCH} disjoint runs of ` +
      `${BATCH} keys; throughput from timed batches after a warm-up, latency from a separate batch. Every call ` +
      'is checked to find all its values, and every run to read back exactly what was stored, in order.',
    'The floor is the faster of plain and auto-pipelined raw ioredis `mget` in the same run. tiercache answers ' +
      'a Map keyed by the keys asked (duplicates removed), so it builds a Set and a Map per call.',
    'Peers read Redis alone here (their Redis store as the only store, so the batch reaches Redis): ' +
      'cache-manager `mget` and cacheable `getMany` over Keyv and @keyv/redis, which store each value as JSON ' +
      'with its expiry and parse it back. BentoCache has no batch get, so it is not in this scenario.',
  ],
  subjects: [
    {
      name: 'ioredis',
      role: 'floor',
      packages: ['ioredis'],
      setup: 'new Redis(url) (defaults); await redis.mget(keys)',
      load: withBatches(async () => (await import('../subjects/ioredis.js')).ioredisGetMany),
    },
    {
      name: 'ioredis (auto-pipelined)',
      role: 'floor',
      packages: ['ioredis'],
      setup: 'new Redis(url, { enableAutoPipelining: true }); await redis.mget(keys)',
      load: withBatches(async () => (await import('../subjects/ioredis.js')).ioredisGetManyAutoPipelined),
    },
    {
      name: TIERCACHE,
      role: 'tiercache',
      packages: ['@tiercache/backend-redis', 'ioredis'],
      setup: 'createRedisBackend({ url, keyPrefix }) (defaults); (await backend.getMany(keys)).isOk()',
      load: withBatches(async () => (await import('../subjects/tiercache-redis.js')).tiercacheRedisGetMany),
    },
    {
      name: GET_OR_SET_MANY,
      role: 'tiercache',
      packages: ['@tiercache/backend-redis', 'ioredis'],
      setup: `the backend above; (await backend.getOrSetMany(keys, loadMany, { ttl: 10 })).isOk(), ${MISSING} of the ${BATCH} keys never seen before`,
      load: withBatches(
        async () => (await import('../subjects/tiercache-redis.js')).tiercacheRedisGetOrSetMany,
      ),
    },
    {
      name: 'cache-manager',
      role: 'peer',
      packages: ['cache-manager', 'keyv', '@keyv/redis'],
      setup:
        'createCache({ stores: [createKeyv(url, { namespace })] }) (@keyv/redis); await cache.mget(keys)',
      load: withBatches(async () => (await import('../subjects/cache-manager-redis.js')).cacheManagerGetMany),
    },
    {
      name: 'cacheable',
      role: 'peer',
      packages: ['cacheable', 'keyv', '@keyv/redis'],
      setup:
        'new Cacheable({ primary: createKeyv(url, { namespace }) }) (@keyv/redis); await cache.getMany(keys)',
      load: withBatches(async () => (await import('../subjects/cacheable-redis.js')).cacheableGetMany),
    },
  ],
  concurrency: 1,
  settings: SETTINGS,
  expected: (i, { values }) => {
    const start = (i % (KEYS / BATCH)) * BATCH;
    return values.slice(start, start + BATCH).join('\n');
  },
  checkedCalls: KEYS / BATCH,
  tiercache: TIERCACHE,
  verdictLabel: `tiercache redis getMany of ${BATCH}`,
  target: 0.8,
  unit: 'calls',
  related: [
    {
      subject: GET_OR_SET_MANY,
      label: `tiercache redis getOrSetMany of ${BATCH}, ${MISSING} missing`,
      target: 0.8,
    },
  ],
});
