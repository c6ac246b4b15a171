import { createManualClock, createMemoryBackend, createMemoryStore } from '@tiercache/backend-memory';
import { createRedisBackend } from '@tiercache/backend-redis';
import type { CacheBackend, CacheError } from '@tiercache/core';
import { type RedisServer, startRedisServer } from '@tiercache/redis-harness';
import Keyv from 'keyv';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createKeyvStore } from '../src/index.js';

// What the adapter decides beyond Keyv's suite: TTL conversion, where namespaced keys live, what clear()
// reaches, raw values, and how failures reach Keyv.

const clock = createManualClock();
let backend: CacheBackend;
beforeEach(() => {
  backend = createMemoryBackend({ clock });
});

/** The TTL the backend holds for a key, in seconds; `null` for none. */
async function ttlOf(key: string): Promise<number | null> {
  return (await backend.ttl(key)).unwrap();
}

async function stored(key: string): Promise<string | null> {
  return (await backend.get(key)).unwrap();
}

describe('TTLs', () => {
  it('a Keyv TTL in milliseconds is stored as the same time in seconds, and the key expires when it ends', async () => {
    const store = createKeyvStore(backend);
    expect(await store.set('k', 'v', 1500)).toBe(true);
    expect(await ttlOf('k')).toBe(1.5);
    clock.advance(1500);
    expect(await store.get('k')).toBe('v');
    clock.advance(1);
    expect(await store.get('k')).toBeUndefined();
  });

  it("Keyv's default TTL reaches the store converted", async () => {
    const keyv = new Keyv({ store: createKeyvStore(backend), ttl: 250 });
    await keyv.set('k', 'v');
    expect(await ttlOf('keyv:k')).toBe(0.25);
  });

  it('a fraction of a millisecond rounds up, so the store never expires a key before Keyv would', async () => {
    const store = createKeyvStore(backend);
    await store.set('k', 'v', 1.2);
    expect(await ttlOf('k')).toBe(0.002);
  });

  it.each([
    ['under a millisecond', 0.5],
    ['zero', 0],
    ['negative', -1000],
    ['minus infinity', Number.NEGATIVE_INFINITY],
  ])('a TTL %s is an expiry already reached: the key is deleted, not stored', async (_, ttl) => {
    const store = createKeyvStore(backend);
    await store.set('k', 'old');
    expect(await store.set('k', 'new', ttl)).toBe(true);
    expect(await stored('k')).toBeNull();
  });

  it.each([
    ['undefined', undefined],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
  ])('a TTL of %s stores the key without one, clearing an earlier TTL', async (_, ttl) => {
    const store = createKeyvStore(backend);
    await store.set('k', 'old', 1000);
    expect(await store.set('k', 'new', ttl)).toBe(true);
    expect(await stored('k')).toBe('new');
    expect(await ttlOf('k')).toBeNull();
  });

  it("setMany gives each entry its own TTL, keeps a key's last entry, and deletes an entry already expired", async () => {
    const keyv = new Keyv({ store: createKeyvStore(backend) });
    await keyv.set('gone', 'here');
    await keyv.setMany([
      { key: 'a', value: 'first', ttl: 1000 },
      { key: 'b', value: 'no ttl' },
      { key: 'a', value: 'last', ttl: 2000 },
      { key: 'gone', value: 'expired', ttl: -1 },
    ]);
    expect(await keyv.get(['a', 'b', 'gone'])).toEqual(['last', 'no ttl', undefined]);
    expect(await ttlOf('keyv:a')).toBe(2);
    expect(await ttlOf('keyv:b')).toBeNull();
    expect(await stored('keyv:gone')).toBeNull();
  });
});

