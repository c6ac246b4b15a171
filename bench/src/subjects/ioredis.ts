import { Redis } from 'ioredis';
import type { RedisTarget } from '../bench-redis.js';
import type { Entries } from '../generate-entries.js';
import type { Operation } from '../measure.js';
import type {
  CoherenceReaderFactory,
  CoherenceWriterFactory,
  OutageFactory,
  RedisGetFactory,
  RedisGetManyFactory,
  RedisSetFactory,
  TimedClient,
} from './subject-contracts.js';

/*
 * Raw ioredis, the client @tiercache/backend-redis is built on: the floor of every Redis figure. Keys are
 * written out in full beforehand (prefix included), so a timed call does nothing but the command.
 */

/** What the subjects change; everything else stays at ioredis's defaults. */
interface ClientOptions {
  enableAutoPipelining?: boolean;
  /** Cork the socket until the end of the tick at each call, by hand, as @tiercache/backend-redis does. */
  corkPerTick?: boolean;
}

function connect(url: string, { enableAutoPipelining = false }: ClientOptions = {}): Redis {
  const client = new Redis(url, { enableAutoPipelining });
  // An outage scenario expects connection errors; without a listener ioredis prints each one.
  client.on('error', () => {});
  return client;
}

function fullKeys(target: RedisTarget, keys: readonly string[]): string[] {
  return keys.map((key) => `${target.prefix}:${key}`);
}

/** Writes the entries as plain strings under the prefix, as @tiercache/backend-redis stores them. */
export async function storePlain(
  client: Redis,
  target: RedisTarget,
  { keys, values }: Entries,
): Promise<void> {
  const pipeline = client.pipeline();
  for (let i = 0; i < keys.length; i++) pipeline.set(`${target.prefix}:${keys[i]}`, values[i] as string);
  await pipeline.exec();
}

/** What a timed call does before its command: nothing, or cork the socket if this tick has not yet. */
function beforeEachCall(client: Redis, { corkPerTick = false }: ClientOptions): () => void {
  if (!corkPerTick) return () => {};
  let corked = false;
  const uncork = () => {
    corked = false;
    client.stream.uncork();
  };
  return () => {
    // Before the connection is ready ioredis queues commands itself, and there may be no socket yet.
    if (corked || client.status !== 'ready') return;
    corked = true;
    client.stream.cork();
    process.nextTick(uncork);
  };
}

function closer(client: Redis): () => Promise<void> {
  return async () => {
    client.disconnect();
  };
}

const isString = (value: string | null): boolean => typeof value === 'string';
const orUndefined = (value: string | null): string | undefined => value ?? undefined;

function getFactory(options: ClientOptions): RedisGetFactory {
  return async (target, entries) => {
    const client = connect(target.url, options);
    await storePlain(client, target, entries);
    const keys = fullKeys(target, entries.keys);
    const { length } = keys;
    const before = beforeEachCall(client, options);
    const operation: Operation<string | null> = {
      call: (i) => {
        before();
        return client.get(keys[i % length] as string);
      },
      isGood: isString,
      text: orUndefined,
    };
    return { operation, close: closer(client) } satisfies TimedClient;
  };
}

function setFactory(options: ClientOptions): RedisSetFactory {
  return async (target, entries, ttlSeconds) => {
    const client = connect(target.url, options);
    const keys = fullKeys(target, entries.keys);
    const { values } = entries;
    const { length } = keys;
    const ttlMs = ttlSeconds * 1000;
    const before = beforeEachCall(client, options);
    const operation: Operation<string> = {
      call: (i) => {
        before();
        return client.set(keys[i % length] as string, values[i % length] as string, 'PX', ttlMs);
      },
      isGood: (reply) => reply === 'OK',
      text: (reply) => reply,
    };
    return { operation, close: closer(client) } satisfies TimedClient;
  };
}

function getManyFactory(options: ClientOptions): RedisGetManyFactory {
  return async (target, entries, batches) => {
    const client = connect(target.url, options);
    await storePlain(client, target, entries);
    const keyBatches = batches.map((batch) => fullKeys(target, batch));
    const { length } = keyBatches;
    const operation: Operation<Array<string | null>> = {
      call: (i) => client.mget(keyBatches[i % length] as string[]),
      isGood: (values) => values.every(isString),
      text: (values) => values.map((value) => value ?? '∅').join('\n'),
    };
    return { operation, close: closer(client) } satisfies TimedClient;
  };
}

const PLAIN: ClientOptions = {};
const AUTO_PIPELINED: ClientOptions = { enableAutoPipelining: true };
const CORKED: ClientOptions = { corkPerTick: true };

export const ioredisGet = getFactory(PLAIN);
export const ioredisGetAutoPipelined = getFactory(AUTO_PIPELINED);
export const ioredisGetCorked = getFactory(CORKED);
export const ioredisSet = setFactory(PLAIN);
export const ioredisSetAutoPipelined = setFactory(AUTO_PIPELINED);
export const ioredisSetCorked = setFactory(CORKED);
export const ioredisGetMany = getManyFactory(PLAIN);
export const ioredisGetManyAutoPipelined = getManyFactory(AUTO_PIPELINED);

/** `new Redis(url)` with ioredis's defaults: no command timeout, an offline queue, 20 retries per command. */
export const ioredisOutage: OutageFactory = async (target) => {
  const client = connect(target.url);
  const key = (name: string) => `${target.prefix}:${name}`;
  return {
    async works() {
      try {
        await client.set(key('ready'), 'yes');
        return (await client.get(key('ready'))) === 'yes';
      } catch {
        return false;
      }
    },
    async get(name) {
      try {
        return { answer: (await client.get(key(name))) === null ? 'miss' : 'value' };
      } catch (error) {
        return { answer: 'error', detail: (error as Error).message };
      }
    },
    close: closer(client),
  };
};

/** The floor of `coherence`: B has no L1 and sends GET to Redis on every poll. */
export const ioredisCoherenceReader: CoherenceReaderFactory = async (target) => {
  const client = connect(target.url);
  await client.ping();
  return {
    read: async (name) => (await client.get(`${target.prefix}:${name}`)) ?? undefined,
    holds: () => true,
    listening: async () => true,
    close: closer(client),
  };
};

/** A write from outside any cache library: a plain `SET` of the key as tiercache stores it. */
export const ioredisCoherenceWriter: CoherenceWriterFactory = async (target) => {
  const client = connect(target.url);
  await client.ping();
  return {
    async write(name, value) {
      await client.set(`${target.prefix}:${name}`, value);
    },
    close: closer(client),
  };
};

/**
 * A write from outside BentoCache, in the format BentoCache stores (JSON of value, logical expiry and creation
 * time), so that B could read it if it knew to look.
 */
export const ioredisBentocacheFormatWriter: CoherenceWriterFactory = async (target) => {
  const client = connect(target.url);
  await client.ping();
  return {
    async write(name, value) {
      const now = Date.now();
      const entry = JSON.stringify({ value, logicalExpiration: now + 30 * 60_000, createdAt: now });
      await client.set(`${target.prefix}:${name}`, entry);
    },
    close: closer(client),
  };
};
