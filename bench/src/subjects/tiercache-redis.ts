import { createRedisBackend, type RedisBackendOptions } from '@tiercache/backend-redis';
import type { CacheBackend } from '@tiercache/core';
import { Redis } from 'ioredis';
import type { RedisTarget } from '../bench-redis.js';
import type { Operation } from '../measure.js';
import { MISSING } from '../scenarios/redis-getmany-100.js';
import { storePlain } from './ioredis.js';
import type {
  GetOrSetFactory,
  OutageClient,
  OutageFactory,
  RedisGetFactory,
  RedisGetManyFactory,
  RedisSetFactory,
  TimedClient,
} from './subject-contracts.js';

/*
 * @tiercache/backend-redis as a caller makes it: `createRedisBackend({ url, keyPrefix })`, default options
 * (auto-pipelining off, commandTimeout 500 ms) unless a subject says otherwise. Each call is checked the way a
 * caller would check it: one `isOk()` (and a value present, for reads).
 */

export function createBackend(target: RedisTarget, options: Partial<RedisBackendOptions> = {}): CacheBackend {
  return createRedisBackend({ url: target.url, keyPrefix: `${target.prefix}:`, ...options });
}

/**
 * The backend on a caller's ioredis 6 client (the `ioredis-6` alias, whatever ioredis the backend itself
 * depends on), made with the options the backend gives the clients it makes, so that only the major differs.
 */
async function createOnIoredis6(target: RedisTarget): Promise<CacheBackend> {
  const { Redis } = await import('ioredis-6');
  const client = new Redis(target.url, {
    commandTimeout: 500,
    connectTimeout: 1000,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    enableAutoPipelining: false,
    disconnectTimeout: 100,
  });
  return createRedisBackend({ client, closeClient: true, keyPrefix: `${target.prefix}:` });
}

function closer(backend: CacheBackend): () => Promise<void> {
  return async () => {
    await backend.close();
  };
}

/** Plain strings, as the backend itself writes them, through a connection of their own. */
async function seed(target: RedisTarget, entries: Parameters<RedisGetFactory>[1]): Promise<void> {
  const client = new Redis(target.url);
  try {
    await storePlain(client, target, entries);
  } finally {
    client.disconnect();
  }
}

type Answer<K extends 'get' | 'set' | 'getMany' | 'getOrSetMany'> = Awaited<ReturnType<CacheBackend[K]>>;

function getOn(create: (target: RedisTarget) => CacheBackend | Promise<CacheBackend>): RedisGetFactory {
  return async (target, entries) => {
    await seed(target, entries);
    return timedGet(await create(target), entries.keys);
  };
}

function timedGet(backend: CacheBackend, keys: readonly string[]): TimedClient {
  const { length } = keys;
  const operation: Operation<Answer<'get'>> = {
    call: (i) => backend.get(keys[i % length] as string),
    isGood: (result) => result.isOk() && result.value !== null,
    text: (result) => (result.isOk() ? (result.value ?? undefined) : undefined),
  };
  return { operation, close: closer(backend) };
}

export const tiercacheRedisGet = getOn((target) => createBackend(target));
export const tiercacheRedisGetOnIoredis6 = getOn(createOnIoredis6);

export const tiercacheRedisSet: RedisSetFactory = async (target, entries, ttlSeconds) => {
  const backend = createBackend(target);
  const { keys, values } = entries;
  const { length } = keys;
  const operation: Operation<Answer<'set'>> = {
    call: (i) => backend.set(keys[i % length] as string, values[i % length] as string, ttlSeconds),
    isGood: (result) => result.isOk(),
    text: (result) => (result.isOk() ? 'OK' : result.error.message),
  };
  return { operation, close: closer(backend) } satisfies TimedClient;
};

/**
 * getOrSetMany of each batch with its last ten keys replaced by keys never seen before, each call its own: the
 * loader (called once per call, checked) answers them the values the batch's own keys hold, so every call
 * answers the same text as getMany of the batch.
 */
