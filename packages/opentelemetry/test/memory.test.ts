import { channel } from 'node:diagnostics_channel';
import { createManualClock, createMemoryBackend } from '@tiercache/backend-memory';
import { EVENT_CHANNEL, OPERATION_CHANNEL } from '@tiercache/core';
import { afterEach, describe, expect, it } from 'vitest';
import { ATTRIBUTE, instrumentTiercache, METRIC } from '../src/index.js';
import { type Histogram, valueAt, withTelemetry } from './telemetry.js';

/*
 * The metrics over the memory backend, read back through the OpenTelemetry SDK's own MeterProvider and a
 * reader collected on demand; spans through its InMemorySpanExporter. No SDK is registered globally here, so
 * the tests of "no SDK" see the API's no-op providers.
 */

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setup() {
  const telemetry = withTelemetry();
  cleanups.push(() => telemetry.shutdown());
  const cache = createMemoryBackend({ maxEntries: 100 });
  cleanups.push(() => cache.close());
  return { telemetry, cache };
}

const operationChannel = channel(OPERATION_CHANNEL);

describe('@tiercache/opentelemetry without an SDK', () => {
  it('subscribes to nothing, so an L1 hit stays unobserved', () => {
    const instrumentation = instrumentTiercache();
    cleanups.push(() => instrumentation.stop());
    expect(instrumentation.metrics).toBe(false);
    expect(instrumentation.spans).toBe(false);
    expect(operationChannel.hasSubscribers).toBe(false);
    expect(channel(EVENT_CHANNEL).hasSubscribers).toBe(false);
  });

  it('subscribes once given a meter provider from the SDK, and stop() unsubscribes', async () => {
    const { telemetry } = setup();
    expect(telemetry.instrumentation.metrics).toBe(true);
    expect(telemetry.instrumentation.spans).toBe(true);
    expect(operationChannel.hasSubscribers).toBe(true);
    telemetry.instrumentation.stop();
    expect(operationChannel.hasSubscribers).toBe(false);
    expect(channel(EVENT_CHANNEL).hasSubscribers).toBe(false);
  });
});

