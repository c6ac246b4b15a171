import { describeConformance } from '@tiercache/core/testing';
import { type RedisForTests, useRedisForTests } from '@tiercache/redis-harness';
import { afterAll, beforeAll } from 'vitest';
import { createRedisBackend } from '../src/index.js';

// A real redis-server on a free port (or REDIS_URL). Redis keeps real time, so the suite uses short TTLs. Two
// backends of one prefix hear each other through the change feed, as processes sharing one Redis do.
let redis: RedisForTests;
beforeAll(async () => {
  redis = await useRedisForTests();
});
afterAll(() => redis.stop());

describeConformance({
  name: 'redis',
  create: ({ keyPrefix }) => createRedisBackend({ url: redis.url, keyPrefix }),
  capabilities: { changeFeed: true },
});
