import { randomUUID } from 'node:crypto';
import {
  type Awaitable,
  type CacheDriver,
  type CacheError,
  type ChangeFeed,
  type CompanionRole,
  companionKey,
  type DriverError,
  type DriverStats,
  decodeGraceCopy,
  type EntryReply,
  encodeGraceCopy,
  escapeKeyPattern,
  type GraceCopy,
  type KeyCount,
  type LoadedEntry,
  type LockGrant,
  type LockRefusal,
  toCacheError,
  toKeyCount,
  watchKey,
  withTimeout,
} from '@tiercache/core';
import type { Cluster } from 'ioredis';
import { Err, Ok, type Result } from 'ts-results-es';
import { boundedIncrement } from './bounded-increment.js';
import { RedisChangeFeed } from './change-feed.js';
import { ANNOUNCE } from './change-message.js';
import { isCluster, masters } from './cluster-slots.js';
import { endConnection } from './connection-end.js';
import { countMatching, deleteMatching, type ServerFigures, serverFigures } from './keyspace.js';
import { mgetBySlot, readEntries, setPairs } from './multi-key.js';
import { classify as classifyRedisError, NAME } from './redis-errors.js';
import { type Client, type RedisDriverOptions, setUp } from './redis-options.js';
import { LOCK, runScript, STORE_LOADED, UNLOCK } from './scripts.js';
import { Transport } from './transport.js';

/** A fencing number lives this many lock lives: long enough to outlive any holder that might write late. */
const FENCE_LIVES = 10;

/**
 * The Redis driver: each primitive is one exchange with Redis (one per hash slot, or per master, in a
 * Cluster), sent through the {@link Transport}. Arguments arrive checked by the front (`createCache`); keys
 * arrive without the prefix, which is added here.
 */
class RedisDriver implements CacheDriver<false> {
  readonly name = NAME;
  readonly local = false;
  readonly keyPrefix: string;
  readonly changes: RedisChangeFeed;
  /** Redis holds nothing in this process. */
  readonly peek = null;
  readonly #client: Client;
  readonly #io: Transport;
  readonly #isCluster: boolean;
  readonly #closeClient: boolean;
  readonly #timeoutMs: number;

  constructor(options: RedisDriverOptions) {
    const setup = setUp(options);
    const { client, keyPrefix, timeoutMs, closeClient } = setup;
    this.keyPrefix = keyPrefix;
    this.#client = client;
    this.#isCluster = isCluster(client);
    this.#closeClient = closeClient;
    this.#timeoutMs = timeoutMs;
    this.#io = new Transport(client, { timeoutMs, needsOwnTimeout: setup.needsOwnTimeout, keyPrefix });
    this.changes = new RedisChangeFeed({
      client,
      keyPrefix,
      ...setup.changeFeed,
      timeoutMs,
      closesClient: closeClient,
      retryDelay: setup.retryDelay,
      send: (exchange) => this.#announce(exchange),
    });
  }

  get(key: string): Promise<string | null> {
    return this.#io.sendCommand('get', [key], 1);
  }

