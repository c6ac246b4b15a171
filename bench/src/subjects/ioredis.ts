import { Redis } from 'ioredis';
import type { RedisTarget } from '../bench-redis.js';
import type { Entries } from '../generate-entries.js';
import type { CoherenceReaderFactory, CoherenceWriterFactory, OutageFactory } from './subject-contracts.js';

/*
 * Raw ioredis, as the bench depends on it, for the outage and coherence scenarios; the Redis call scenarios
 * measure each major by name, in ioredis-calls.ts.
 */

function connect(url: string): Redis {
  const client = new Redis(url);
  // An outage scenario expects connection errors; without a listener ioredis prints each one.
  client.on('error', () => {});
  return client;
}

/** What storePlain needs of a client: ioredis 5 and 6 both have it. */
export interface Pipelining {
  pipeline(): { set(key: string, value: string): unknown; exec(): Promise<unknown> };
}

/** Writes the entries as plain strings under the prefix, as @tiercache/backend-redis stores them. */
export async function storePlain(
  client: Pipelining,
  target: RedisTarget,
  { keys, values }: Entries,
): Promise<void> {
  const pipeline = client.pipeline();
  for (let i = 0; i < keys.length; i++) pipeline.set(`${target.prefix}:${keys[i]}`, values[i] as string);
  await pipeline.exec();
}

function closer(client: Redis): () => Promise<void> {
  return async () => {
    client.disconnect();
  };
}

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
