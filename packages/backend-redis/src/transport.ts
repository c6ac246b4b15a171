import { DriverError, withTimeout } from '@tiercache/core';
import { Cluster, Redis } from 'ioredis';
import { CallDeadlines } from './call-deadlines.js';
import { isCluster } from './cluster-slots.js';
import {
  DirectCommand,
  type KeyPrefix,
  type OwnRedis,
  readDirectReplies,
  takesDirectCommands,
  writesDirectly,
} from './direct-command.js';
import { classify, credentialsRefusalIn, refusesCredentials } from './redis-errors.js';
import type { Client } from './redis-options.js';
import { TimedCommand } from './timed-command.js';
import { WriteBatcher } from './write-batching.js';

export interface TransportOptions {
  /** Longest wait for a call, and for the very first connection. */
  timeoutMs: number;
  /** Whether to bound each call with a timer of our own: a caller's client without a commandTimeout. */
  needsOwnTimeout: boolean;
  /** The backend's prefix, which {@link Transport.sendCommand} puts before the keys it is given. */
  keyPrefix: string;
}

/**
 * How every exchange with Redis is sent. A call never queues behind a lost connection: unless the client is
 * ready it fails at once with `CONNECTION`. The one exception is the very first connection, which a call may
 * wait for, within the command timeout — unless Redis refuses the credentials, which answers at once, naming
 * them, until a connection is made. Calls started in one tick leave in one socket write, one per 16 (see
 * {@link WriteBatcher}). Failures reject: with a {@link DriverError} when the call was refused or timed out
 * here, with ioredis's own error otherwise (the driver's `classify` names it).
 */