describe('keys and namespaces', () => {
  it("Keyv's keys are stored as namespace:key, holding the text Keyv serialized", async () => {
    const keyv = new Keyv({ store: createKeyvStore(backend), namespace: 'users' });
    await keyv.set('ann', { name: 'Ann' });
    expect(JSON.parse((await stored('users:ann')) as string)).toEqual({ value: { name: 'Ann' } });
  });

  it('with useKeyPrefix off, the store adds the namespace itself, so clear() still finds its keys', async () => {
    const keyv = new Keyv({ store: createKeyvStore(backend), namespace: 'ns', useKeyPrefix: false });
    await keyv.set('a', 1);
    expect(await stored('ns:a')).not.toBeNull();
    await keyv.clear();
    expect(await keyv.get('a')).toBeUndefined();
    expect(await stored('ns:a')).toBeNull();
  });

  it('clear() takes the namespace literally: glob characters in it match only themselves', async () => {
    const starred = new Keyv({ store: createKeyvStore(backend), namespace: 'we*rd' });
    const plain = new Keyv({ store: createKeyvStore(backend), namespace: 'weXrd' });
    await starred.set('k', 'starred');
    await plain.set('k', 'plain');
    await starred.clear();
    expect(await starred.get('k')).toBeUndefined();
    expect(await plain.get('k')).toBe('plain');
  });

  it("clear() without a namespace empties the backend's prefix, every namespace in it, and nothing outside it", async () => {
    const memory = createMemoryStore({ clock });
    const app = createMemoryBackend({ store: memory, keyPrefix: 'app:' });
    const other = createMemoryBackend({ store: memory, keyPrefix: 'other:' });
    const bare = new Keyv({ store: createKeyvStore(app) });
    bare.namespace = undefined;
    const namespaced = new Keyv({ store: createKeyvStore(app), namespace: 'ns' });
    await bare.set('plain', 1);
    await namespaced.set('k', 2);
    (await other.set('kept', 'x')).unwrap();

    await bare.clear();
    expect(await bare.get('plain')).toBeUndefined();
    expect(await namespaced.get('k')).toBeUndefined();
    expect((await other.get('kept')).unwrap()).toBe('x');
  });

  it("a namespace's clear() also reaches the namespaces named under it (`a` clears `a:b`), as Keyv's SQL adapters do", async () => {
    const outer = new Keyv({ store: createKeyvStore(backend), namespace: 'a' });
    const inner = new Keyv({ store: createKeyvStore(backend), namespace: 'a:b' });
    await inner.set('k', 'v');
    await outer.clear();
    expect(await inner.get('k')).toBeUndefined();
  });

  it('getMany answers in the order asked, a key asked twice in both places', async () => {
    const store = createKeyvStore(backend);
    await store.set('a', 'A');
    await store.set('b', 'B');
    expect(await store.getMany(['b', 'missing', 'a', 'b'])).toEqual(['B', undefined, 'A', 'B']);
  });

  it('hasMany and deleteMany answer per key and for any key', async () => {
    const store = createKeyvStore(backend);
    await store.set('a', 'A');
    expect(await store.hasMany(['a', 'b'])).toEqual([true, false]);
    expect(await store.deleteMany(['b', 'a'])).toBe(true);
    expect(await store.deleteMany(['a', 'b'])).toBe(false);
  });

  it('has no iterator: Keyv 5 uses only the iterators of adapters on its own list', () => {
    expect(new Keyv({ store: createKeyvStore(backend) }).iterator).toBeUndefined();
  });
});

describe('values', () => {
  it('Keyv without serialization (as cache-manager makes its own) gets its objects back', async () => {
    const keyv = new Keyv({ store: createKeyvStore(backend) });
    keyv.serialize = undefined;
    keyv.deserialize = undefined;
    const value = { name: 'Ann', tags: ['a', 'b'], nested: { n: 1, yes: true, nothing: null } };
    await keyv.set('o', value, 10_000);
    // Keyv handed the store an object: it went in as tagged JSON.
    expect((await stored('keyv:o'))?.startsWith('\u0000j{')).toBe(true);
    expect(await keyv.get('o')).toEqual(value);
    expect(await keyv.get(['o', 'missing'])).toEqual([value, undefined]);
    expect((await keyv.getRaw('o'))?.expires).toBeTypeOf('number');
  });

  it.each([
    ['a lone NUL', '\u0000'],
    ['what looks like a tagged object', '\u0000j{"value":1}'],
    ['what looks like a tagged string', '\u0000sabc'],
  ])('a string starting with NUL reads back as written: %s', async (_, value) => {
    const store = createKeyvStore(backend);
    await store.set('k', value);
    expect(await store.get('k')).toBe(value);
    expect(await store.getMany(['k'])).toEqual([value]);
  });

  it("Keyv's own serialized strings are stored verbatim", async () => {
    const store = createKeyvStore(backend);
    await store.set('k', '{"value":"v","expires":null}');
    expect(await stored('k')).toBe('{"value":"v","expires":null}');
  });

  it('a value JSON cannot carry is an error event, and set answers false', async () => {
    const store = createKeyvStore(backend);
    const errors: CacheError[] = [];
    store.on('error', (error: CacheError) => errors.push(error));
    expect(await store.set('k', { big: 1n })).toBe(false);
    expect(errors.map((error) => error.code)).toEqual(['SERIALIZATION']);
    expect(await stored('k')).toBeNull();
  });
});

