import { createManualClock, createMemoryBackend } from '@tiercache/backend-memory';
import { createRedisBackend } from '@tiercache/backend-redis';
import type { CacheBackend } from '@tiercache/core';
import { expectErr, expectOk, publishedDuring } from '@tiercache/core/testing';
import { eventually, type RedisServer, startRedisServer } from '@tiercache/redis-harness';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createTieredBackend, type TieredBackendOptions } from '../src/index.js';

/*
 * Stale-if-error against a real redis-server of the test's own: SIGKILLed, SIGSTOPped, and reachable with only
 * its change feed lost. Each test starts its server and stops it.
 */

const HEARTBEAT_MS = 100;
const COMMAND_TIMEOUT_MS = 100;

interface Outage {
  server: RedisServer;
  cache: CacheBackend;
  l1: CacheBackend;
  l2: CacheBackend;
  clock: ReturnType<typeof createManualClock>;
}

let outage: Outage | undefined;
afterEach(async () => {
  // stop() resumes a frozen server first.
  await outage?.cache.close();
  await outage?.server.stop();
  outage = undefined;
});

/** A tiered cache over a server of its own; L1 runs on a manual clock, so copies age only when told to. */
async function start(options: Partial<TieredBackendOptions> = {}): Promise<Outage> {
  const server = await startRedisServer();
  const clock = createManualClock(Date.now());
  const l1 = createMemoryBackend({ maxEntries: 100, clock });
  const l2 = createRedisBackend({
    url: server.url,
    keyPrefix: 'stale:',
    commandTimeout: COMMAND_TIMEOUT_MS,
    reconnect: { minDelayMs: 10, maxDelayMs: 50 },
    changeFeed: { heartbeatMs: HEARTBEAT_MS },
  });
  const cache = createTieredBackend({
    l1,
    l2,
    breaker: { failureThreshold: 3, resetAfterMs: 200 },
    ...options,
  });
  outage = { server, cache, l1, l2, clock };
  await eventually('the change feed to arm', () => l2.changes?.armed === true);
  return outage;
}

/** Writes `key` through the cache and waits until L1 holds it. */
async function warm({ cache, l1 }: Outage, key: string, value: string): Promise<void> {
  expectOk(await cache.set(key, value));
  expect(expectOk(await l1.exists(key))).toBe(true);
}

/** What the operation channel reports for each call made during `during`: outcome and tier. */
async function outcomes(during: () => Promise<unknown>): Promise<string[]> {
  const seen = await publishedDuring(during);
  return seen.map(({ operation, outcome, tier }) => `${operation} ${outcome} ${tier ?? '-'}`);
}

async function timed<T>(call: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await call();
  return { result, ms: performance.now() - started };
}

/** Writes `value` to `key` with a plain client: another program, heard (or not) only through the feed. */
async function writeOutside(server: RedisServer, key: string, value: string): Promise<void> {
  const plain = new Redis(server.url);
  try {
    await plain.set(`stale:${key}`, value);
  } finally {
    plain.disconnect();
  }
}

