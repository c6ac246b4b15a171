import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/*
 * The Redis the benchmark talks to. The parent starts one redis-server with the harness for the whole run (on a
 * free port of 127.0.0.1) or, when REDIS_URL is set, uses that server; it hands the URL to every child in
 * REDIS_URL_ENV. Each child keeps its keys under a prefix of its own and deletes exactly those keys at the end,
 * so nothing else on a REDIS_URL server is touched. Scenarios that stop or kill a server (outage) start their
 * own instead, so the shared one is never paused.
 *
 * ioredis and the harness are imported when first needed, so a child that measures memory alone loads neither.
 */

/** Where a child finds the run's Redis. */
export const REDIS_URL_ENV = 'TIERCACHE_BENCH_REDIS_URL';

export interface SharedRedis {
  url: string;
  /** For the report header: where the server came from. */
  origin: string;
  /** Stops the server if this run started it; leaves a REDIS_URL server alone. */
  stop(): Promise<void>;
}

export async function provideSharedRedis(): Promise<SharedRedis> {
  const given = process.env.REDIS_URL;
  if (given) {
    return {
      url: given,
      origin: 'REDIS_URL (neither started nor stopped by the bench)',
      stop: async () => {},
    };
  }
  const { startRedisServer } = await import('@tiercache/redis-harness');
  const server = await startRedisServer();
  const version = (await server.cli('INFO', 'server')).match(/^redis_version:(\S+)/m)?.[1] ?? '?';
  return {
    url: server.url,
    origin: `redis-server ${version} started for this run on ${server.host}:${server.port}, stopped at the end`,
    stop: () => server.stop(),
  };
}

/** The run's Redis, in a child. */
export function benchRedisUrl(): string {
  const url = process.env[REDIS_URL_ENV];
  if (!url) throw new Error(`${REDIS_URL_ENV} is not set: scenarios that need Redis run through main.ts`);
  return url;
}

/** Where one child (and the workers it starts) keeps its keys: under `prefix`, which no other child shares. */
export interface RedisTarget {
  url: string;
  /** Letters, digits and dashes only, so it is also a literal SCAN pattern; every key starts with it. */
  prefix: string;
}

export function newTarget(url: string, scenario: string): RedisTarget {
  return { url, prefix: `tcbench-${scenario}-${process.pid}-${randomBytes(4).toString('hex')}` };
}

/**
 * A plain connection for setting up data, reading server figures and cleaning up, never for timed calls. Its
 * errors are kept quiet: a test that stops a server expects them.
 */
export async function adminClient(url: string): Promise<Redis> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: 10_000 });
  client.on('error', () => {});
  return client;
}

/** Deletes every key under `prefix` (SCAN and UNLINK, never FLUSHDB) and returns how many there were. */
export async function deletePrefix(client: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  // Bounded: SCAN visits each key a bounded number of times; the cap only guards against a server gone wrong.
  for (let page = 0; page < 100_000; page++) {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) deleted += await client.unlink(...keys);
    cursor = next;
    if (cursor === '0') break;
  }
  return deleted;
}

/** The server's count of commands processed so far (all clients): the difference over a span of time. */
export async function commandsProcessed(client: Redis): Promise<number> {
  const info = await client.info('stats');
  const match = info.match(/^total_commands_processed:(\d+)/m);
  if (!match) throw new Error('INFO stats has no total_commands_processed');
  return Number(match[1]);
}
