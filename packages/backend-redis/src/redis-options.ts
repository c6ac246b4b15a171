import type { GetOrSetDefaults } from '@tiercache/core';
import { Cluster, type ClusterNode, type ClusterOptions, type Redis, type RedisOptions } from 'ioredis';
import { type RedisChangeFeedOptions, resolveChangeFeedOptions } from './change-feed-options.js';
import { isCluster } from './cluster-slots.js';
import { disconnectTimeoutFor } from './connection-end.js';
import { OwnRedis, reconnectOnReadOnly } from './direct-command.js';

export interface RedisReconnectOptions {
  /**
   * Delay before the first reconnect attempt, doubled on each failure. Each delay is jittered (a random point
   * in its upper half, never under this minimum). The change feed's retries use the same delays.
   * @default 50
   */
  minDelayMs?: number;
  /** Longest delay between attempts; attempts never stop. @default 2000 */
  maxDelayMs?: number;
}

/**
 * How the Redis driver reaches Redis — exactly one of `url`, `redis`, `cluster` or `client` — and how it
 * behaves. {@link RedisBackendOptions} adds what the front takes (`defaultTtl`).
 *
 * @example createRedisDriver({ url: 'redis://localhost:6379/0', keyPrefix: 'app:' })
 */
export interface RedisDriverOptions {
  /** `redis://[[user]:password@]host[:port][/db]`, or `rediss://` for TLS. */
  url?: string;
  /** ioredis options for one server, or for Sentinel (with `sentinels` and `name`). */
  redis?: RedisOptions;
  /** A Redis Cluster: some of its nodes, and ioredis cluster options. */
  cluster?: { nodes: ClusterNode[]; options?: ClusterOptions };
  /**
   * An ioredis client you created: a `Redis` (standalone or Sentinel) or a `Cluster`, of ioredis 5 (5.9 or later,
   * the major the backend is built on) or ioredis 6. Say who closes it with `closeClient`. Its own options
   * stand: the backend's `commandTimeout` bounds each call with a timer of its own when the client has none.
   */
  client?: Redis | Cluster | IoredisClientLike;
  /**
   * Required with `client`: `true` lets `close()` quit your client, `false` leaves it open for you.
   * Clients the backend creates itself are always closed by `close()`.
   */
  closeClient?: boolean;
  /** Prepended to every key; `flush` and `deletePattern` stay inside it. @default '' */
  keyPrefix?: string;
  /**
   * Longest a call waits for Redis, in milliseconds, before it answers `Err` `TIMEOUT`. Also bounds the wait
   * for the first connection.
   * @default 500
   */
  commandTimeout?: number;
  /** Reconnect delays after a connection is lost: for clients the backend creates, and the change feed's own. */
  reconnect?: RedisReconnectOptions;
  /**
   * ioredis auto-pipelining, for clients the backend creates. Off by default: the backend already sends the
   * commands that calls start in one tick in one socket write (one per 16), without auto-pipelining's wait for
   * `setImmediate` and its pipeline per batch (slower in our benchmark, both one call at a time and 64 in flight).
   * @default false
   */
  autoPipelining?: boolean;
  /**
   * How `changes`, the feed of changes made by others, listens. It does nothing until its first `subscribe()`.
   * @default { tracking: true, heartbeatMs: 1000 }
   */
  changeFeed?: RedisChangeFeedOptions;
}

/**
 * An ioredis `Redis` or `Cluster` that is not of the backend's own copy of ioredis 5, as the `client` option
 * takes it: an ioredis 6 client, or an ioredis 5 client from another install. ioredis's classes have private
 * members, so such a client is not assignable to this package's `Redis | Cluster`; this names a few members that
 * every ioredis 5 and 6 client has, enough to keep other objects out. The backend then uses it as it uses its
 * own ioredis 5 client, calling only what the two majors have alike.
 */