describe('@tiercache/opentelemetry metrics over the memory backend', () => {
  it('records each operation on the duration histogram by backend, operation, tier and outcome', async () => {
    const { telemetry, cache } = setup();
    (await cache.set('present', 'v')).unwrap();
    (await cache.set('text', 'not a number')).unwrap();
    expect((await cache.get('present')).unwrap()).toBe('v');
    expect((await cache.get('present')).unwrap()).toBe('v');
    expect((await cache.get('absent')).unwrap()).toBeNull();
    expect((await cache.increment('text')).isErr()).toBe(true);

    const points = await telemetry.points<Histogram>(METRIC.operationDuration);
    const at = (match: Record<string, string>) =>
      valueAt(points, { [ATTRIBUTE.backend]: 'memory', ...match });
    expect(
      at({ [ATTRIBUTE.operation]: 'get', [ATTRIBUTE.outcome]: 'hit', [ATTRIBUTE.tier]: 'l1' })?.count,
    ).toBe(2);
    expect(
      at({ [ATTRIBUTE.operation]: 'get', [ATTRIBUTE.outcome]: 'miss', [ATTRIBUTE.tier]: 'none' })?.count,
    ).toBe(1);
    expect(at({ [ATTRIBUTE.operation]: 'set', [ATTRIBUTE.outcome]: 'ok' })?.count).toBe(2);
    const failed = points.find((point) => point.attributes[ATTRIBUTE.operation] === 'increment');
    expect(failed?.attributes).toEqual({
      [ATTRIBUTE.backend]: 'memory',
      [ATTRIBUTE.operation]: 'increment',
      [ATTRIBUTE.outcome]: 'error',
      [ATTRIBUTE.errorType]: 'WRONG_TYPE',
    });
    // Seconds, as the conventions have durations: an in-process get takes far less than a millisecond.
    const hit = at({ [ATTRIBUTE.operation]: 'get', [ATTRIBUTE.outcome]: 'hit' });
    expect(hit?.sum).toBeGreaterThan(0);
    expect(hit?.max).toBeLessThan(0.5);
  });

  it('counts lookups per key by tier and result: a getMany counts each key it asked', async () => {
    const { telemetry, cache } = setup();
    (await cache.setMany({ a: '1', b: '2' })).unwrap();
    await cache.get('a');
    await cache.get('nope');
    await cache.getMany(['a', 'b', 'c']);
    await cache.getOrSet('loaded', () => 'x');

    const points = await telemetry.points(METRIC.lookups);
    const count = (tier: string, result: string) =>
      valueAt(points, {
        [ATTRIBUTE.backend]: 'memory',
        [ATTRIBUTE.tier]: tier,
        [ATTRIBUTE.lookupResult]: result,
      });
    expect(count('l1', 'hit')).toBe(3);
    expect(count('none', 'miss')).toBe(3);
    expect(points).toHaveLength(2);
  });

  it('counts a grace copy answered for a failing loader as a stale lookup, with its duration', async () => {
    const { telemetry } = setup();
    const clock = createManualClock();
    const cache = createMemoryBackend({ clock });
    cleanups.push(() => cache.close());
    (await cache.getOrSet('k', () => 'good', { ttl: 1, grace: 60 })).unwrap();
    clock.advance(1_001);
    const failing = () => Promise.reject(new Error('database down'));
    expect((await cache.getOrSet('k', failing, { grace: 60 })).unwrap()).toBe('good');

    const lookups = await telemetry.points(METRIC.lookups);
    const stale = {
      [ATTRIBUTE.backend]: 'memory',
      [ATTRIBUTE.tier]: 'l2',
      [ATTRIBUTE.lookupResult]: 'stale',
    };
    expect(valueAt(lookups, stale)).toBe(1);
    const durations = await telemetry.points<Histogram>(METRIC.operationDuration);
    expect(valueAt(durations, { [ATTRIBUTE.outcome]: 'stale' })?.count).toBe(1);
  });

  it('counts a loaded value that could not be stored', async () => {
    const { telemetry } = setup();
    const cache = createMemoryBackend({ maxBytes: 64 });
    cleanups.push(() => cache.close());
    expect((await cache.getOrSet('big', () => 'x'.repeat(100))).unwrap()).toHaveLength(100);
    expect(valueAt(await telemetry.points(METRIC.notStored), { [ATTRIBUTE.backend]: 'memory' })).toBe(1);
  });

  it('observes the entries and bytes a memory cache holds, from its stats(), under the name given', async () => {
    const { telemetry, cache } = setup();
    const stop = telemetry.instrumentation.observe(cache, 'sessions');
    (await cache.setMany({ a: 'one', b: 'two' })).unwrap();
    const bytes = (await cache.stats()).unwrap().memoryUsageBytes;
    expect(bytes).toBeGreaterThan(0);
    const where = { [ATTRIBUTE.backend]: 'memory', [ATTRIBUTE.tier]: 'l1', [ATTRIBUTE.cache]: 'sessions' };
    expect(valueAt(await telemetry.points(METRIC.entryCount), where)).toBe(2);
    expect(valueAt(await telemetry.points(METRIC.memoryUsage), where)).toBe(bytes);

    stop();
    (await cache.set('c', 'three')).unwrap();
    // A cumulative reader keeps the last value it saw; no new observation means no change.
    expect(valueAt(await telemetry.points(METRIC.entryCount), where)).toBe(2);
  });

  it('makes no span for a memory backend: nothing leaves the process', async () => {
    const { telemetry, cache } = setup();
    await cache.set('a', '1');
    await cache.get('a');
    await cache.get('b');
    expect(telemetry.spans()).toEqual([]);
  });

  it('records nothing after stop()', async () => {
    const { telemetry, cache } = setup();
    await cache.get('a');
    telemetry.instrumentation.stop();
    await cache.get('a');
    await cache.get('a');
    const points = await telemetry.points<Histogram>(METRIC.operationDuration);
    expect(valueAt(points, { [ATTRIBUTE.operation]: 'get' })?.count).toBe(1);
  });
});