describe('failures', () => {
  it('over a closed backend every call answers as a miss or false, and Keyv emits each error', async () => {
    const keyv = new Keyv({ store: createKeyvStore(backend) });
    await keyv.set('k', 'v');
    (await backend.close()).unwrap();
    const errors: CacheError[] = [];
    keyv.on('error', (error: CacheError) => errors.push(error));

    expect(await keyv.get('k')).toBeUndefined();
    expect(await keyv.get(['k', 'j'])).toEqual([undefined, undefined]);
    expect(await keyv.set('k', 'w')).toBe(false);
    expect(await keyv.delete('k')).toBe(false);
    expect(await keyv.has('k')).toBe(false);
    await keyv.clear();
    expect(errors.map((error) => error.code)).toEqual([
      'CLOSED',
      'CLOSED',
      'CLOSED',
      'CLOSED',
      'CLOSED',
      'CLOSED',
    ]);
    expect(errors[0]?.message).toContain('[tiercache:memory] get "keyv:k"');
  });

  it('without an error listener the store still answers, and does not throw', async () => {
    const store = createKeyvStore(backend);
    (await backend.close()).unwrap();
    await expect(store.get('k')).resolves.toBeUndefined();
    await expect(store.set('k', 'v')).resolves.toBe(false);
    await expect(store.clear()).resolves.toBeUndefined();
  });

  it('a key the backend refuses is an INVALID_ARGUMENT error event, answered as a miss', async () => {
    const keyv = new Keyv({ store: createKeyvStore(backend) });
    keyv.namespace = undefined;
    const errors: CacheError[] = [];
    keyv.on('error', (error: CacheError) => errors.push(error));
    expect(await keyv.set('', 'v')).toBe(false);
    // Keyv passes a key through as it is when it adds no prefix of its own.
    const unprefixed = new Keyv({ store: createKeyvStore(backend), namespace: 'ns', useKeyPrefix: false });
    unprefixed.on('error', (error: CacheError) => errors.push(error));
    expect(await unprefixed.get(42 as unknown as string)).toBeUndefined();
    expect(await keyv.get('\ud800')).toBeUndefined();
    expect(errors.map((error) => error.code)).toEqual([
      'INVALID_ARGUMENT',
      'INVALID_ARGUMENT',
      'INVALID_ARGUMENT',
    ]);
  });

  it('disconnect() leaves the backend open unless closeBackend says otherwise', async () => {
    await new Keyv({ store: createKeyvStore(backend) }).disconnect();
    expect((await backend.ping()).isOk()).toBe(true);
    await new Keyv({ store: createKeyvStore(backend, { closeBackend: true }) }).disconnect();
    expect((await backend.ping()).unwrapErr().code).toBe('CLOSED');
  });

  describe('over a Redis that dies', () => {
    let server: RedisServer;
    beforeAll(async () => {
      server = await startRedisServer();
    });
    afterAll(() => server.stop());

    it("Keyv's calls answer at once as misses, and emit CONNECTION errors", async () => {
      const redis = createRedisBackend({ url: server.url, commandTimeout: 1000 });
      const keyv = new Keyv({ store: createKeyvStore(redis) });
      await keyv.set('k', 'v');
      expect(await keyv.get('k')).toBe('v');
      const errors: CacheError[] = [];
      keyv.on('error', (error: CacheError) => errors.push(error));

      await server.kill();
      const started = performance.now();
      expect(await keyv.get('k')).toBeUndefined();
      expect(await keyv.set('k', 'w')).toBe(false);
      expect(performance.now() - started).toBeLessThan(1000);
      expect(errors.map((error) => error.code)).toEqual(['CONNECTION', 'CONNECTION']);
      (await redis.close()).unwrap();
    });
  });
});
