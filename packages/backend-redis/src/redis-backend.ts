import {
  type CacheBackend,
  type CacheEntries,
  type CacheEntry,
  CacheError,
  type CacheResult,
  type CacheStats,
  type ChangeFeed,
  checkAmount,
  checkKey,
  checkKeys,
  checkPattern,
  checkTtl,
  checkValue,
  closedError,
  createOperationCounts,
  decodeJson,
  encodeJson,
  entriesToPairs,
  escapeKeyPattern,
  type GetOrSetOptions,
  LoadThrough,
  lookupRates,
  type OperationName,
  toMilliseconds,
} from '@tiercache/core';
import calculateSlot from 'cluster-key-slot';
import { Cluster, type ClusterNode, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { Err, Ok, type Result } from 'ts-results-es';
import { BOUNDED_INCREMENT, BOUNDED_INCREMENT_SHA } from './bounded-increment.js';
import {
  ANNOUNCE,
  RedisChangeFeed,
  type RedisChangeFeedOptions,
  resolveChangeFeedOptions,
} from './change-feed.js';
import { NAME, toCacheError } from './redis-errors.js';
import { WriteBatcher } from './write-batching.js';

export interface RedisReconnectOptions {
  /** Delay before the first reconnect attempt, doubled on each failure. @default 50 */
  minDelayMs?: number;
  /** Longest delay between attempts; attempts never stop. @default 2000 */
  maxDelayMs?: number;
}

/**
 * How to reach Redis — exactly one of `url`, `redis`, `cluster` or `client` — and how to behave.
 *
 * @example createRedisBackend({ url: 'redis://localhost:6379/0', keyPrefix: 'app:' })
 * @example createRedisBackend({ redis: { sentinels: [{ host: 's1', port: 26379 }], name: 'mymaster' } })
 * @example createRedisBackend({ cluster: { nodes: [{ host: 'n1', port: 7000 }] } })
 * @example createRedisBackend({ client: existingIoredis, closeClient: false })
 */
export interface RedisBackendOptions {
  /** `redis://[[user]:password@]host[:port][/db]`, or `rediss://` for TLS. */
  url?: string;
  /** ioredis options for one server, or for Sentinel (with `sentinels` and `name`). */
  redis?: RedisOptions;
  /** A Redis Cluster: some of its nodes, and ioredis cluster options. */
  cluster?: { nodes: ClusterNode[]; options?: ClusterOptions };
  /** An ioredis client you created. Say who closes it with `closeClient`. */
  client?: Redis | Cluster;
  /**
   * Required with `client`: `true` lets `close()` quit your client, `false` leaves it open for you.
   * Clients the backend creates itself are always closed by `close()`.
   */
  closeClient?: boolean;
  /** Prepended to every key; `flush` and `deletePattern` stay inside it. @default '' */
  keyPrefix?: string;
  /** Seconds a key lives when `set` is called without a TTL. @default no expiry */
  defaultTtl?: number;
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
   * commands that calls start in one tick as one socket write, without auto-pipelining's wait for
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

const DEFAULT_COMMAND_TIMEOUT_MS = 500;
const SCAN_COUNT = 1000;

const OK_NULL: Result<null, never> = new Ok(null);
const OK_VOID: Result<void, never> = new Ok(undefined);
const OK_TRUE: Result<boolean, never> = new Ok(true);
const OK_FALSE: Result<boolean, never> = new Ok(false);

function okOf<T>(reply: T): Result<T, never> {
  return new Ok(reply);
}

function answerVoid(): Result<void, never> {
  return OK_VOID;
}

/** Redis's 1/0 integer replies (UNLINK, EXISTS, PEXPIRE of one key) as a boolean. */
function isOne(reply: number): Result<boolean, never> {
  return reply === 1 ? OK_TRUE : OK_FALSE;
}

type Client = Redis | Cluster;

/** Why a call cannot be sent right now, or `wait` while the very first connection is still being made. */
type Availability = CacheError | 'wait' | undefined;

class RedisBackend implements CacheBackend {
  readonly name = NAME;
  readonly keyPrefix: string;
  readonly changes: ChangeFeed;
  readonly #feed: RedisChangeFeed;
  readonly #client: Client;
  readonly #closeClient: boolean;
  readonly #isCluster: boolean;
  readonly #defaultTtlMs: number | undefined;
  readonly #timeoutMs: number;
  /** Our own timer per call, for a caller's client that has no commandTimeout of its own. */
  readonly #needsOwnTimeout: boolean;
  readonly #operations = createOperationCounts();
  readonly #loads = new LoadThrough(NAME);
  readonly #firstReady: Promise<void>;
  readonly #writes: WriteBatcher;
  readonly #onError = (error: Error) => {
    this.#lastError = error;
  };
  #lastError: Error | undefined;
  #everReady = false;
  #hits = 0;
  #misses = 0;
  #closed = false;

  constructor(options: RedisBackendOptions) {
    const { keyPrefix = '', defaultTtl, commandTimeout = DEFAULT_COMMAND_TIMEOUT_MS } = options;
    if (typeof keyPrefix !== 'string') {
      throw new TypeError(`[tiercache:redis] keyPrefix must be a string, got ${typeof keyPrefix}`);
    }
    const ttlError = checkTtl(NAME, 'set', undefined, defaultTtl, 'defaultTtl');
    if (ttlError) throw new RangeError(ttlError.message);
    if (!Number.isSafeInteger(commandTimeout) || commandTimeout < 1) {
      throw new RangeError(
        `[tiercache:redis] commandTimeout must be a positive whole number of milliseconds, got ${String(commandTimeout)}`,
      );
    }
    const feedOptions = resolveChangeFeedOptions(options.changeFeed);
    this.keyPrefix = keyPrefix;
    this.#defaultTtlMs = defaultTtl === undefined ? undefined : toMilliseconds(defaultTtl);
    this.#timeoutMs = commandTimeout;
    const retryDelay = backoff(options.reconnect);
    const { client, owned } = connect(options, commandTimeout, retryDelay);
    this.#client = client;
    this.#writes = new WriteBatcher(client);
    this.#closeClient = owned || options.closeClient === true;
    this.#feed = new RedisChangeFeed({
      client,
      keyPrefix,
      ...feedOptions,
      timeoutMs: commandTimeout,
      closesClient: this.#closeClient,
      retryDelay,
      send: (exchange) => this.#send(ANNOUNCE, undefined, exchange),
    });
    this.changes = this.#feed;
    this.#isCluster = client instanceof Cluster;
    this.#needsOwnTimeout = !owned && typeof commandTimeoutOf(client) !== 'number';
    this.#everReady = client.status === 'ready';
    client.on('error', this.#onError);
    this.#firstReady = this.#everReady
      ? Promise.resolve()
      : new Promise((resolve) => {
          client.once('ready', () => {
            this.#everReady = true;
            resolve();
          });
        });
  }

  get(key: string): CacheResult<string | null> {
    this.#operations.get++;
    const refused = this.#refuse('get', key);
    if (refused) return Promise.resolve(new Err(refused));
    const fullKey = this.keyPrefix + key;
    return this.#send('get', key, () => this.#client.get(fullKey), this.#lookedUp);
  }

  async getJson<T = unknown>(key: string): CacheResult<T | null> {
    this.#operations.getJson++;
    const refused = this.#refuse('getJson', key);
    if (refused) return new Err(refused);
    const fullKey = this.keyPrefix + key;
    const reply = await this.#send('getJson', key, () => this.#client.get(fullKey), this.#lookedUp);
    if (reply.isErr() || reply.value === null) return reply as Result<null, CacheError>;
    return decodeJson<T>(NAME, 'getJson', key, reply.value);
  }

  /** A GET's reply as a Result, counted as a hit or a miss. */
  readonly #lookedUp = (value: string | null): Result<string | null, CacheError> => {
    if (value === null) {
      this.#misses++;
      return OK_NULL;
    }
    this.#hits++;
    return new Ok(value);
  };

  set(key: string, value: string, ttl?: number): CacheResult<void> {
    this.#operations.set++;
    const refused =
      this.#refuse('set', key) ?? checkValue(NAME, 'set', key, value) ?? checkTtl(NAME, 'set', key, ttl);
    if (refused) return Promise.resolve(new Err(refused));
    return this.#write('set', key, value, ttl);
  }

  async setJson(key: string, value: unknown, ttl?: number): CacheResult<void> {
    this.#operations.setJson++;
    const refused = this.#refuse('setJson', key) ?? checkTtl(NAME, 'setJson', key, ttl);
    if (refused) return new Err(refused);
    const text = encodeJson(NAME, 'setJson', key, value);
    if (text.isErr()) return text;
    return this.#write('setJson', key, text.value, ttl);
  }

  async delete(key: string): CacheResult<boolean> {
    this.#operations.delete++;
    const refused = this.#refuse('delete', key);
    if (refused) return new Err(refused);
    return this.#send('delete', key, () => this.#client.unlink(this.keyPrefix + key), isOne);
  }

  async exists(key: string): CacheResult<boolean> {
    this.#operations.exists++;
    const refused = this.#refuse('exists', key);
    if (refused) return new Err(refused);
    return this.#send('exists', key, () => this.#client.exists(this.keyPrefix + key), isOne);
  }

  async expire(key: string, seconds: number): CacheResult<boolean> {
    this.#operations.expire++;
    const refused = this.#refuse('expire', key) ?? checkTtl(NAME, 'expire', key, seconds, 'seconds');
    if (refused) return new Err(refused);
    const ms = toMilliseconds(seconds);
    return this.#send('expire', key, () => this.#client.pexpire(this.keyPrefix + key, ms), isOne);
  }

  async ttl(key: string): CacheResult<number | null> {
    this.#operations.ttl++;
    const refused = this.#refuse('ttl', key);
    if (refused) return new Err(refused);
    // PTTL answers -2 for no key and -1 for no TTL.
    return this.#send(
      'ttl',
      key,
      () => this.#client.pttl(this.keyPrefix + key),
      (ms) => (ms < 0 ? OK_NULL : new Ok(ms / 1000)),
    );
  }

  increment(key: string, amount = 1): CacheResult<number> {
    this.#operations.increment++;
    return this.#addTo('increment', key, amount, 1);
  }

  decrement(key: string, amount = 1): CacheResult<number> {
    this.#operations.decrement++;
    return this.#addTo('decrement', key, amount, -1);
  }

  async flush(): CacheResult<void> {
    this.#operations.flush++;
    const refused = this.#refuseIfClosed('flush');
    if (refused) return new Err(refused);
    const deleted = await this.#deleteMatching('flush', `${escapeKeyPattern(this.keyPrefix)}*`);
    return deleted.map(() => undefined);
  }

  async ping(): CacheResult<true> {
    this.#operations.ping++;
    const refused = this.#refuseIfClosed('ping');
    if (refused) return new Err(refused);
    const client = this.#client;
    const reply = await this.#send('ping', undefined, async () => {
      if (client instanceof Cluster) await Promise.all(client.nodes('master').map((node) => node.ping()));
      else await client.ping();
    });
    return reply.map(() => true as const);
  }

  async deletePattern(pattern: string): CacheResult<number> {
    this.#operations.deletePattern++;
    const refused = this.#refuseIfClosed('deletePattern') ?? checkPattern(NAME, 'deletePattern', pattern);
    if (refused) return new Err(refused);
    return this.#deleteMatching('deletePattern', escapeKeyPattern(this.keyPrefix) + pattern);
  }

  getMany(keys: readonly string[]): CacheResult<Map<string, string | null>> {
    this.#operations.getMany++;
    const refused = this.#refuseIfClosed('getMany') ?? checkKeys(NAME, 'getMany', keys);
    if (refused) return Promise.resolve(new Err(refused));
    const unique = [...new Set(keys)];
    if (unique.length === 0) return Promise.resolve(new Ok(new Map()));
    return this.#send(
      'getMany',
      undefined,
      () => this.#mget(unique),
      (values) => {
        const found = new Map<string, string | null>();
        for (let i = 0; i < unique.length; i++) {
          const value = values[i] ?? null;
          if (value === null) this.#misses++;
          else this.#hits++;
          found.set(unique[i] as string, value);
        }
        return new Ok(found);
      },
    );
  }

  async setMany(entries: CacheEntries, ttl?: number): CacheResult<void> {
    this.#operations.setMany++;
    const refused = this.#refuseIfClosed('setMany') ?? checkTtl(NAME, 'setMany', undefined, ttl);
    if (refused) return new Err(refused);
    const pairs = entriesToPairs(NAME, 'setMany', entries);
    if (pairs instanceof CacheError) return new Err(pairs);
    if (pairs.length === 0) return OK_VOID;
    const ttlMs = ttl === undefined ? this.#defaultTtlMs : toMilliseconds(ttl);
    const groups = this.#bySlot(pairs, ([key]) => this.keyPrefix + key);
    const reply = await this.#send('setMany', undefined, () =>
      Promise.all(groups.map((group) => this.#setGroup(group, ttlMs))),
    );
    return reply.map(() => undefined);
  }

  async getOrSet(
    key: string,
    loader: () => string | Promise<string>,
    options: GetOrSetOptions = {},
  ): CacheResult<string> {
    this.#operations.getOrSet++;
    const refused = this.#refuse('getOrSet', key) ?? checkTtl(NAME, 'getOrSet', key, options.ttl);
    if (refused) return new Err(refused);
    const fullKey = this.keyPrefix + key;
    const cached = await this.#send('getOrSet', key, () => this.#client.get(fullKey));
    if (cached.isErr()) return cached;
    if (cached.value !== null) {
      this.#hits++;
      return new Ok(cached.value);
    }
    this.#misses++;
    return this.#loads.load(fullKey, key, loader, (value) =>
      this.#write('getOrSet', key, value, options.ttl),
    );
  }

  async getEntry(key: string): CacheResult<CacheEntry | null> {
    this.#operations.getEntry++;
    const refused = this.#refuse('getEntry', key);
    if (refused) return new Err(refused);
    const reply = await this.#send('getEntry', key, () => this.#readEntries([key]));
    return reply.map(([entry]) => entry ?? null);
  }

  async getEntries(keys: readonly string[]): CacheResult<Map<string, CacheEntry | null>> {
    this.#operations.getEntries++;
    const refused = this.#refuseIfClosed('getEntries') ?? checkKeys(NAME, 'getEntries', keys);
    if (refused) return new Err(refused);
    const unique = [...new Set(keys)];
    const found = new Map<string, CacheEntry | null>();
    if (unique.length === 0) return new Ok(found);
    // One transaction per hash slot (a single one outside a Cluster), all sent at once: one round trip.
    const groups = this.#bySlot(
      unique.map((key, index) => ({ key, index })),
      (item) => this.keyPrefix + item.key,
    );
    const reply = await this.#send('getEntries', undefined, async () => {
      const entries = new Array<CacheEntry | null>(unique.length).fill(null);
      await Promise.all(
        groups.map(async (group) => {
          const read = await this.#readEntries(group.map((item) => item.key));
          for (const [i, item] of group.entries()) entries[item.index] = read[i] ?? null;
        }),
      );
      return entries;
    });
    if (reply.isErr()) return reply;
    for (const [i, key] of unique.entries()) {
      const entry = reply.value[i] ?? null;
      if (entry === null) this.#misses++;
      else this.#hits++;
      found.set(key, entry);
    }
    return new Ok(found);
  }

  async stats(): CacheResult<CacheStats> {
    this.#operations.stats++;
    const refused = this.#refuseIfClosed('stats');
    if (refused) return new Err(refused);
    const reply = await this.#send('stats', undefined, () => this.#serverFigures());
    if (reply.isErr()) return reply;
    const { totalKeys, keysWithTtl, ttlSumMs, usedMemory, evictedKeys, expiredKeys } = reply.value;
    return new Ok({
      backend: NAME,
      totalKeys,
      hits: this.#hits,
      misses: this.#misses,
      ...lookupRates(this.#hits, this.#misses),
      memoryUsageBytes: usedMemory,
      expiredKeys,
      evictedKeys,
      averageTtlSeconds: keysWithTtl === 0 ? null : ttlSumMs / keysWithTtl / 1000,
      mostAccessedKeys: [],
      operations: { ...this.#operations },
    });
  }

  async close(): CacheResult<void> {
    this.#operations.close++;
    if (this.#closed) return OK_VOID;
    this.#closed = true;
    // First, so that tracking is switched off on a client that stays open.
    await this.#feed.close();
    if (this.#closeClient) {
      // QUIT lets in-flight replies arrive first. Then disconnect in any case: a client that never connected,
      // or whose server does not answer, would otherwise go on reconnecting forever.
      await withinTime(
        this.#client.quit().catch(() => undefined),
        this.#timeoutMs,
      );
      const ended = new Promise<void>((resolve) => {
        if (this.#client.status === 'end') resolve();
        else this.#client.once('end', () => resolve());
      });
      this.#client.disconnect();
      await withinTime(ended, this.#timeoutMs);
    }
    this.#client.off('error', this.#onError);
    return OK_VOID;
  }

  /** The first reason to refuse a call on one key: closed, or a malformed key. */
  #refuse(operation: OperationName, key: unknown): CacheError | undefined {
    return this.#refuseIfClosed(operation, key) ?? checkKey(NAME, operation, key);
  }

  #refuseIfClosed(operation: OperationName, key?: unknown): CacheError | undefined {
    return this.#closed ? closedError(NAME, operation, key) : undefined;
  }

  /**
   * Runs one exchange with Redis and turns its outcome into a Result. A call never queues behind a lost
   * connection: unless the client is ready it fails at once with CONNECTION. The one exception is the very
   * first connection, which a call may wait for, within the command timeout.
   */
  #send<R, T = R>(
    operation: OperationName,
    key: string | undefined,
    exchange: () => Promise<R>,
    answer: (reply: R) => Result<T, CacheError> = okOf as (reply: R) => Result<T, CacheError>,
  ): Promise<Result<T, CacheError>> {
    // The common case, kept to one promise step: connected, and ioredis bounds the call itself.
    if (!this.#closed && !this.#needsOwnTimeout && this.#client.status === 'ready') {
      this.#writes.hold();
      try {
        // Inline rather than a named const: transpilers that keep names (tsx) add a defineProperty per call.
        return exchange().then(answer, (cause) => this.#failure(cause, operation, key));
      } catch (cause) {
        // ioredis reports failures by rejecting; this only guards the promise that a call never throws.
        return Promise.resolve(this.#failure(cause, operation, key));
      }
    }
    return this.#sendWhenAvailable(operation, key, exchange, answer);
  }

  #failure(cause: unknown, operation: OperationName, key: string | undefined): Err<CacheError> {
    return new Err(toCacheError(cause, operation, key, this.#timeoutMs));
  }

  /** #send's other cases: closed, not connected (yet), or a caller's client that needs our own timer. */
  async #sendWhenAvailable<R, T>(
    operation: OperationName,
    key: string | undefined,
    exchange: () => Promise<R>,
    answer: (reply: R) => Result<T, CacheError>,
  ): Promise<Result<T, CacheError>> {
    const availability = this.#availability(operation, key);
    if (availability instanceof CacheError) return new Err(availability);
    try {
      if (availability === 'wait') {
        const ready = await withinTime(this.#firstReady, this.#timeoutMs);
        if (!ready) return new Err(this.#connectionError(operation, key, 'could not connect'));
        const again = this.#availability(operation, key);
        if (again instanceof CacheError) return new Err(again);
      }
      this.#writes.hold();
      const pending = exchange();
      if (this.#needsOwnTimeout) {
        const answered = await withinTime(pending, this.#timeoutMs);
        if (!answered) {
          pending.catch(() => undefined);
          return new Err(toCacheError(new Error('Command timed out'), operation, key, this.#timeoutMs));
        }
      }
      return answer(await pending);
    } catch (cause) {
      return this.#failure(cause, operation, key);
    }
  }

  #availability(operation: OperationName, key: string | undefined): Availability {
    if (this.#closed) return this.#refuseIfClosed(operation, key);
    const status = this.#client.status;
    if (status === 'ready') return undefined;
    if (!this.#everReady && (status === 'wait' || status === 'connecting' || status === 'connect'))
      return 'wait';
    return this.#connectionError(operation, key, `not connected (${status})`);
  }

  #connectionError(operation: OperationName, key: string | undefined, state: string): CacheError {
    const last = this.#lastError ? `: ${this.#lastError.message}` : '';
    return new CacheError({
      code: 'CONNECTION',
      backend: NAME,
      operation,
      key,
      reason: `Redis is unreachable, ${state}${last}`,
      cause: this.#lastError,
    });
  }

  #write(operation: OperationName, key: string, value: string, ttl: number | undefined): CacheResult<void> {
    const fullKey = this.keyPrefix + key;
    const ttlMs = ttl === undefined ? this.#defaultTtlMs : toMilliseconds(ttl);
    return this.#send(
      operation,
      key,
      () =>
        ttlMs === undefined
          ? this.#client.set(fullKey, value)
          : this.#client.set(fullKey, value, 'PX', ttlMs),
      answerVoid,
    );
  }

  async #addTo(
    operation: 'increment' | 'decrement',
    key: string,
    amount: number,
    sign: 1 | -1,
  ): CacheResult<number> {
    const refused = this.#refuse(operation, key) ?? checkAmount(NAME, operation, key, amount);
    if (refused) return new Err(refused);
    const fullKey = this.keyPrefix + key;
    const delta = String(sign * amount);
    return this.#send(operation, key, async () => {
      try {
        return Number(await this.#client.evalsha(BOUNDED_INCREMENT_SHA, 1, fullKey, delta));
      } catch (error) {
        // The script is loaded into each server on first use (and again after a restart or failover).
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return Number(await this.#client.eval(BOUNDED_INCREMENT, 1, fullKey, delta));
      }
    });
  }

  /** MGET, split by hash slot in a Cluster (a multi-key command must stay in one slot), in the order asked. */
  async #mget(keys: string[]): Promise<Array<string | null>> {
    const fullKeys = keys.map((key) => this.keyPrefix + key);
    if (!this.#isCluster) return this.#client.mget(fullKeys);
    const groups = this.#bySlot(
      fullKeys.map((fullKey, index) => ({ fullKey, index })),
      (item) => item.fullKey,
    );
    const values = new Array<string | null>(keys.length).fill(null);
    await Promise.all(
      groups.map(async (group) => {
        const replies = await this.#client.mget(group.map((item) => item.fullKey));
        for (const [i, item] of group.entries()) values[item.index] = replies[i] ?? null;
      }),
    );
    return values;
  }

  /**
   * Writes one slot's entries atomically: MSET when there is no TTL; otherwise SET … PX inside MULTI, so no
   * key is ever visible without its TTL.
   */
  async #setGroup(group: Array<[string, string]>, ttlMs: number | undefined): Promise<void> {
    if (ttlMs === undefined) {
      await this.#client.mset(group.flatMap(([key, value]) => [this.keyPrefix + key, value]));
      return;
    }
    const transaction = this.#client.multi();
    for (const [key, value] of group) transaction.set(this.keyPrefix + key, value, 'PX', ttlMs);
    transactionReplies(await transaction.exec());
  }

  /** GET and PTTL of each key in one MULTI, so each value and its TTL describe the same moment. */
  async #readEntries(keys: string[]): Promise<Array<CacheEntry | null>> {
    const transaction = this.#client.multi();
    for (const key of keys) transaction.get(this.keyPrefix + key).pttl(this.keyPrefix + key);
    const replies = transactionReplies(await transaction.exec());
    const readAt = Date.now();
    return keys.map((key, i) => {
      const value = replies[2 * i] as string | null;
      return value === null ? null : toEntry(key, value, replies[2 * i + 1] as number, readAt);
    });
  }

  /** Groups items by the hash slot of their key; one group holding everything outside a Cluster. */
  #bySlot<T>(items: T[], keyOf: (item: T) => string): T[][] {
    if (!this.#isCluster) return [items];
    const groups = new Map<number, T[]>();
    for (const item of items) {
      const slot = calculateSlot(keyOf(item));
      const group = groups.get(slot);
      if (group) group.push(item);
      else groups.set(slot, [item]);
    }
    return [...groups.values()];
  }

  /** SCAN every master for keys matching `match` and UNLINK them in batches; never KEYS, never FLUSHDB. */
  async #deleteMatching(operation: OperationName, match: string): CacheResult<number> {
    return this.#send(operation, undefined, async () => {
      let deleted = 0;
      await Promise.all(
        this.#masters().map((node) =>
          scanKeys(node, match, async (batch) => {
            // In a Cluster one UNLINK may only name keys of one slot.
            for (const group of this.#bySlot(batch, (key) => key)) {
              // Await first, then add: `deleted += await …` would read `deleted` before other masters add to it.
              const removed = await node.unlink(group);
              deleted += removed;
            }
          }),
        ),
      );
      return deleted;
    });
  }

  #masters(): Redis[] {
    const client = this.#client;
    return client instanceof Cluster ? client.nodes('master') : [client];
  }

  /** Keys under the prefix (with their TTLs) and the servers' own memory and eviction figures. */
  async #serverFigures() {
    const match = `${escapeKeyPattern(this.keyPrefix)}*`;
    const figures = {
      totalKeys: 0,
      keysWithTtl: 0,
      ttlSumMs: 0,
      usedMemory: 0,
      evictedKeys: 0,
      expiredKeys: 0,
    };
    await Promise.all(
      this.#masters().map(async (node) => {
        await scanKeys(node, match, async (batch) => {
          const pipeline = node.pipeline();
          for (const key of batch) pipeline.pttl(key);
          for (const ms of transactionReplies(await pipeline.exec()) as number[]) {
            if (ms === -2) continue; // gone since the scan saw it
            figures.totalKeys++;
            if (ms >= 0) {
              figures.keysWithTtl++;
              figures.ttlSumMs += ms;
            }
          }
        });
        const info = parseInfo(await node.info());
        figures.usedMemory += info.used_memory ?? 0;
        figures.evictedKeys += info.evicted_keys ?? 0;
        figures.expiredKeys += info.expired_keys ?? 0;
      }),
    );
    return figures;
  }
}

