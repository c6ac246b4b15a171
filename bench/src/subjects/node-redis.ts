import type { RedisTarget } from '../bench-redis.js';
import type { Operation } from '../measure.js';
import type {
  RedisGetFactory,
  RedisGetManyFactory,
  RedisSetFactory,
  TimedClient,
} from './subject-contracts.js';

/*
 * Raw node-redis (@redis/client), each major by its npm alias (redis-client-5, redis-client-6), as it comes:
 * `createClient({ url })`. It needs no pipelining option: it queues the commands made until the next
 * setImmediate and writes them to the socket at once, corked (one writev), by default. Only the major a
 * subject names is imported.
 */

export type NodeRedisMajor = 5 | 6;

type Reply = string | null;

/** The part of a node-redis client these subjects use, the same in 5 and 6. */
interface NodeRedisClient {
  get(key: string): Promise<Reply>;
  set(key: string, value: string, options?: SetOptions): Promise<Reply>;
  mGet(keys: string[]): Promise<Reply[]>;
  destroy(): void;
}

interface SetOptions {
  expiration: { type: 'PX'; value: number };
}

async function connect(url: string, major: NodeRedisMajor): Promise<NodeRedisClient> {
  const client =
    major === 5
      ? (await import('redis-client-5')).createClient({ url })
      : (await import('redis-client-6')).createClient({ url });
  client.on('error', () => {});
  await client.connect();
  // Their command types are generic over modules and RESP versions; these calls answer plain strings in both.
  return client as unknown as NodeRedisClient;
}

function fullKeys(target: RedisTarget, keys: readonly string[]): string[] {
  return keys.map((key) => `${target.prefix}:${key}`);
}

/** Plain strings under the prefix, as @tiercache/backend-redis stores them. */
async function storePlain(client: NodeRedisClient, keys: readonly string[], values: readonly string[]) {
  await Promise.all(keys.map((key, i) => client.set(key, values[i] as string)));
}

function closer(client: NodeRedisClient): () => Promise<void> {
  return async () => {
    client.destroy();
  };
}

const isString = (value: Reply): boolean => typeof value === 'string';

export function nodeRedisGet(major: NodeRedisMajor): RedisGetFactory {
  return async (target, entries) => {
    const client = await connect(target.url, major);
    const keys = fullKeys(target, entries.keys);
    await storePlain(client, keys, entries.values);
    const { length } = keys;
    const operation: Operation<Reply> = {
      call: (i) => client.get(keys[i % length] as string),
      isGood: isString,
      text: (value) => value ?? undefined,
    };
    return { operation, close: closer(client) } satisfies TimedClient;
  };
}

export function nodeRedisSet(major: NodeRedisMajor): RedisSetFactory {
  return async (target, entries, ttlSeconds) => {
    const client = await connect(target.url, major);
    const keys = fullKeys(target, entries.keys);
    const { values } = entries;
    const { length } = keys;
    // One options object for every call: the TTL is the same.
    const options: SetOptions = { expiration: { type: 'PX', value: ttlSeconds * 1000 } };
    const operation: Operation<Reply> = {
      call: (i) => client.set(keys[i % length] as string, values[i % length] as string, options),
      isGood: (reply) => reply === 'OK',
      text: (reply) => reply ?? undefined,
    };
    return { operation, close: closer(client) } satisfies TimedClient;
  };
}

export function nodeRedisGetMany(major: NodeRedisMajor): RedisGetManyFactory {
  return async (target, entries, batches) => {
    const client = await connect(target.url, major);
    await storePlain(client, fullKeys(target, entries.keys), entries.values);
    const keyBatches = batches.map((batch) => fullKeys(target, batch));
    const { length } = keyBatches;
    const operation: Operation<Reply[]> = {
      call: (i) => client.mGet(keyBatches[i % length] as string[]),
      isGood: (values) => values.every(isString),
      text: (values) => values.map((value) => value ?? '∅').join('\n'),
    };
    return { operation, close: closer(client) } satisfies TimedClient;
  };
}
