import { createManualClock, createMemoryBackend } from '@tiercache/backend-memory';
import { applyOperation, cacheOperationArbitrary } from '@tiercache/core/testing/operations';
import { type RedisForTests, useRedisForTests } from '@tiercache/redis-harness';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisBackend } from '../src/index.js';

/*
 * What makes the memory backend trustworthy in users' tests: the same random sequence of operations gives the
 * same answers on it and on a real Redis. Redis keeps real time, so TTLs here are long and compared in whole
 * seconds; expiry itself is covered by the conformance suite on both.
 */
let redis: RedisForTests;
beforeAll(async () => {
  redis = await useRedisForTests();
});
afterAll(() => redis.stop());

describe('memory backend and Redis answer alike', () => {
  it('for random sequences of operations', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(cacheOperationArbitrary({ timeTravel: false }), { minLength: 1, maxLength: 40 }),
        async (ops) => {
          const keyPrefix = `differential:${process.pid}:${++run}:`;
          const memory = createMemoryBackend({ clock: createManualClock(), keyPrefix });
          const real = createRedisBackend({ url: redis.url, keyPrefix });
          try {
            for (const [step, op] of ops.entries()) {
              let expected = await applyOperation(memory, op);
              let actual = await applyOperation(real, op);
              if (op.op === 'ttl') {
                // Milliseconds pass on the Redis side; whole seconds do not.
                expected = typeof expected === 'number' ? Math.round(expected) : expected;
                actual = typeof actual === 'number' ? Math.round(actual) : actual;
              }
              expect(actual, `step ${step}: ${JSON.stringify(op)}`).toEqual(expected);
            }
          } finally {
            await real.flush();
            await real.close();
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
