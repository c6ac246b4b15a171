import { type RedisForTests, useRedisForTests } from '@tiercache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demonstrate } from '../src/two-processes.js';

let redis: RedisForTests;
beforeAll(async () => {
  redis = await useRedisForTests();
});
afterAll(() => redis.stop());

describe('two processes sharing Redis', () => {
  it("a write in another process, and one by a plain Redis client, reach this process's L1", async () => {
    const lines: string[] = [];
    const delays = await demonstrate(redis.url, (line) => lines.push(line));
    expect(lines[0]).toBe('reader sees price = 100 (now in its L1 for up to 300 s)');
    expect(lines[1]).toMatch(/^the other process wrote 120: the reader saw 120 after/);
    expect(lines[2]).toMatch(/^a plain Redis client wrote 130: the reader saw 130 after/);
    // Seen long before the L1 TTL would have let it go: the invalidation did it.
    for (const delay of delays) expect(delay).toBeLessThan(2000);
  }, 30_000);
});
