import type { RedisTarget } from '../bench-redis.js';
import type { Entries } from '../generate-entries.js';
import type { Operation } from '../measure.js';
import { type Pipelining, storePlain } from './ioredis.js';
import type {
  RedisGetFactory,
  RedisGetManyFactory,
  RedisSetFactory,
  TimedClient,
} from './subject-contracts.js';

/*
 * Raw ioredis for the Redis call scenarios, each major by its npm alias (ioredis-5, ioredis-6), so these floors
 * do not move when @tiercache/backend-redis changes the ioredis it depends on. Only the major a subject names
 * is imported. Keys are written out in full beforehand (prefix included), so a timed call does nothing but
 * the command.
 */

export type IoredisMajor = 5 | 6;

/** What a subject sets; everything else stays at ioredis's defaults. */
export interface IoredisSetup {
  major: IoredisMajor;
  enableAutoPipelining?: boolean;
  /** Cork the socket until the end of the tick at each call, by hand, as @tiercache/backend-redis does. */
  corkPerTick?: boolean;
}

/** The part of an ioredis client these subjects use, the same in 5 and 6. */
interface IoredisClient extends Pipelining {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, millisecondsToken: 'PX', milliseconds: number): Promise<'OK'>;
  mget(keys: string[]): Promise<Array<string | null>>;
  readonly status: string;
  readonly stream: { cork(): void; uncork(): void };
  disconnect(): void;
}

async function connect(url: string, { major, enableAutoPipelining = false }: IoredisSetup) {
  const options = { enableAutoPipelining };
  const client: IoredisClient & { on(event: 'error', listener: () => void): unknown } =
    major === 5
      ? new (await import('ioredis-5')).Redis(url, options)
      : new (await import('ioredis-6')).Redis(url, options);
  client.on('error', () => {});
  return client;
}

function fullKeys(target: RedisTarget, keys: readonly string[]): string[] {
  return keys.map((key) => `${target.prefix}:${key}`);
}

/** What a timed call does before its command: nothing, or cork the socket if this tick has not yet. */
function beforeEachCall(client: IoredisClient, { corkPerTick = false }: IoredisSetup): () => void {
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

function closer(client: IoredisClient): () => Promise<void> {
  return async () => {
    client.disconnect();
  };
}

const isString = (value: string | null): boolean => typeof value === 'string';
const orUndefined = (value: string | null): string | undefined => value ?? undefined;

export function ioredisGet(setup: IoredisSetup): RedisGetFactory {
  return async (target, entries: Entries) => {
    const client = await connect(target.url, setup);
    await storePlain(client, target, entries);
    const keys = fullKeys(target, entries.keys);
    const { length } = keys;
    const before = beforeEachCall(client, setup);
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

export function ioredisSet(setup: IoredisSetup): RedisSetFactory {
  return async (target, entries, ttlSeconds) => {
    const client = await connect(target.url, setup);
    const keys = fullKeys(target, entries.keys);
    const { values } = entries;
    const { length } = keys;
    const ttlMs = ttlSeconds * 1000;
    const before = beforeEachCall(client, setup);
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

export function ioredisGetMany(setup: IoredisSetup): RedisGetManyFactory {
  return async (target, entries, batches) => {
    const client = await connect(target.url, setup);
    await storePlain(client, target, entries);
    const keyBatches = batches.map((batch) => fullKeys(target, batch));
    const { length } = keyBatches;
    const before = beforeEachCall(client, setup);
    const operation: Operation<Array<string | null>> = {
      call: (i) => {
        before();
        return client.mget(keyBatches[i % length] as string[]);
      },
      isGood: (values) => values.every(isString),
      text: (values) => values.map((value) => value ?? '∅').join('\n'),
    };
    return { operation, close: closer(client) } satisfies TimedClient;
  };
}

/**
 * The least a getOrSetMany does, on raw ioredis: MGET of the batch, whose last `missing` keys were never
 * stored, then one `SET … PX` per missing key, sent in one tick (corked when the setup says so), and the answer
 * once stored. No dedupe, no Map, no checks, no single flight: the reference for getOrSetMany's figure.
 */
export function ioredisGetManyThenStore(setup: IoredisSetup, missing: number): RedisGetManyFactory {
  return async (target, entries, batches) => {
    const client = await connect(target.url, setup);
    await storePlain(client, target, entries);
    const keyBatches = batches.map((batch) => fullKeys(target, batch));
    const valueByKey = new Map(fullKeys(target, entries.keys).map((key, i) => [key, entries.values[i]]));
    const before = beforeEachCall(client, setup);
    let call = 0;
    const operation: Operation<Array<string | null>> = {
      call: async (i) => {
        const batch = keyBatches[i % keyBatches.length] as string[];
        const fresh = `${target.prefix}:fresh-${++call}-`;
        const keys = batch.map((key, position) => (position < batch.length - missing ? key : fresh + key));
        before();
        const values = await client.mget(keys);
        const stores: Array<Promise<unknown>> = [];
        before();
        for (let k = batch.length - missing; k < batch.length; k++) {
          const value = valueByKey.get(batch[k] as string) as string;
          values[k] = value;
          stores.push(client.set(keys[k] as string, value, 'PX', 10_000));
        }
        await Promise.all(stores);
        return values;
      },
      isGood: (values) => values.every(isString),
      text: (values) => values.map((value) => value ?? '∅').join('\n'),
    };
    return { operation, close: closer(client) } satisfies TimedClient;
  };
}
