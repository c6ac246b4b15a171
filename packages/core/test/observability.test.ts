import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCache } from '../src/cache.js';
import { type CacheDriver, DriverError } from '../src/driver.js';
import { OPERATION_CHANNEL, type OperationMessage } from '../src/observability.js';
import { expectErr, expectOk } from '../src/testing/helpers.js';
import { MapDriver, NAME } from './map-driver.js';

/*
 * The observability seam, watched as an operator's code would watch it: a plain diagnostics_channel
 * subscription to 'tiercache:operation', over a cache made by createCache. Core cannot depend on a backend
 * package, so the driver is a Map here, without TTLs.
 */

/** Subscribes to the operation channel for one test, keeping the messages of this file's caches. */
function watch() {
  const messages: OperationMessage[] = [];
  const listener = vi.fn((message: unknown) => {
    if ((message as OperationMessage).backend.startsWith(NAME)) messages.push(message as OperationMessage);
  });
  subscribe(OPERATION_CHANNEL, listener);
  const stop = () => unsubscribe(OPERATION_CHANNEL, listener);
  stops.push(stop);
  return { messages, listener, stop };
}

const stops: Array<() => void> = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
  vi.restoreAllMocks();
});

function setup() {
  const driver = new MapDriver();
  driver.data.set('present', 'v');
  return { driver, cache: createCache(driver) };
}

describe("the 'tiercache:operation' channel", () => {
  it('a hit publishes outcome hit from l1, with backend, operation, key and its duration', async () => {
    const { cache } = setup();
    const { messages } = watch();
    expect(expectOk(await cache.get('present'))).toBe('v');
    expect(messages).toHaveLength(1);
    const [message] = messages;
    expect(message).toMatchObject({
      backend: NAME,
      operation: 'get',
      key: 'present',
      outcome: 'hit',
      tier: 'l1',
      hits: 1,
      misses: 0,
      code: undefined,
    });
    expect(message?.durationMs).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(message?.durationMs)).toBe(true);
  });

  it('a miss publishes outcome miss with tier none', async () => {
    const { cache } = setup();
    const { messages } = watch();
    expect(expectOk(await cache.get('absent'))).toBeNull();
    expect(messages).toEqual([
      expect.objectContaining({
        backend: NAME,
        operation: 'get',
        key: 'absent',
        outcome: 'miss',
        tier: 'none',
        hits: 0,
        misses: 1,
      }),
    ]);
    expect(messages[0]?.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('a refused call publishes outcome error with its code, and the driver is not called', async () => {
    const { cache, driver } = setup();
    const get = vi.spyOn(driver, 'get');
    const { messages } = watch();
    expectErr(await cache.get(''), 'INVALID_ARGUMENT');
    expectErr(await cache.set('k', 'v', 0.0005), 'INVALID_ARGUMENT');
    expect(messages).toEqual([
      expect.objectContaining({ operation: 'get', outcome: 'error', code: 'INVALID_ARGUMENT' }),
      expect.objectContaining({ operation: 'set', key: 'k', outcome: 'error', code: 'INVALID_ARGUMENT' }),
    ]);
    expect(get).not.toHaveBeenCalled();
    expect(driver.data.has('k')).toBe(false);
  });

  it("a driver's failure publishes outcome error with the driver's code", async () => {
    const { cache, driver } = setup();
    vi.spyOn(driver, 'get').mockImplementation(() => {
      throw new DriverError('TIMEOUT', 'timed out after 5 ms');
    });
    const { messages } = watch();
    expectErr(await cache.get('present'), 'TIMEOUT');
    expect(messages).toEqual([
      expect.objectContaining({ operation: 'get', key: 'present', outcome: 'error', code: 'TIMEOUT' }),
    ]);
  });

  it('getMany publishes one message with the counts of hits and misses', async () => {
    const { cache, driver } = setup();
    driver.data.set('other', 'w');
    const { messages } = watch();
    expectOk(await cache.getMany(['present', 'absent', 'other', 'present', 'gone']));
    expect(messages).toEqual([
      expect.objectContaining({
        backend: NAME,
        operation: 'getMany',
        key: undefined,
        outcome: 'ok',
        tier: 'l1',
        hits: 2,
        misses: 2,
      }),
    ]);
  });

  it('a write publishes outcome ok', async () => {
    const { cache } = setup();
    const { messages } = watch();
    expectOk(await cache.set('k', 'v'));
    expect(messages).toEqual([expect.objectContaining({ operation: 'set', key: 'k', outcome: 'ok' })]);
  });

  it('a driver that answers later is reported as tier l2', async () => {
    const driver = new MapDriver();
    driver.data.set('present', 'v');
    // The same driver, but its get answers with a Promise, as a remote store's does.
    const remote = new Proxy(driver, {
      get(target, property) {
        if (property === 'local') return false;
        if (property === 'get') return async (key: string) => target.get(key);
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as unknown as CacheDriver<false>;
    const cache = createCache(remote);
    const { messages } = watch();
    expect(expectOk(await cache.get('present'))).toBe('v');
    expect(messages).toEqual([expect.objectContaining({ operation: 'get', outcome: 'hit', tier: 'l2' })]);
  });

  it('with no subscriber, nothing is published', async () => {
    const { cache } = setup();
    const { listener, stop } = watch();
    stop();
    expectOk(await cache.get('present'));
    expectOk(await cache.get('absent'));
    expectErr(await cache.get(''), 'INVALID_ARGUMENT');
    expectOk(await cache.getMany(['present', 'absent']));
    expectOk(await cache.getOrSet('loaded', () => 'v'));
    expect(listener).not.toHaveBeenCalled();
  });
});