export interface IoredisClientLike {
  /** `true` on a `Cluster`, `false` on a `Redis`. */
  readonly isCluster: boolean;
  readonly status: string;
  readonly options: object;
  get(key: string): Promise<string | null>;
  mget(keys: string[]): Promise<Array<string | null>>;
  evalsha(sha: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  duplicate(): unknown;
  quit(): Promise<unknown>;
  disconnect(): void;
}

/**
 * How to reach Redis — exactly one of `url`, `redis`, `cluster` or `client` — and how to behave.
 *
 * @example createRedisBackend({ url: 'redis://localhost:6379/0', keyPrefix: 'app:' })
 * @example createRedisBackend({ redis: { sentinels: [{ host: 's1', port: 26379 }], name: 'mymaster' } })
 * @example createRedisBackend({ cluster: { nodes: [{ host: 'n1', port: 7000 }] } })
 * @example createRedisBackend({ client: existingIoredis, closeClient: false })
 */
export interface RedisBackendOptions extends RedisDriverOptions {
  /** Seconds a key lives when `set` is called without a TTL. @default no expiry */
  defaultTtl?: number;
  /** getOrSet's options for every call that gives none (see `GetOrSetOptions`). @default none */
  getOrSet?: GetOrSetDefaults;
}

export type Client = Redis | Cluster;

const DEFAULT_COMMAND_TIMEOUT_MS = 500;

/** The driver's options, checked (throwing with how to fix them), with the client made or taken. */
export interface DriverSetup {
  client: Client;
  keyPrefix: string;
  timeoutMs: number;
  /** Whether `close()` closes the client: always one we made, a caller's when `closeClient` says so. */
  closeClient: boolean;
  /** Our own timer per call, for a caller's client that has no commandTimeout of its own. */
  needsOwnTimeout: boolean;
  retryDelay: (attempt: number) => number;
  changeFeed: { tracking: boolean; heartbeatMs: number };
}

/** Checks the options, throwing with how to fix them, then makes the client (or takes the caller's). */
export function setUp(options: RedisDriverOptions): DriverSetup {
  const { keyPrefix = '', commandTimeout = DEFAULT_COMMAND_TIMEOUT_MS } = options;
  if (typeof keyPrefix !== 'string') {
    throw new TypeError(`[tiercache:redis] keyPrefix must be a string, got ${typeof keyPrefix}`);
  }
  if (!Number.isSafeInteger(commandTimeout) || commandTimeout < 1) {
    throw new RangeError(
      `[tiercache:redis] commandTimeout must be a positive whole number of milliseconds, got ${String(commandTimeout)}`,
    );
  }
  const changeFeed = resolveChangeFeedOptions(options.changeFeed);
  const retryDelay = backoff(options.reconnect);
  // Last: nothing is connected unless every option is fine.
  const { client, owned } = connect(options, commandTimeout, retryDelay);
  return {
    client,
    keyPrefix,
    timeoutMs: commandTimeout,
    closeClient: owned || options.closeClient === true,
    needsOwnTimeout: !owned && typeof commandTimeoutOf(client) !== 'number',
    retryDelay,
    changeFeed,
  };
}

function commandTimeoutOf(client: Client): number | undefined {
  return isCluster(client) ? client.options.redisOptions?.commandTimeout : client.options.commandTimeout;
}

/**
 * The delay before reconnect attempt number `attempt` (from 1): doubling from the minimum to the maximum, with
 * equal jitter (a random point in the upper half of that delay, never under the minimum), so that the clients
 * of many processes that lost the same server do not all come back at the same instant.
 */
function backoff(reconnect: RedisReconnectOptions | undefined): (attempt: number) => number {
  const { minDelayMs = 50, maxDelayMs = 2000 } = reconnect ?? {};
  if (!(minDelayMs > 0 && maxDelayMs >= minDelayMs)) {
    throw new RangeError(
      `[tiercache:redis] reconnect delays must satisfy 0 < minDelayMs <= maxDelayMs, got ${minDelayMs} and ${maxDelayMs}`,
    );
  }
  return (attempt) => {
    const delay = Math.min(minDelayMs * 2 ** Math.min(attempt - 1, 16), maxDelayMs);
    return Math.max(minDelayMs, Math.round(delay / 2 + Math.random() * (delay / 2)));
  };
}

/** Makes the ioredis client from the options, or takes the caller's; says whether we created it. */
function connect(
  options: RedisDriverOptions,
  commandTimeout: number,
  retryDelay: (attempt: number) => number,
): { client: Client; owned: boolean } {
  const sources = (['url', 'redis', 'cluster', 'client'] as const).filter(
    (name) => options[name] !== undefined,
  );
  if (sources.length !== 1) {
    throw new TypeError(
      `[tiercache:redis] give exactly one of url, redis, cluster or client (got ${sources.length === 0 ? 'none' : sources.join(', ')})`,
    );
  }
  if (options.client) {
    if (typeof options.closeClient !== 'boolean') {
      throw new TypeError(
        '[tiercache:redis] with `client`, say who closes it: closeClient: true lets close() quit it, false leaves it to you',
      );
    }
    return { client: ioredisClient(options.client), owned: false };
  }
  const shared: RedisOptions = {
    commandTimeout,
    connectTimeout: Math.max(commandTimeout, 1000),
    // A call made while the connection is down fails at once instead of waiting in ioredis's queue.
    enableOfflineQueue: false,
    // Never replay a command after a reconnect: an INCRBY sent twice would count twice.
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    retryStrategy: retryDelay,
    enableAutoPipelining: options.autoPipelining ?? false,
    disconnectTimeout: disconnectTimeoutFor(commandTimeout),
  };
  if (options.url !== undefined) {
    if (!/^rediss?:\/\//.test(options.url)) {
      throw new TypeError(
        `[tiercache:redis] url must start with redis:// or rediss://, got "${options.url}"`,
      );
    }
    return { client: new OwnRedis(options.url, forIoredis(shared)), owned: true };
  }
  if (options.redis) {
    // Through Sentinel, follow a failover as soon as the Sentinels announce it (failoverDetector), and reconnect
    // when the old master, turned replica, refuses a write. With one server there is nothing better to
    // reconnect to, so there READONLY is just an error.
    const viaSentinel = options.redis.sentinels !== undefined;
    const failover: RedisOptions = viaSentinel
      ? { failoverDetector: true, reconnectOnError: reconnectOnReadOnly }
      : {};
    return { client: new OwnRedis(forIoredis({ ...shared, ...failover, ...options.redis })), owned: true };
  }
  const cluster = options.cluster;
  if (!cluster || !Array.isArray(cluster.nodes) || cluster.nodes.length === 0) {
    throw new TypeError('[tiercache:redis] cluster.nodes must list at least one node, e.g. [{ host, port }]');
  }
  const { redisOptions, ...clusterOptions } = cluster.options ?? {};
  return {
    client: new Cluster(cluster.nodes, {
      enableOfflineQueue: false,
      enableAutoPipelining: options.autoPipelining ?? false,
      clusterRetryStrategy: retryDelay,
      ...clusterOptions,
      redisOptions: forIoredis({ ...shared, ...redisOptions }),
    }),
    owned: true,
  };
}

/**
 * The caller's client, checked to be an ioredis one. One of ioredis 6, or of another copy of ioredis 5, is typed
 * from here on as this package's ioredis 5 client: the backend calls only what both majors have alike (the
 * `ioredis-6` test project and tsconfig.ioredis-6.json check it on ioredis 6).
 */
function ioredisClient(client: Redis | Cluster | IoredisClientLike): Client {
  const { isCluster, duplicate } = client as Partial<IoredisClientLike>;
  if (typeof isCluster !== 'boolean' || typeof duplicate !== 'function') {
    throw new TypeError('[tiercache:redis] client must be an ioredis Redis or Cluster (ioredis 5.9+ or 6)');
  }
  return client as Client;
}

type IoredisConstructorOptions = Omit<RedisOptions, 'replyMapping'>;

/**
 * ioredis 6 declares its options with `| undefined` that its own constructor rejects under
 * exactOptionalPropertyTypes (checked by tsconfig.ioredis-6.json); the objects are the same.
 */
function forIoredis(options: RedisOptions): IoredisConstructorOptions {
  return options as IoredisConstructorOptions;
}
