import keyvTestSuite from '@keyv/test-suite';
import { createMemoryBackend } from '@tiercache/backend-memory';
import { createRedisBackend } from '@tiercache/backend-redis';
import { createTieredBackend } from '@tiercache/backend-tiered';
import type { CacheBackend } from '@tiercache/core';
import { type RedisForTests, useRedisForTests } from '@tiercache/redis-harness';
import Keyv from 'keyv';
import * as test from 'vitest';
import { createKeyvStore } from '../src/index.js';

// Keyv's own published suite, run as Keyv's adapters run it (@keyv/redis: `keyvTestSuite(test, Keyv, store)`):
// every `store()` is a new adapter, as every Keyv in the suite is a new client, over one shared backend.
// `keyvIteratorTests` is not run: the store has no iterator (see the README).

let redis: RedisForTests;
test.beforeAll(async () => {
  redis = await useRedisForTests();
});
test.afterAll(() => redis.stop());

/** Runs the suite over a backend made once per describe block, and closed after it. */
function suiteOver(name: string, create: () => CacheBackend): void {
  test.describe(name, () => {
    let backend: CacheBackend;
    test.beforeAll(() => {
      backend = create();
    });
    test.afterAll(async () => {
      (await backend.flush()).unwrap();
      (await backend.close()).unwrap();
    });
    keyvTestSuite(test, Keyv, () => createKeyvStore(backend));
  });
}

const keyPrefix = `keyv-suite:${process.pid}:`;
suiteOver('memory', () => createMemoryBackend({ keyPrefix }));
suiteOver('redis', () => createRedisBackend({ url: redis.url, keyPrefix: `${keyPrefix}redis:` }));
suiteOver('tiered (memory over redis)', () =>
  createTieredBackend({
    l1: { maxEntries: 1000 },
    l2: createRedisBackend({ url: redis.url, keyPrefix: `${keyPrefix}tiered:` }),
  }),
);
