import { createManualClock, createMemoryBackend, createMemoryStore } from '@tiercache/backend-memory';
import { createRedisBackend } from '@tiercache/backend-redis';
import { describeConformance } from '@tiercache/core/testing';
import { type RedisForTests, useRedisForTests } from '@tiercache/redis-harness';
import { afterAll, beforeAll } from 'vitest';
import { createTieredBackend } from '../src/index.js';

// Memory over memory, on one manual clock: L1 expiry follows L2's without sleeping.
const clock = createManualClock();
const sharedL2 = createMemoryStore({ clock });
describeConformance({
  name: 'tiered (memory + memory)',
  create: ({ keyPrefix }) =>
    createTieredBackend({
      l1: { clock, maxEntries: 1000 },
      l2: createMemoryBackend({ store: sharedL2, keyPrefix }),
      clock,
    }),
  advanceTime: (ms) => clock.advance(ms),
});

// Memory over a real Redis.
let redis: RedisForTests;
beforeAll(async () => {
  redis = await useRedisForTests();
});
afterAll(() => redis.stop());
describeConformance({
  name: 'tiered (memory + redis)',
  create: ({ keyPrefix }) =>
    createTieredBackend({
      l1: { maxEntries: 1000 },
      l2: createRedisBackend({ url: redis.url, keyPrefix }),
    }),
});
