import { context, type HrTime, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { createRedisBackend } from '@tiercache/backend-redis';
import { createTieredBackend } from '@tiercache/backend-tiered';
import type { CacheBackend } from '@tiercache/core';
import { eventually, type RedisServer, startRedisServer } from '@tiercache/redis-harness';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ATTRIBUTE, METRIC } from '../src/index.js';
import { type Histogram, valueAt, withTelemetry } from './telemetry.js';

/*
 * A tiered cache over a real Redis (started by the harness for this file), watched through the OpenTelemetry
 * SDK: spans only for the calls that reached Redis, as children of the caller's span; the feed, coherence and
 * breaker gauges as Redis is killed and restarted; invalidations when a plain client writes; L1's entries.
 */

let server: RedisServer;
let plain: Redis;
let run = 0;
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(async () => {
  server = await startRedisServer();
  plain = new Redis(server.url);
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(async () => {
  context.disable();
  plain.disconnect();
  await server.stop();
});

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setup() {
  const telemetry = withTelemetry();
  cleanups.push(() => telemetry.shutdown());
  const keyPrefix = `otel:${process.pid}:${++run}:`;
  const cache = createTieredBackend({
    l1: { maxEntries: 100 },
    l2: createRedisBackend({ url: server.url, keyPrefix, commandTimeout: 300 }),
    l1Ttl: 60,
    breaker: { failureThreshold: 2, resetAfterMs: 100 },
  });
  cleanups.push(() => cache.close());
  return { telemetry, cache, keyPrefix };
}

/** Sets `key` and reads it until L1 holds it (L1 fills once the change feed is armed). */
async function warm(cache: CacheBackend, key: string, value: string): Promise<void> {
  (await cache.set(key, value)).unwrap();
  await eventually(`"${key}" to be held in L1`, async () => {
    await cache.get(key);
    return ((await cache.stats()).unwrap().tiers?.l1?.totalKeys ?? 0) > 0;
  });
}

const hrTimeToMilliseconds = ([seconds, nanos]: HrTime): number => seconds * 1e3 + nanos / 1e6;
const tieredAt = (match: Record<string, string>) => ({ [ATTRIBUTE.backend]: 'tiered', ...match });

describe('@tiercache/opentelemetry over a tiered cache and Redis', () => {
  it('makes a span for each call that reached Redis, none for an L1 hit, under the caller span', async () => {
    const { telemetry, cache } = setup();
    await warm(cache, 'warm', 'v');
    const before = telemetry.spans().length;
    const tracer = telemetry.tracerProvider.getTracer('test');
    await tracer.startActiveSpan('request', async (request) => {
      expect((await cache.get('warm')).unwrap()).toBe('v');
      expect((await cache.get('absent')).unwrap()).toBeNull();
      request.end();
    });

    const spans = telemetry.spans().slice(before);
    const request = spans.find((span) => span.name === 'request');
    const reads = spans.filter((span) => span.name !== 'request');
    // The L1 hit made none; the miss went to Redis.
    expect(reads.map((span) => span.name)).toEqual(['get tiered']);
    const [miss] = reads;
    expect(miss?.attributes).toEqual({
      [ATTRIBUTE.backend]: 'tiered',
      [ATTRIBUTE.operation]: 'get',
      [ATTRIBUTE.outcome]: 'miss',
      [ATTRIBUTE.tier]: 'none',
    });
    expect(miss?.kind).toBe(SpanKind.CLIENT);
    expect(miss?.parentSpanContext?.spanId).toBe(request?.spanContext().spanId);
    expect(miss?.spanContext().traceId).toBe(request?.spanContext().traceId);
    // Start and end come from the seam's duration: the span lies within the request span, up to the skew
    // between performance.timeOrigin (ours) and the SDK's clock, anchored to Date.now() (under a millisecond).
    const skewMs = 1;
    const start = hrTimeToMilliseconds(miss?.startTime ?? [0, 0]);
    const end = hrTimeToMilliseconds(miss?.endTime ?? [0, 0]);
    expect(end).toBeGreaterThan(start);
    expect(start).toBeGreaterThanOrEqual(hrTimeToMilliseconds(request?.startTime ?? [0, 0]) - skewMs);
    expect(end).toBeLessThanOrEqual(hrTimeToMilliseconds(request?.endTime ?? [0, 0]) + skewMs);
    // The write earlier went through to Redis too.
    expect(telemetry.spans().some((span) => span.name === 'set tiered')).toBe(true);

    const durations = await telemetry.points<Histogram>(METRIC.operationDuration);
    expect(
      valueAt(
        durations,
        tieredAt({ [ATTRIBUTE.operation]: 'get', [ATTRIBUTE.outcome]: 'hit', [ATTRIBUTE.tier]: 'l1' }),
      )?.count,
    ).toBeGreaterThanOrEqual(1);
  });

  it('reports the feed armed and tracking in force, L1 entries and bytes, and invalidations heard', async () => {
    const { telemetry, cache, keyPrefix } = setup();
    telemetry.instrumentation.observe(cache, 'catalog');
    await warm(cache, 'price', '100');

    const feed = await telemetry.points(METRIC.feedState);
    expect(valueAt(feed, tieredAt({ [ATTRIBUTE.feedState]: 'armed' }))).toBe(1);
    expect(valueAt(feed, tieredAt({ [ATTRIBUTE.feedState]: 'lost' }))).toBe(0);
    const coherence = await telemetry.points(METRIC.coherenceMode);
    expect(valueAt(coherence, tieredAt({ [ATTRIBUTE.coherenceMode]: 'tracking' }))).toBe(1);
    const l1 = tieredAt({ [ATTRIBUTE.tier]: 'l1', [ATTRIBUTE.cache]: 'catalog' });
    expect(valueAt(await telemetry.points(METRIC.entryCount), l1)).toBe(1);
    expect(valueAt(await telemetry.points(METRIC.memoryUsage), l1)).toBeGreaterThan(0);

    // A plain Redis client changes the key: Redis's tracking tells this L1.
    await plain.set(`${keyPrefix}price`, '120');
    await eventually('the invalidation to be counted', async () => {
      const heard = valueAt(
        await telemetry.points(METRIC.invalidations),
        tieredAt({ [ATTRIBUTE.invalidationScope]: 'keys' }),
      );
      return (heard ?? 0) >= 1;
    });
    expect(valueAt(await telemetry.points(METRIC.entryCount), l1)).toBe(0);
  });

  it('reports the breaker open and the feed lost while Redis is down, and both back once it returns', async () => {
    const { telemetry, cache } = setup();
    telemetry.instrumentation.observe(cache, 'catalog');
    await warm(cache, 'warm', 'v');
    await server.kill();
    try {
      await eventually('the feed to be reported lost', async () => {
        const feed = await telemetry.points(METRIC.feedState);
        return valueAt(feed, tieredAt({ [ATTRIBUTE.feedState]: 'lost' })) === 1;
      });
      // Two failed reads open the breaker (failureThreshold 2).
      for (const key of ['a', 'b']) expect((await cache.get(key)).isErr()).toBe(true);
      const breaker = await telemetry.points(METRIC.breakerState);
      expect(valueAt(breaker, tieredAt({ [ATTRIBUTE.breakerState]: 'open' }))).toBe(1);
      expect(valueAt(breaker, tieredAt({ [ATTRIBUTE.breakerState]: 'closed' }))).toBe(0);
      // The failed reads left the process: error spans with the error's code.
      const failed = telemetry.spans().filter((span) => span.attributes[ATTRIBUTE.outcome] === 'error');
      expect(failed.length).toBeGreaterThanOrEqual(2);
      expect(failed[0]?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'CONNECTION' });
      expect(failed[0]?.attributes[ATTRIBUTE.errorType]).toBe('CONNECTION');
      // While L2 is down, a tiered cache's stats() fails: its L1 is not observed (no figure rather than a
      // wrong one; this reader never saw one before).
      expect(
        valueAt(await telemetry.points(METRIC.entryCount), tieredAt({ [ATTRIBUTE.cache]: 'catalog' })),
      ).toBeUndefined();
    } finally {
      await server.restart();
    }
    await eventually(
      'the breaker to close and the feed to re-arm',
      async () => {
        await cache.get('warm');
        const breaker = await telemetry.points(METRIC.breakerState);
        const feed = await telemetry.points(METRIC.feedState);
        return (
          valueAt(breaker, tieredAt({ [ATTRIBUTE.breakerState]: 'closed' })) === 1 &&
          valueAt(feed, tieredAt({ [ATTRIBUTE.feedState]: 'armed' })) === 1
        );
      },
      10_000,
    );
    const transitions = await telemetry.points(METRIC.breakerTransitions);
    expect(valueAt(transitions, tieredAt({ [ATTRIBUTE.breakerState]: 'open' }))).toBeGreaterThanOrEqual(1);
    expect(valueAt(transitions, tieredAt({ [ATTRIBUTE.breakerState]: 'closed' }))).toBeGreaterThanOrEqual(1);
    const feedChanges = await telemetry.points(METRIC.feedTransitions);
    expect(valueAt(feedChanges, tieredAt({ [ATTRIBUTE.feedState]: 'lost' }))).toBeGreaterThanOrEqual(1);
    expect(valueAt(feedChanges, tieredAt({ [ATTRIBUTE.feedState]: 'armed' }))).toBeGreaterThanOrEqual(2);
  });

  it('makes a span for each Redis backend call, which always leaves the process', async () => {
    const { telemetry } = setup();
    const redis = createRedisBackend({ url: server.url, keyPrefix: `otel:${process.pid}:plain:` });
    cleanups.push(() => redis.close());
    (await redis.set('k', 'v')).unwrap();
    await redis.get('k');
    await redis.getMany(['k', 'missing']);
    // A refused call never reached Redis.
    await redis.get('');
    const names = telemetry.spans().map((span) => span.name);
    expect(names).toEqual(['set redis', 'get redis', 'getMany redis']);
    const batch = telemetry.spans()[2];
    expect(batch?.attributes[ATTRIBUTE.hits]).toBe(1);
    expect(batch?.attributes[ATTRIBUTE.misses]).toBe(1);
    // Called outside any span: the spans are roots.
    expect(trace.getActiveSpan()).toBeUndefined();
    expect(telemetry.spans()[0]?.parentSpanContext).toBeUndefined();
  });
});