describe('tiered over Redis: stale-if-error', () => {
  it('with Redis killed, warm keys answer stale, a copy older than staleIfError fails, and a restart brings fresh reads back', async () => {
    const setup = await start({ staleIfError: 5 });
    const { server, cache, l2, clock } = setup;
    await warm(setup, 'old', 'o');
    clock.advance(5000);
    await warm(setup, 'k', 'v');
    await server.kill();
    await eventually('the feed to be lost', () => l2.changes?.armed === false);
    let loads = 0;
    const seen = await outcomes(async () => {
      expect(expectOk(await cache.get('k'))).toBe('v');
      expect(expectOk(await cache.getOrSet('k', () => `loaded ${++loads}`))).toBe('v');
      expectErr(await cache.get('old'), 'CONNECTION'); // 5 s old: not younger than staleIfError
    });
    expect(loads).toBe(0);
    expect(seen).toEqual(['get stale l1', 'getOrSet stale l1', 'get error -']);

    await server.restart();
    await eventually('the feed to re-arm', () => l2.changes?.armed === true);
    await writeOutside(server, 'k', 'fresh');
    // The breaker lets reads through again once its cool-down has passed (in real time).
    await eventually(
      'a fresh read from Redis',
      async () => (await cache.get('k')).unwrapOr(null) === 'fresh',
    );
    const stats = expectOk(await cache.stats());
    expect(stats.staleHits).toBe(2);
    expect(stats.tiers?.l1?.staleHits).toBe(2);
  });

  it('with Redis frozen, a warm key answers stale after the L2 timeout, then at once from the open breaker; fresh again once resumed', async () => {
    const setup = await start();
    const { server, cache, l2 } = setup;
    await warm(setup, 'k', 'v');
    server.pause();
    await eventually('the feed to be lost', () => l2.changes?.armed === false);
    const waits: number[] = [];
    const seen = await outcomes(async () => {
      for (let i = 0; i < 3; i++) {
        const { result, ms } = await timed(() => cache.get('k'));
        expect(expectOk(result)).toBe('v');
        waits.push(ms);
      }
      const refused = await timed(() => cache.get('k'));
      expect(expectOk(refused.result)).toBe('v');
      waits.push(refused.ms);
    });
    expect(seen).toEqual(['get stale l1', 'get stale l1', 'get stale l1', 'get stale l1']);
    // The first three wait out the L2 timeout; the breaker is open for the fourth (the bench has the figure).
    for (const ms of waits.slice(0, 3)) expect(ms).toBeGreaterThanOrEqual(COMMAND_TIMEOUT_MS - 5);
    for (const ms of waits.slice(0, 3)) expect(ms).toBeLessThan(COMMAND_TIMEOUT_MS + 400);
    expect(waits[3]).toBeLessThan(50);

    server.resume();
    await eventually('the feed to re-arm', () => l2.changes?.armed === true);
    await writeOutside(server, 'k', 'fresh');
    await eventually('the breaker to let reads through', async () => {
      return expectOk(await cache.get('k')) === 'fresh';
    });
  });

  it('with staleIfError: 0 and Redis killed, a warm key answers Err as before', async () => {
    const setup = await start({ staleIfError: 0 });
    const { server, cache, l1, l2 } = setup;
    await warm(setup, 'k', 'v');
    await server.kill();
    await eventually('the feed to be lost', () => l2.changes?.armed === false);
    expect(expectOk(await l1.exists('k'))).toBe(false);
    expectErr(await cache.get('k'), 'CONNECTION');
  });

  it('with Redis reachable but the feed lost, a copy that may be stale is not served: the read asks Redis', async () => {
    const setup = await start();
    const { server, cache, l1, l2 } = setup;
    await warm(setup, 'k', 'old');
    const admin = new Redis(server.url);
    try {
      // At once, on the server: the feed's connection goes, the write that follows is heard by no one, and
      // writes (PUBLISH too) are held for 3 s, so the feed cannot hear its heartbeat and re-arm meanwhile.
      await admin
        .multi()
        .call('CLIENT', 'KILL', 'TYPE', 'pubsub')
        .set('stale:k', 'changed unheard')
        .call('CLIENT', 'PAUSE', '3000', 'WRITE')
        .exec();
      await eventually('the feed to be lost', () => l2.changes?.armed === false);
      expect(expectOk(await l1.get('k'))).toBe('old'); // still held, for reads Redis cannot answer
      const seen = await outcomes(async () => {
        expect(expectOk(await cache.get('k'))).toBe('changed unheard');
      });
      expect(seen).toEqual(['get hit l2']);
      expect(l2.changes?.armed).toBe(false); // all of it while the feed was lost
      await admin.call('CLIENT', 'UNPAUSE');
    } finally {
      admin.disconnect();
    }
    await eventually('the feed to re-arm', () => l2.changes?.armed === true);
    expect(expectOk(await cache.get('k'))).toBe('changed unheard');
  });
});
