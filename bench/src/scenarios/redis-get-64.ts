import type { ProfileName } from '../scenario.js';
import {
  defineRedisCallScenario,
  KEY_BYTES,
  KEYS,
  type RedisCallSettings,
  VALUE_BYTES,
} from './redis-calls.js';

const CONCURRENCY = 64;
const TIERCACHE = 'tiercache redis';

export const REDIS_CALL_SETTINGS: Readonly<Record<ProfileName, RedisCallSettings>> = {
  full: { warmupMs: 500, rounds: 8, roundMs: 120, samples: 20_000 },
  quick: { warmupMs: 200, rounds: 5, roundMs: 50, samples: 3_000 },
  smoke: { warmupMs: 5, rounds: 2, roundMs: 5, samples: 200 },
};

export const redisGet64 = defineRedisCallScenario({
  name: 'redis-get-64',
  title: `GET of a present key with ${CONCURRENCY} calls in flight: ${KEYS.toLocaleString('en-US')} keys of ${KEY_BYTES} bytes (plus the prefix), ${VALUE_BYTES}-byte values, in the run's own redis-server on 127.0.0.1`,
  notes: [
    `A fixed-concurrency loop: ${CONCURRENCY} loops, each awaiting its call before making the next, cycling ` +
      'through the keys. Throughput is the median of timed batches after a warm-up, with no clock inside the ' +
      'loop; latency (issue to answer) comes from a separate batch at the same concurrency.',
    'Every call is checked to find a value, and the first calls to read back exactly what was stored. Raw ' +
      'ioredis is given its keys with the prefix already joined on; tiercache joins its keyPrefix per call.',
    'The floor ("× floor") is the faster of the two raw ioredis clients in the same run: plain, and with ' +
      'enableAutoPipelining (which tiercache leaves off by default: its own batching of writes per tick does ' +
      "without auto-pipelining's wait for setImmediate and its pipeline per batch).",
    'tiercache corks its socket until the end of each tick, so the commands that one batch of replies sets off ' +
      'leave in one writev instead of one write(2) each; that is where it overtakes raw ioredis. The baseline ' +
      '"ioredis (corked per tick)" does the same by hand and nothing else: the distance between it and ' +
      'tiercache is what the backend itself costs (key prefix, checks, Result, counters).',
    'redis-server runs on the same 2 cores as the benchmark, so every figure includes the server sharing them.',
  ],
  subjects: [
    {
      name: 'ioredis',
      role: 'floor',
      packages: ['ioredis'],
      setup: 'new Redis(url) (defaults); await redis.get(prefix + k)',
      load: async () => (await import('../subjects/ioredis.js')).ioredisGet,
    },
    {
      name: 'ioredis (auto-pipelined)',
      role: 'floor',
      packages: ['ioredis'],
      setup: 'new Redis(url, { enableAutoPipelining: true }); await redis.get(prefix + k)',
      load: async () => (await import('../subjects/ioredis.js')).ioredisGetAutoPipelined,
    },
    {
      name: 'ioredis (corked per tick)',
      role: 'baseline',
      packages: ['ioredis'],
      setup:
        'new Redis(url); redis.stream.cork() at the first call of each tick, uncork() on process.nextTick; await redis.get(prefix + k)',
      load: async () => (await import('../subjects/ioredis.js')).ioredisGetCorked,
    },
    {
      name: TIERCACHE,
      role: 'tiercache',
      packages: ['@tiercache/backend-redis', 'ioredis'],
      setup:
        'createRedisBackend({ url, keyPrefix }) (defaults: no auto-pipelining, commandTimeout 500 ms); (await backend.get(k)).isOk()',
      load: async () => (await import('../subjects/tiercache-redis.js')).tiercacheRedisGet,
    },
  ],
  concurrency: CONCURRENCY,
  settings: REDIS_CALL_SETTINGS,
  expected: (i, { values }) => values[i % values.length] as string,
  checkedCalls: KEYS,
  tiercache: TIERCACHE,
  verdictLabel: `tiercache redis get, ${CONCURRENCY} in flight`,
  target: 0.9,
  unit: 'ops',
});
