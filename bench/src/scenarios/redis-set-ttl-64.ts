import { defineRedisCallScenario, KEY_BYTES, KEYS, VALUE_BYTES } from './redis-calls.js';
import { REDIS_CALL_SETTINGS } from './redis-get-64.js';

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
    'The floor is the faster of plain and auto-pipelined raw ioredis in the same run. The baseline corks ' +
      'ioredis by hand as tiercache does, as in redis-get-64.',
  ],
  subjects: [
    {
      name: 'ioredis',
      role: 'floor',
      packages: ['ioredis'],
      setup: `new Redis(url) (defaults); await redis.set(prefix + k, v, 'PX', ${TTL_SECONDS * 1000})`,
      load: async () => {
        const { ioredisSet } = await import('../subjects/ioredis.js');
        return (target, entries) => ioredisSet(target, entries, TTL_SECONDS);
      },
    },
    {
      name: 'ioredis (auto-pipelined)',
      role: 'floor',
      packages: ['ioredis'],
      setup: `new Redis(url, { enableAutoPipelining: true }); await redis.set(prefix + k, v, 'PX', ${TTL_SECONDS * 1000})`,
      load: async () => {
        const { ioredisSetAutoPipelined } = await import('../subjects/ioredis.js');
        return (target, entries) => ioredisSetAutoPipelined(target, entries, TTL_SECONDS);
      },
    },
    {
      name: 'ioredis (corked per tick)',
      role: 'baseline',
      packages: ['ioredis'],
      setup: `new Redis(url); redis.stream.cork() at the first call of each tick, uncork() on process.nextTick; await redis.set(prefix + k, v, 'PX', ${TTL_SECONDS * 1000})`,
      load: async () => {
        const { ioredisSetCorked } = await import('../subjects/ioredis.js');
        return (target, entries) => ioredisSetCorked(target, entries, TTL_SECONDS);
      },
    },
    {
      name: TIERCACHE,
      role: 'tiercache',
      packages: ['@tiercache/backend-redis', 'ioredis'],
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
  target: 0.9,
  unit: 'ops',
});
