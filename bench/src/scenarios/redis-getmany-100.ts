import type { ProfileName } from '../scenario.js';
import type { RedisGetManyFactory } from '../subjects/subject-contracts.js';
import {
  type CallFactory,
  clientSubjects,
  defineRedisCallScenario,
  KEY_BYTES,
  KEYS,
  type RedisCallSettings,
  THE_FLOOR,
  VALUE_BYTES,
} from './redis-calls.js';
import { CALLER_CLIENT_NOTE, CLIENT_NOTES, FULL_RUN_ROUNDS, TIERCACHE_ON_IOREDIS_6 } from './redis-get-64.js';

const BATCH = 100;
const CONCURRENCY = 16;
const TIERCACHE = 'tiercache redis';
const GET_OR_SET_MANY = 'tiercache redis getOrSetMany';
const MGET_THEN_STORE = 'ioredis 5 (corked per tick): MGET + SET of the missing';
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
function withBatches<A extends unknown[]>(
  load: (...args: A) => Promise<RedisGetManyFactory>,
): (...args: A) => Promise<CallFactory> {
  return async (...args) => {
    const factory = await load(...args);
    return (target, entries) => factory(target, entries, batchesOf(entries.keys));
  };
}

const SETTINGS: Readonly<Record<ProfileName, RedisCallSettings>> = {
  full: { warmupMs: 400, rounds: FULL_RUN_ROUNDS, roundMs: 120, samples: 2_000 },
  quick: { warmupMs: 200, rounds: 5, roundMs: 50, samples: 500 },
  smoke: { warmupMs: 5, rounds: 2, roundMs: 5, samples: 20 },
};

export const redisGetMany100 = defineRedisCallScenario({
  name: 'redis-getmany-100',
  title: `getMany of ${BATCH} present keys, ${CONCURRENCY} calls in flight: ${KEYS.toLocaleString('en-US')} keys of ${KEY_BYTES} bytes (plus the prefix), ${VALUE_BYTES}-byte values, in the run's own redis-server`,
  notes: [
    `${CONCURRENCY} loops, each awaiting its call before making the next, each call reading one of ` +
      `${KEYS / BATCH} disjoint runs of ${BATCH} keys; throughput from timed batches after a warm-up, latency ` +
      'from a separate batch at the same concurrency. Every call is checked to find all its values, and every ' +
      'run to read back exactly what was stored, in order.',
    ...CLIENT_NOTES,
    CALLER_CLIENT_NOTE,
    "Here the floor is the fastest client's MGET (ioredis `mget`, node-redis `mGet`); no corked baseline. " +
      'tiercache answers a Map keyed by the keys asked (duplicates removed), so it builds a Set and a Map per call.',
    'Peers read Redis alone here (their Redis store as the only store, so the batch reaches Redis): ' +
      'cache-manager `mget` and cacheable `getMany` over Keyv and @keyv/redis, which store each value as JSON ' +
      'with its expiry and parse it back. BentoCache has no batch get, so it is not in this scenario.',
  ],
  subjects: [
    ...clientSubjects(
      {
        ioredisCall: 'redis.mget(keys)',
        nodeRedisCall: 'client.mGet(keys)',
        ioredis: withBatches(async (setup) =>
          (await import('../subjects/ioredis-calls.js')).ioredisGetMany(setup),
        ),
        nodeRedis: withBatches(async (major) =>
          (await import('../subjects/node-redis.js')).nodeRedisGetMany(major),
        ),
      },
      { corked: false },
    ),
    {
      name: TIERCACHE,
      role: 'tiercache',
      packages: ['@tiercache/backend-redis', '@tiercache/backend-redis>ioredis'],
      client: '@tiercache/backend-redis>ioredis',
      setup: 'createRedisBackend({ url, keyPrefix }) (defaults); (await backend.getMany(keys)).isOk()',
      load: withBatches(async () => (await import('../subjects/tiercache-redis.js')).tiercacheRedisGetMany),
    },
    {
      name: TIERCACHE_ON_IOREDIS_6,
      role: 'tiercache',
      packages: ['@tiercache/backend-redis', 'ioredis-6'],
      client: 'ioredis-6',
      setup:
        'createRedisBackend({ client: new Redis6(url, { commandTimeout: 500, …the options the backend sets on its own clients }), closeClient: true, keyPrefix }); (await backend.getMany(keys)).isOk()',
      load: withBatches(
        async () => (await import('../subjects/tiercache-redis.js')).tiercacheRedisGetManyOnIoredis6,
      ),
    },
    {
      name: MGET_THEN_STORE,
      role: 'reference',
      packages: ['ioredis-5'],
      client: 'ioredis-5',
      setup: `new Redis(url) (ioredis 5, corked per tick); await redis.mget(keys), then one redis.set(k, v, 'PX', 10000) per missing key (${MISSING} of the ${BATCH} never seen before), sent together`,
      load: withBatches(async () =>
        (await import('../subjects/ioredis-calls.js')).ioredisGetManyThenStore(
          { major: 5, corkPerTick: true },
          MISSING,
        ),
      ),
    },
    {
      name: GET_OR_SET_MANY,
      role: 'tiercache',
      packages: ['@tiercache/backend-redis', '@tiercache/backend-redis>ioredis'],
      client: '@tiercache/backend-redis>ioredis',
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
  concurrency: CONCURRENCY,
  settings: SETTINGS,
  expected: (i, { values }) => {
    const start = (i % (KEYS / BATCH)) * BATCH;
    return values.slice(start, start + BATCH).join('\n');
  },
  checkedCalls: KEYS / BATCH,
  tiercache: TIERCACHE,
  verdictLabel: `tiercache redis getMany of ${BATCH}, ${CONCURRENCY} in flight`,
  floorLabel: "the fastest client's MGET",
  target: 0.9,
  alsoAgainstFloor: [
    {
      subject: TIERCACHE_ON_IOREDIS_6,
      label: `tiercache redis getMany of ${BATCH} on a caller's ioredis 6 client, ${CONCURRENCY} in flight`,
    },
  ],
  unit: 'calls',
  related: [
    {
      subject: GET_OR_SET_MANY,
      label: `tiercache redis getOrSetMany of ${BATCH}, ${MISSING} missing`,
      target: 0.8,
    },
    {
      subject: MGET_THEN_STORE,
      versus: THE_FLOOR,
      label: `the least a getOrSetMany of ${BATCH} with ${MISSING} missing does (raw MGET + SETs)`,
    },
    {
      subject: GET_OR_SET_MANY,
      versus: MGET_THEN_STORE,
      label: `tiercache redis getOrSetMany of ${BATCH}, ${MISSING} missing, against that least`,
    },
  ],
});
