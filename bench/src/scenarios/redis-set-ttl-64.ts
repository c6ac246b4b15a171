import { clientSubjects, defineRedisCallScenario, KEY_BYTES, KEYS, VALUE_BYTES } from './redis-calls.js';
import { CLIENT_NOTES, CORKED_NOTE, REDIS_CALL_SETTINGS } from './redis-get-64.js';

const CONCURRENCY = 64;
const TTL_SECONDS = 300;
const TIERCACHE = 'tiercache redis';

export const redisSetTtl64 = defineRedisCallScenario({
  name: 'redis-set-ttl-64',
  title: `SET with a TTL (${TTL_SECONDS} s) with ${CONCURRENCY} calls in flight: ${KEYS.toLocaleString('en-US')} keys of ${KEY_BYTES} bytes (plus the prefix), ${VALUE_BYTES}-byte values, in the run's own redis-server`,
  notes: [
    `Measured as redis-get-64: ${CONCURRENCY} loops each awaiting its call, throughput from timed batches, ` +
      'latency from a separate batch. Every call is checked to answer OK; afterwards every key is checked, ' +
      'through a plain connection, to hold its value with a TTL of at most the one set.',
    'Keys are overwritten over and over with the same values; each write replaces the TTL.',
    ...CLIENT_NOTES,
    CORKED_NOTE,
  ],
  subjects: [
    ...clientSubjects(
      {
        ioredisCall: `redis.set(prefix + k, v, 'PX', ${TTL_SECONDS * 1000})`,
        nodeRedisCall: `client.set(prefix + k, v, { expiration: { type: 'PX', value: ${TTL_SECONDS * 1000} } })`,
        ioredis: async (setup) => {
          const factory = (await import('../subjects/ioredis-calls.js')).ioredisSet(setup);
          return (target, entries) => factory(target, entries, TTL_SECONDS);
        },
        nodeRedis: async (major) => {
          const factory = (await import('../subjects/node-redis.js')).nodeRedisSet(major);
          return (target, entries) => factory(target, entries, TTL_SECONDS);
        },
      },
      { corked: true },
    ),
    {
      name: TIERCACHE,
      role: 'tiercache',
      packages: ['@tiercache/backend-redis', '@tiercache/backend-redis>ioredis'],
      client: '@tiercache/backend-redis>ioredis',
      setup: `createRedisBackend({ url, keyPrefix }) (defaults); (await backend.set(k, v, ${TTL_SECONDS})).isOk()`,
      load: async () => {
        const { tiercacheRedisSet } = await import('../subjects/tiercache-redis.js');
        return (target, entries) => tiercacheRedisSet(target, entries, TTL_SECONDS);
      },
    },
  ],
  concurrency: CONCURRENCY,
  settings: REDIS_CALL_SETTINGS,
  expected: () => 'OK',
  // One untimed call per key first, so every key has been set whatever the timed calls reach.
  checkedCalls: KEYS,
  async afterwards(admin, target, { keys, values }) {
    const pipeline = admin.pipeline();
    for (const key of keys) pipeline.get(`${target.prefix}:${key}`).pttl(`${target.prefix}:${key}`);
    const replies = (await pipeline.exec()) ?? [];
    for (let i = 0; i < keys.length; i++) {
      const value = replies[2 * i]?.[1];
      const ttlMs = replies[2 * i + 1]?.[1] as number;
      if (value !== values[i] || !(ttlMs > 0 && ttlMs <= TTL_SECONDS * 1000)) {
        throw new Error(`key ${i} holds ${JSON.stringify(value)} with PTTL ${ttlMs}: the set did not apply`);
      }
    }
  },
  tiercache: TIERCACHE,
  verdictLabel: `tiercache redis set with TTL, ${CONCURRENCY} in flight`,
  floorLabel: 'the fastest client',
  target: 1,
  baselineTarget: 0.95,
  unit: 'ops',
});