/** What `getEntry` and `getEntries` answer for a key found with `value` and a PTTL of `ttlMs` at `readAt`. */
function toEntry(key: string, value: string, ttlMs: number, readAt: number): CacheEntry {
  // PTTL answers -1 for a key without a TTL.
  const hasTtl = ttlMs >= 0;
  return {
    key,
    value,
    ttl: hasTtl ? ttlMs / 1000 : null,
    expiresAt: hasTtl ? readAt + ttlMs : null,
    createdAt: null,
    accessCount: null,
    lastAccessedAt: null,
    version: null,
  };
}

/** Walks one server's keyspace with SCAN, handing each non-empty page to `onBatch`. */
async function scanKeys(
  node: Redis,
  match: string,
  onBatch: (keys: string[]) => Promise<void>,
): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT);
    cursor = next;
    if (keys.length > 0) await onBatch(keys);
  } while (cursor !== '0');
}

/** The replies of a MULTI or pipeline, throwing the first error among them. */
function transactionReplies(results: Array<[Error | null, unknown]> | null): unknown[] {
  if (results === null) throw new Error('transaction was aborted');
  return results.map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}

function parseInfo(text: string): Record<string, number> {
  const figures: Record<string, number> = {};
  for (const line of text.split('\r\n')) {
    const [name, value] = line.split(':');
    if (name && value && /^\d+$/.test(value)) figures[name] = Number(value);
  }
  return figures;
}