export class Transport {
  readonly #client: Client;
  readonly #timeoutMs: number;
  readonly #needsOwnTimeout: boolean;
  readonly #writes: WriteBatcher;
  readonly #deadlines: CallDeadlines;
  /** ioredis's own `keyPrefix` option of a caller's client, which its command methods apply. */
  readonly #ioredisKeyPrefix: string | undefined;
  /** Whether sendCommand writes {@link DirectCommand}s to the client's socket (see takesDirectCommands). */
  readonly #direct: boolean;
  /**
   * Whether the client comes from the ioredis this package imports, whose commands it can make. A caller's
   * client from another copy (ioredis 6 under a backend on ioredis 5) takes only its own: it is sent
   * `client.call(…)`, timed by its own commandTimeout or our timer.
   */
  readonly #takesOurCommands: boolean;
  /** The backend's prefix, for the keys of sendCommand. */
  readonly #keyPrefix: string;
  /** What a DirectCommand writes before each key: the client's own `keyPrefix`, if any, and the backend's. */
  readonly #directPrefix: KeyPrefix | undefined;
  /** The timeout of a DirectCommand written directly: the client's commandTimeout, else the backend's. */
  readonly #directTimeoutMs: number;
  /** Settles when the client is first ready, or earlier, when Redis refuses the credentials. */
  readonly #firstReady: Promise<void>;
  #stopWaiting: () => void = () => {};
  readonly #onError = (reported: Error) => {
    // A Cluster reports a failed connection as a ClusterAllFailedError; what the nodes said is its lastNodeError.
    const error = credentialsRefusalIn(reported) ?? reported;
    this.#lastError = error;
    if (!refusesCredentials(error)) return;
    // ioredis goes on reconnecting with the same credentials; waiting for it would only end in a timeout.
    if (!this.#refusedCredentials) this.#client.once('ready', this.#credentialsAccepted);
    this.#refusedCredentials = error;
    this.#stopWaiting();
  };
  readonly #credentialsAccepted = () => {
    this.#refusedCredentials = undefined;
  };
  #lastError: Error | undefined;
  /** Redis's refusal of the credentials, until a connection is made again. */
  #refusedCredentials: Error | undefined;
  #everReady: boolean;
  #closed = false;

  constructor(client: Client, options: TransportOptions) {
    this.#client = client;
    this.#timeoutMs = options.timeoutMs;
    this.#needsOwnTimeout = options.needsOwnTimeout;
    this.#writes = new WriteBatcher(client);
    this.#deadlines = new CallDeadlines(!isCluster(client));
    this.#ioredisKeyPrefix = client.options.keyPrefix || undefined;
    this.#direct = takesDirectCommands(client);
    if (this.#direct) {
      (client as OwnRedis).beforeSend = this.#writes.sendDirectNow;
      readDirectReplies(client as OwnRedis);
    }
    this.#takesOurCommands = client instanceof Redis || client instanceof Cluster;
    this.#keyPrefix = options.keyPrefix;
    const prefix = (this.#ioredisKeyPrefix ?? '') + options.keyPrefix;
    this.#directPrefix = prefix === '' ? undefined : { text: prefix, bytes: Buffer.byteLength(prefix) };
    const ownTimeout = (client as Redis).options.commandTimeout;
    this.#directTimeoutMs = typeof ownTimeout === 'number' ? ownTimeout : options.timeoutMs;
    this.#everReady = client.status === 'ready';
    // Also keeps an 'error' event of the client from becoming an uncaught exception.
    client.on('error', this.#onError);
    this.#firstReady = this.#everReady
      ? Promise.resolve()
      : new Promise((resolve) => {
          this.#stopWaiting = resolve;
          client.once('ready', () => {
            this.#everReady = true;
            resolve();
          });
        });
  }

  /**
   * Runs one exchange. The common case — connected, and ioredis bounds the call itself — adds no promise step
   * of its own: the exchange's own promise is answered as it is.
   */
  send<R>(exchange: () => Promise<R>): Promise<R> {
    if (!this.#closed && !this.#needsOwnTimeout && this.#client.status === 'ready') {
      this.#writes.hold();
      return exchange();
    }
    return this.#sendWhenAvailable(exchange);
  }

  /**
   * Sends one command of the hot path (GET, SET, MGET): as {@link send}, with the command's timeout kept by one
   * timer for all of them ({@link CallDeadlines}). Its first `keyCount` arguments are all its keys, named
   * without the backend's prefix, which is added here (with the client's own `keyPrefix`, if any).
   */
  sendCommand<R>(name: string, args: ReadonlyArray<string | number>, keyCount: number): Promise<R> {
    const client = this.#client;
    if (this.#direct && !this.#closed && writesDirectly(client as OwnRedis)) {
      const command = new DirectCommand(name, args, keyCount, this.#directPrefix, this.#deadlines);
      command.startTimeout(this.#directTimeoutMs);
      this.#writes.sendDirect(command);
      return command.promise as Promise<R>;
    }
    const prefixedArgs = prefixed(args, keyCount, this.#keyPrefix);
    if (!this.#takesOurCommands) return this.send(() => client.call(name, ...prefixedArgs) as Promise<R>);
    const command = new TimedCommand(name, prefixedArgs, this.#deadlines, this.#ioredisKeyPrefix);
    const send = () => client.sendCommand(command) as Promise<R>;
    if (!this.#closed && client.status === 'ready') {
      this.#writes.hold();
      if (this.#needsOwnTimeout) command.setTimeout(this.#timeoutMs);
      return send();
    }
    return this.#sendWhenAvailable(send);
  }

  /** Refuses every exchange from now on with `CLOSED`. */
  close(): void {
    this.#closed = true;
  }

  /** Stops listening to the client, once it is closed (or left to its owner). */
  detach(): void {
    this.#client.off('error', this.#onError);
    this.#client.off('ready', this.#credentialsAccepted);
  }

  /** #send's other cases: closed, not connected (yet), or a caller's client that needs our own timer. */
  async #sendWhenAvailable<R>(exchange: () => Promise<R>): Promise<R> {
    if (this.#refusal() === 'wait') {
      await withTimeout(this.#firstReady, this.#timeoutMs, () => {
        throw this.#unreachable('could not connect');
      });
      if (this.#refusal() === 'wait') throw this.#unreachable('could not connect');
    }
    this.#writes.hold();
    const pending = exchange();
    if (!this.#needsOwnTimeout) return pending;
    return withTimeout(pending, this.#timeoutMs, () => {
      // What ioredis's own commandTimeout rejects with, named the same way.
      throw classify(new Error('Command timed out'), this.#timeoutMs);
    });
  }

  /** Throws why an exchange cannot be sent now; `wait` while the very first connection is being made. */
  #refusal(): 'wait' | undefined {
    if (this.#closed) throw new DriverError('CLOSED', 'backend is closed');
    const status = this.#client.status;
    if (status === 'ready') return undefined;
    // Refused credentials stay refused until someone changes them: say so at once, rather than wait.
    const refused = this.#refusedCredentials;
    if (refused) {
      throw new DriverError('CONNECTION', `Redis refused the credentials (${refused.message})`, refused);
    }
    if (!this.#everReady && (status === 'wait' || status === 'connecting' || status === 'connect')) {
      return 'wait';
    }
    throw this.#unreachable(`not connected (${status})`);
  }

  #unreachable(state: string): DriverError {
    const last = this.#lastError ? `: ${this.#lastError.message}` : '';
    return new DriverError('CONNECTION', `Redis is unreachable, ${state}${last}`, this.#lastError);
  }
}

/** A copy of `args` with `prefix` joined to its first `keyCount`. */
function prefixed(
  args: ReadonlyArray<string | number>,
  keyCount: number,
  prefix: string,
): ReadonlyArray<string | number> {
  if (prefix === '' || keyCount === 0) return args;
  return args.map((arg, i) => (i < keyCount ? prefix + (arg as string) : arg));
}