export const tiercacheRedisGetOrSetMany: RedisGetManyFactory = async (target, entries, batches) => {
  await seed(target, entries);
  const backend = createBackend(target);
  const valueByKey = new Map(entries.keys.map((key, i) => [key, entries.values[i] as string]));
  let call = 0;
  const operation: Operation<Answer<'getOrSetMany'>> = {
    call: (i) => {
      const batch = batches[i % batches.length] as readonly string[];
      const fresh = `fresh-${++call}-`;
      const stands = new Map<string, string>();
      const keys = batch.map((key, position) => {
        if (position < batch.length - MISSING) return key;
        stands.set(fresh + key, valueByKey.get(key) as string);
        return fresh + key;
      });
      let loads = 0;
      return backend
        .getOrSetMany(
          keys,
          (missing) => {
            loads++;
            return new Map(missing.map((key) => [key, stands.get(key) as string]));
          },
          { ttl: 10 },
        )
        .then((result) => {
          if (loads !== 1) throw new Error(`getOrSetMany called its loader ${loads} times, not once`);
          return result;
        });
    },
    isGood: (result) => {
      if (result.isErr()) return false;
      for (const value of result.value.values()) if (value === null) return false;
      return true;
    },
    text: (result) =>
      result.isOk() ? [...result.value.values()].map((value) => value ?? '∅').join('\n') : undefined,
  };
  return { operation, close: closer(backend) };
};

function getManyOn(
  create: (target: RedisTarget) => CacheBackend | Promise<CacheBackend>,
): RedisGetManyFactory {
  return async (target, entries, batches) => {
    await seed(target, entries);
    return timedGetMany(await create(target), batches);
  };
}

function timedGetMany(backend: CacheBackend, batches: readonly (readonly string[])[]): TimedClient {
  const { length } = batches;
  const operation: Operation<Answer<'getMany'>> = {
    call: (i) => backend.getMany(batches[i % length] as readonly string[]),
    isGood: (result) => {
      if (result.isErr()) return false;
      for (const value of result.value.values()) if (value === null) return false;
      return true;
    },
    text: (result) =>
      result.isOk() ? [...result.value.values()].map((value) => value ?? '∅').join('\n') : undefined,
  };
  return { operation, close: closer(backend) };
}

export const tiercacheRedisGetMany = getManyOn((target) => createBackend(target));
export const tiercacheRedisGetManyOnIoredis6 = getManyOn(createOnIoredis6);

/** An outage client over any tiercache backend: `Ok(null)` is a miss, `Err` an error with its code. */
export function tiercacheOutageClient(backend: CacheBackend): OutageClient {
  return {
    async works() {
      const written = await backend.set('ready', 'yes');
      const read = await backend.get('ready');
      return written.isOk() && read.isOk() && read.value === 'yes';
    },
    async get(key) {
      const result = await backend.get(key);
      if (result.isErr()) return { answer: 'error', detail: result.error.code };
      return { answer: result.value === null ? 'miss' : 'value' };
    },
    close: closer(backend),
  };
}

export const tiercacheRedisOutage: OutageFactory = async (target) =>
  tiercacheOutageClient(createBackend(target));

export const tiercacheRedisOutageFastTimeout: OutageFactory = async (target) =>
  tiercacheOutageClient(createBackend(target, { commandTimeout: 50 }));

/** getOrSet on any tiercache backend, with a TTL of a minute (and, when asked, its lock across processes). */
export function tiercacheGetOrSet(backend: CacheBackend, lock = false) {
  const options = lock ? { ttl: 60, lock: true } : { ttl: 60 };
  return {
    async getOrSet(key: string, loader: () => Promise<string>) {
      const result = await backend.getOrSet(key, loader, options);
      return result.isOk() ? result.value : undefined;
    },
    close: closer(backend),
  };
}

export const tiercacheRedisGetOrSet: GetOrSetFactory = async (target) =>
  tiercacheGetOrSet(createBackend(target));

/** With `lock: true`; the change feed, which wakes the waiters, is armed before the first call. */
export const tiercacheRedisLockedGetOrSet: GetOrSetFactory = async (target) => {
  const backend = createBackend(target);
  const stop = backend.changes?.subscribe(() => {});
  const deadline = Date.now() + 5_000;
  while (!backend.changes?.armed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  stop?.();
  return tiercacheGetOrSet(backend, true);
};
