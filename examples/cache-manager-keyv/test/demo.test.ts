import { type RedisForTests, useRedisForTests } from '@tiercache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demonstrate } from '../src/demo.js';

let redis: RedisForTests;
beforeAll(async () => {
  redis = await useRedisForTests();
});
afterAll(() => redis.stop());

describe('cache-manager on a tiered tiercache through Keyv', () => {
  it("wrap() is answered from L1, and another process's set and del reach it long before L1's TTL", async () => {
    const lines: string[] = [];
    const outcome = await demonstrate(redis.url, (line) => lines.push(line));
    expect(lines[0]).toBe('A: wrap("price") = 100, from its loader (loader calls: 1)');
    expect(lines[1]).toBe('A: wrap("price") = 100, from L1 (L1 hits +1, Redis reads +0, loader calls: 1)');
    expect(lines[2]).toMatch(
      /^B: set\("price", 120\): A's wrap answered 120 after [\d.]+ ms \(loader calls: 1\)$/,
    );
    expect(lines[3]).toMatch(
      /^B: del\("price"\): A's wrap called its loader again after [\d.]+ ms \(loader calls: 2\)$/,
    );
    expect(outcome.secondWrap).toEqual({ l1Hits: 1, l2Reads: 0 });
    expect(outcome.loaderCalls).toBe(2);
    // L1 keeps values for 300 s: seeing the changes within 2 s is the invalidation's doing.
    expect(outcome.seenSetAfterMs).toBeLessThan(2000);
    expect(outcome.seenDeleteAfterMs).toBeLessThan(2000);
  }, 30_000);
});