/** Resolves `true` if `pending` settles within `ms`, `false` otherwise; never rejects. */
async function withinTime(pending: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([pending.then(() => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

function commandTimeoutOf(client: Client): number | undefined {
  return client instanceof Cluster
    ? client.options.redisOptions?.commandTimeout
    : client.options.commandTimeout;
}

/** The delay before reconnect attempt number `attempt` (from 1), doubling from the minimum to the maximum. */
function backoff(reconnect: RedisReconnectOptions | undefined): (attempt: number) => number {
  const { minDelayMs = 50, maxDelayMs = 2000 } = reconnect ?? {};
  if (!(minDelayMs > 0 && maxDelayMs >= minDelayMs)) {
    throw new RangeError(
      `[tiercache:redis] reconnect delays must satisfy 0 < minDelayMs <= maxDelayMs, got ${minDelayMs} and ${maxDelayMs}`,
    );
  }
  return (attempt) => Math.min(minDelayMs * 2 ** Math.min(attempt - 1, 16), maxDelayMs);
}

/** Makes the ioredis client from the options, or takes the caller's; says whether we created it. */
function connect(
  options: RedisBackendOptions,
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
    return { client: options.client, owned: false };
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
  };
  if (options.url !== undefined) {
    if (!/^rediss?:\/\//.test(options.url)) {
      throw new TypeError(
        `[tiercache:redis] url must start with redis:// or rediss://, got "${options.url}"`,
      );
    }
    return { client: new Redis(options.url, forIoredis(shared)), owned: true };
  }
  if (options.redis) {
    // Through Sentinel, follow a failover as soon as the Sentinels announce it (failoverDetector), and reconnect
    // when the old master, turned replica, refuses a write. With one server there is nothing better to
    // reconnect to, so there READONLY is just an error.
    const viaSentinel = options.redis.sentinels !== undefined;
    const failover: RedisOptions = viaSentinel
      ? { failoverDetector: true, reconnectOnError: (e) => e.message.startsWith('READONLY') }
      : {};
    return { client: new Redis(forIoredis({ ...shared, ...failover, ...options.redis })), owned: true };
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

type IoredisConstructorOptions = Omit<RedisOptions, 'replyMapping'>;

/**
 * ioredis declares its options with `| undefined` that its own constructor rejects under
 * exactOptionalPropertyTypes; the objects are the same.
 */
function forIoredis(options: RedisOptions): IoredisConstructorOptions {
  return options as IoredisConstructorOptions;
}

/**
 * Creates a Redis backend. Values are stored as the plain strings given (JSON text for `setJson`) with
 * native TTLs, so other programs and `redis-cli` read the same keys. Calls never hang: a hung server answers
 * `TIMEOUT` within `commandTimeout`, a lost connection answers `CONNECTION` at once, and the backend
 * reconnects by itself.
 *
 * It offers `getEntries` (values with their TTLs in one round trip) and `changes`, a feed of the changes
 * others make to its keys (see {@link RedisChangeFeedOptions}), for a tiered cache to keep its L1 coherent.
 */
export function createRedisBackend(options: RedisBackendOptions): CacheBackend {
  return new RedisBackend(options);
}