  getMany(keys: readonly string[]): Awaitable<Array<string | null>> {
    if (keys.length === 0) return [];
    if (!this.#isCluster) return this.#io.sendCommand('mget', keys, keys.length);
    const fullKeys = keys.map((key) => this.keyPrefix + key);
    return this.#io.send(() => mgetBySlot(this.#client as Cluster, fullKeys));
  }

  getEntries(keys: readonly string[]): Awaitable<EntryReply[]> {
    if (keys.length === 0) return [];
    return this.#io.send(() => readEntries(this.#client, this.keyPrefix, keys));
  }

  /** Resolves to SET's 'OK', which the front drops: resolving to nothing would cost a promise step. */
  set(key: string, value: string, ttlMs: number | undefined): Promise<unknown> {
    return this.#io.sendCommand('set', withTtl([key, value], ttlMs), 1);
  }

  setMany(entries: ReadonlyArray<readonly [string, string]>, ttlMs: number | undefined): Promise<void> {
    return this.#io.send(() => setPairs(this.#client, this.keyPrefix, entries, ttlMs));
  }

  delete(key: string): Promise<boolean> {
    const fullKey = this.keyPrefix + key;
    return this.#io.send(() => this.#client.unlink(fullKey)).then(isOne);
  }

  exists(key: string): Promise<boolean> {
    const fullKey = this.keyPrefix + key;
    return this.#io.send(() => this.#client.exists(fullKey)).then(isOne);
  }

  expire(key: string, ttlMs: number): Promise<boolean> {
    const fullKey = this.keyPrefix + key;
    return this.#io.send(() => this.#client.pexpire(fullKey, ttlMs)).then(isOne);
  }

  ttl(key: string): Promise<number | null> {
    const fullKey = this.keyPrefix + key;
    return this.#io.send(() => this.#client.pttl(fullKey)).then(remainingMs);
  }

  increment(key: string, delta: number): Promise<number> {
    const fullKey = this.keyPrefix + key;
    return this.#io.send(() => boundedIncrement(this.#client, fullKey, delta));
  }

  deletePattern(pattern: string): Promise<number> {
    const match = escapeKeyPattern(this.keyPrefix) + pattern;
    return this.#io.send(() => deleteMatching(this.#client, match));
  }

  flush(): Promise<unknown> {
    const match = `${escapeKeyPattern(this.keyPrefix)}*`;
    return this.#io.send(() => deleteMatching(this.#client, match));
  }

  ping(): Promise<void> {
    const client = this.#client;
    return this.#io.send(async () => {
      if (isCluster(client)) await Promise.all(masters(client).map((node) => node.ping()));
      else await client.ping();
    });
  }

  /**
   * Without a fence, plain SETs (the value, and its grace copy when there is one): this connection's own writes
   * are then not reported back to its change feed (tracking's NOLOOP), so a tiered L1 keeps the copy it just
   * stored. With a fence, one script per entry checks the fence and writes both atomically; Redis reports a
   * script's writes to the writer's own feed too, so a tiered L1 reads the value back once after a locked load.
   */
  storeLoaded(entries: readonly LoadedEntry[], fence: LockGrant | null): Promise<boolean> {
    const storedAt = Date.now();
    if (fence !== null) {
      return this.#io.send(async () => {
        const replies = await Promise.all(entries.map((entry) => this.#storeFenced(entry, fence, storedAt)));
        return replies.every((reply) => Number(reply) === 1);
      });
    }
    // One SET per key (and per grace copy), all sent in this tick: one socket write for the whole batch.
    const writes: Array<Promise<unknown>> = [];
    for (const { key, value, ttlMs, graceMs } of entries) {
      writes.push(this.#io.sendCommand('set', withTtl([key, value], ttlMs), 1));
      if (graceMs > 0) {
        const graceTtl = ttlMs === undefined ? undefined : ttlMs + graceMs;
        // The companion's name after the prefix, which the transport adds as it adds it to the value's key.
        const graceKey = this.#companion(key, 'grace').slice(this.keyPrefix.length);
        const grace = [graceKey, encodeGraceCopy(value, storedAt)];
        writes.push(this.#io.sendCommand('set', withTtl(grace, graceTtl), 1));
      }
    }
    return Promise.all(writes).then(stored);
  }

  /** One entry written by the STORE_LOADED script, which refuses a fence older than the newest it has seen. */
  #storeFenced(entry: LoadedEntry, fence: LockGrant, storedAt: number): Promise<unknown> {
    const { key, value, ttlMs, graceMs } = entry;
    const keys = [this.keyPrefix + key, this.#companion(key, 'grace'), this.#companion(key, 'fence')];
    const grace = graceMs > 0 ? encodeGraceCopy(value, storedAt) : undefined;
    const graceTtl = ttlMs === undefined ? undefined : ttlMs + graceMs;
    const args = [
      String(fence.fence),
      value,
      ttlMs ?? '',
      grace ?? '',
      grace === undefined ? '' : (graceTtl ?? ''),
    ];
    return runScript(this.#client, STORE_LOADED, keys, args);
  }

  readGrace(keys: readonly string[]): Awaitable<Array<GraceCopy | null>> {
    if (keys.length === 0) return [];
    const names = keys.map((key) => this.#companion(key, 'grace'));
    const client = this.#client;
    return this.#io
      .send(() => (this.#isCluster ? mgetBySlot(client as Cluster, names) : client.mget(names)))
      .then((texts) => texts.map(decodeGraceCopy));
  }

  lock(key: string, ttlMs: number): Promise<LockGrant | LockRefusal> {
    const token = randomUUID();
    const keys = [this.#companion(key, 'lock'), this.#companion(key, 'fence'), this.keyPrefix + key];
    return this.#io
      .send(() => runScript(this.#client, LOCK, keys, [token, ttlMs, ttlMs * FENCE_LIVES]))
      .then((reply) => {
        const [granted, figure] = reply as [number, number];
        return granted === 1
          ? { held: true, token, fence: figure }
          : { held: false, remainingMs: Math.max(0, figure) };
      });
  }

  /** Releases the lock if it is still ours, then tells waiting processes to look again. */
  async unlock(key: string, grant: LockGrant): Promise<void> {
    await this.#io.send(() => runScript(this.#client, UNLOCK, [this.#companion(key, 'lock')], [grant.token]));
    await this.changes.announce({ type: 'keys', keys: [key] });
  }

  watch(key: string, onChange: () => void): (() => void) | null {
    return watchKey(this.changes, key, onChange);
  }

  /** One INFO per master: never a walk of the keyspace, whatever its size (`countKeys` walks it). */
  stats(): Promise<DriverStats> {
    return this.#io.send(() => serverFigures(this.#client)).then(toDriverStats);
  }

  /** SCAN and a pipelined PTTL per page on every master, until `limit` keys are counted (see countMatching). */
  countKeys(limit: number): Promise<KeyCount> {
    const match = `${escapeKeyPattern(this.keyPrefix)}*`;
    return this.#io.send(() => countMatching(this.#client, match, limit)).then(toKeyCount);
  }

  async close(): Promise<void> {
    this.#io.close();
    // First, so that tracking is switched off on a client that stays open.
    await this.changes.close();
    if (this.#closeClient) {
      const client = this.#client;
      if (isCluster(client)) await closeCluster(client, this.#timeoutMs);
      // QUIT lets in-flight replies arrive first; then the connection is ended whatever the server does.
      else await endConnection(client, this.#timeoutMs, true);
    }
    this.#io.detach();
  }

  classify(cause: unknown): DriverError {
    return classifyRedisError(cause, this.#timeoutMs);
  }

  /** The change feed's exchanges (PUBLISH of `announce`), sent as calls are and answered as a Result. */
  #companion(key: string, role: CompanionRole): string {
    return companionKey(this.keyPrefix, key, role);
  }

  async #announce<T>(exchange: () => Promise<T>): Promise<Result<T, CacheError>> {
    try {
      return new Ok(await this.#io.send(exchange));
    } catch (cause) {
      return new Err(toCacheError(this, cause, ANNOUNCE, undefined));
    }
  }
}

/**
 * Closes a Cluster: QUIT lets in-flight replies arrive first. Then disconnect in any case: a client that never
 * connected, or whose servers do not answer, would otherwise go on reconnecting forever.
 */
async function closeCluster(client: Cluster, timeoutMs: number): Promise<void> {
  await withTimeout(
    client.quit().catch(() => undefined),
    timeoutMs,
    () => undefined,
  );
  const ended = new Promise<void>((resolve) => {
    if (client.status === 'end') resolve();
    else client.once('end', () => resolve());
  });
  client.disconnect();
  await withTimeout(ended, timeoutMs, () => undefined);
}

/** SET's arguments, with `PX` when there is a TTL. */
function withTtl(args: Array<string | number>, ttlMs: number | undefined): Array<string | number> {
  if (ttlMs !== undefined) args.push('PX', ttlMs);
  return args;
}

function stored(): boolean {
  return true;
}

/** Redis's 1/0 integer replies (UNLINK, EXISTS, PEXPIRE of one key) as a boolean. */
function isOne(reply: number): boolean {
  return reply === 1;
}

/** A PTTL reply as `ttl` answers it: PTTL answers -2 for no key and -1 for no TTL. */
function remainingMs(reply: number): number | null {
  return reply < 0 ? null : reply;
}

/** Counting keys under the prefix would mean a walk: `totalKeys` and `averageTtlSeconds` are left `null`. */
function toDriverStats(figures: ServerFigures): DriverStats {
  const { usedMemory, evictedKeys, expiredKeys } = figures;
  return {
    totalKeys: null,
    memoryUsageBytes: usedMemory,
    expiredKeys,
    evictedKeys,
    averageTtlSeconds: null,
    mostAccessedKeys: [],
  };
}

/**
 * Creates the Redis backend's driver, for a tiered cache's L2 or a front of your own (`createCache`). Most
 * users want `createRedisBackend`. Throws, before connecting anything, on options it cannot use.
 */
export function createRedisDriver(
  options: RedisDriverOptions,
): CacheDriver<false> & { readonly changes: ChangeFeed } {
  return new RedisDriver(options);
}
