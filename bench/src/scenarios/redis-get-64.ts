import type { ProfileName } from '../scenario.js';
import {
  type ClientCommand,
  clientSubjects,
  defineRedisCallScenario,
  KEY_BYTES,
  KEYS,
  type RedisCallSettings,
  VALUE_BYTES,
} from './redis-calls.js';

const CONCURRENCY = 64;
const TIERCACHE = 'tiercache redis';
export const TIERCACHE_ON_IOREDIS_6 = "tiercache redis (on a caller's ioredis 6 client)";

/**
 * Timed rounds per pass in a full run. At 16 or 64 calls in flight on two shared cores, one round of a raw
 * client can run at half the speed of the next; the median of 6 such rounds still wandered so far from one
 * process to the next that a ratio's spread over passes was 28–51 % in four runs of redis-getmany-100, while
 * with 18 rounds it was 17 % and 11 % in the two runs after (the ratio itself 1.13 × and 1.18 ×).
 */
export const FULL_RUN_ROUNDS = 18;

export const REDIS_CALL_SETTINGS: Readonly<Record<ProfileName, RedisCallSettings>> = {
  full: { warmupMs: 400, rounds: FULL_RUN_ROUNDS, roundMs: 120, samples: 20_000 },
  quick: { warmupMs: 200, rounds: 5, roundMs: 50, samples: 3_000 },
  smoke: { warmupMs: 5, rounds: 2, roundMs: 5, samples: 200 },
};

/** The notes on the clients that the Redis call scenarios share. */
export const CLIENT_NOTES = [
  'The floor ("× floor") is the fastest of the raw clients in their own configurations, in the same run: ' +
    'ioredis 5 and 6, each plain and with enableAutoPipelining (which waits for setImmediate and sends a ' +
    'pipeline per batch), and node-redis (@redis/client) 5 and 6 as they come, which already queue the ' +
    'commands made until the next setImmediate and write them in one corked write by default.',
  'A figure meets its target only if it clears it by more than the spread over passes of both figures.',
  'redis-server runs on the same 2 cores as the benchmark, so every figure includes the server sharing them.',
];

/** What the hand-corked baselines of redis-get-64 and redis-set-ttl-64 are for. */
export const CORKED_NOTE =
  "tiercache writes GET, SET and MGET to its own client's socket itself, the commands of each tick joined in " +
  'one write at its end, and leaves the rest of the work to ioredis (connection, reply parsing). The baselines ' +
  '"ioredis 5/6 (corked per tick)" batch the same way by hand with ioredis\'s own commands: the socket corked ' +
  'until the tick ends, so the commands that one batch of replies sets off leave in one writev. tiercache is ' +
  'held to the faster of the two.';

/** Why a Redis call scenario has a tiercache subject on a caller's ioredis 6 client. */
export const CALLER_CLIENT_NOTE =
  `"${TIERCACHE}" is the backend made from a url, on the ioredis the backend depends on (its version is in ` +
  `the verdicts); "${TIERCACHE_ON_IOREDIS_6}" is the same backend handed an ioredis 6 client made with the ` +
  'options the backend gives its own, so the two rows show what each ioredis major costs tiercache.';

const GET: ClientCommand = {
  ioredisCall: 'redis.get(prefix + k)',
  nodeRedisCall: 'client.get(prefix + k)',
  ioredis: async (setup) => (await import('../subjects/ioredis-calls.js')).ioredisGet(setup),
  nodeRedis: async (major) => (await import('../subjects/node-redis.js')).nodeRedisGet(major),
};

export const redisGet64 = defineRedisCallScenario({
  name: 'redis-get-64',
  title: `GET of a present key with ${CONCURRENCY} calls in flight: ${KEYS.toLocaleString('en-US')} keys of ${KEY_BYTES} bytes (plus the prefix), ${VALUE_BYTES}-byte values, in the run's own redis-server on 127.0.0.1`,
  notes: [
    `A fixed-concurrency loop: ${CONCURRENCY} loops, each awaiting its call before making the next, cycling ` +
      'through the keys. Throughput is the median of timed batches after a warm-up, with no clock inside the ' +
      'loop; latency (issue to answer) comes from a separate batch at the same concurrency.',
    'Every call is checked to find a value, and the first calls to read back exactly what was stored. Raw ' +
      'clients are given their keys with the prefix already joined on; tiercache adds its keyPrefix on each call.',
    ...CLIENT_NOTES,
    CORKED_NOTE,
    CALLER_CLIENT_NOTE,
  ],
  subjects: [
    ...clientSubjects(GET, { corked: true }),
    {
      name: TIERCACHE,
      role: 'tiercache',
      packages: ['@tiercache/backend-redis', '@tiercache/backend-redis>ioredis'],
      client: '@tiercache/backend-redis>ioredis',
      setup:
        'createRedisBackend({ url, keyPrefix }) (defaults: no auto-pipelining, commandTimeout 500 ms); (await backend.get(k)).isOk()',
      load: async () => (await import('../subjects/tiercache-redis.js')).tiercacheRedisGet,
    },
    {
      name: TIERCACHE_ON_IOREDIS_6,
      role: 'tiercache',
      packages: ['@tiercache/backend-redis', 'ioredis-6'],
      client: 'ioredis-6',
      setup:
        'createRedisBackend({ client: new Redis6(url, { commandTimeout: 500, …the options the backend sets on its own clients }), closeClient: true, keyPrefix }); (await backend.get(k)).isOk()',
      load: async () => (await import('../subjects/tiercache-redis.js')).tiercacheRedisGetOnIoredis6,
    },
  ],
  concurrency: CONCURRENCY,
  settings: REDIS_CALL_SETTINGS,
  expected: (i, { values }) => values[i % values.length] as string,
  checkedCalls: KEYS,
  tiercache: TIERCACHE,
  verdictLabel: `tiercache redis get, ${CONCURRENCY} in flight`,
  floorLabel: 'the fastest client',
  target: 1,
  baselineTarget: 0.95,
  alsoAgainstFloor: [
    {
      subject: TIERCACHE_ON_IOREDIS_6,
      label: `tiercache redis get on a caller's ioredis 6 client, ${CONCURRENCY} in flight`,
    },
  ],
  unit: 'ops',
});
