import { tracingChannel } from 'node:diagnostics_channel';
import { type Command, Redis } from 'ioredis';
import type { CallDeadlines, Deadlined } from './call-deadlines.js';
import type { Client } from './redis-options.js';
import { type DirectReply, ReplyReader, type ReplyRoute } from './reply-reader.js';

/** A prefix written before keys as a command is encoded (see {@link DirectCommand.encoded}). */
export interface KeyPrefix {
  text: string;
  /** Its length in UTF-8 bytes, counted once. */
  bytes: number;
}

/**
 * GET, SET and MGET on one of the backend's own standalone clients, written straight to the client's socket
 * and queued for ioredis's reply parser, as `sendCommand` does for a ready client — without ioredis's
 * `Command`.
 *
 * ioredis's per-command machinery was a fifth of the client's busy time at 64 calls in flight (profiled: flag
 * lookups that lower-case the name, the blocking-timeout checks, a promise with two wrappers, copying the
 * arguments), six times the backend's own work, and what kept the backend behind node-redis. What the
 * connection needs of a command is small and the same in ioredis 5 and 6: an item `{ command, select }` in
 * `commandQueue`, whose command has a `name` and `args` (for error messages), and a `resolve` that takes
 * the reply as Buffers and a `reject` that takes an error. The connection, reconnection and authentication stay
 * ioredis's; the replies are read by a {@link ReplyReader} where it can, by ioredis's parser otherwise.
 *
 * Only on the backend's own clients ({@link OwnRedis}), which ioredis never asks to resend a command (see
 * {@link takesDirectCommands}); every other call goes through `sendCommand`.
 */
export class DirectCommand implements Deadlined {
  readonly name: string;
  readonly args: ReadonlyArray<string | number>;
  readonly promise: Promise<unknown>;
  /** The reply's shape, as {@link ReplyRoute.nextDirect} tells it: MGET's array of a value per key, or one. */
  readonly values: number;
  deadline = 0;
  answered = false;
  readonly #deadlines: CallDeadlines;
  readonly #keyPrefix: KeyPrefix | undefined;
  readonly #keyCount: number;
  #settle!: (reply: unknown) => void;
  #fail!: (error: Error) => void;

  /**
   * The first `keyCount` of `args` are keys, to be written after `keyPrefix` (the client's own `keyPrefix`,
   * if any, and the backend's).
   */
  constructor(
    name: string,
    args: ReadonlyArray<string | number>,
    keyCount: number,
    keyPrefix: KeyPrefix | undefined,
    deadlines: CallDeadlines,
  ) {
    this.name = name;
    this.args = args;
    this.values = name === 'mget' ? args.length : 0;
    this.#keyCount = keyCount;
    this.#keyPrefix = keyPrefix;
    this.#deadlines = deadlines;
    this.promise = new Promise((settle, fail) => {
      this.#settle = settle;
      this.#fail = fail;
    });
  }

  /** Starts the command's timeout, as it is sent. */
  startTimeout(ms: number): void {
    this.#deadlines.track(this, ms);
  }

  /** The reply as ioredis's parser hands it over, strings as Buffers. */
  resolve(reply: unknown): void {
    this.#deadlines.answered(this);
    this.#settle(decoded(reply));
  }

  /** The reply as the {@link ReplyReader} decoded it. */
  answer(reply: DirectReply): void {
    this.#deadlines.answered(this);
    this.#settle(reply);
  }

  reject(error: Error): void {
    this.#deadlines.answered(this);
    this.#fail(error);
  }

  timedOut(): void {
    this.answered = true;
    this.#fail(new Error('Command timed out'));
  }

  /**
   * The command in Redis's protocol, with the prefix written before each key rather than joined to it first:
   * a prefixed copy of each key would be one more string made, and measured once more to count its bytes (a
   * fifth of a getMany of 100, measured against MGET of keys joined beforehand).
   */
  encoded(): string {
    const { args, name } = this;
    const prefix = this.#keyPrefix;
    const keyCount = prefix === undefined ? 0 : this.#keyCount;
    let written = `*${args.length + 1}\r\n$${name.length}\r\n${name}\r\n`;
    for (let i = 0; i < args.length; i++) {
      const arg = args[i] as string | number;
      const text = typeof arg === 'string' ? arg : String(arg);
      written +=
        i < keyCount
          ? `$${(prefix as KeyPrefix).bytes + Buffer.byteLength(text)}\r\n${(prefix as KeyPrefix).text}${text}\r\n`
          : `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
    }
    return written;
  }
}

/**
 * The standalone client the backend makes for itself. Its commands leave in the order they are made: the
 * DirectCommands of a tick wait for the tick's end (see WriteBatcher), so whatever ioredis is about to write
 * first lets them go ahead (`beforeSend`) — a read the backend sends through ioredis after a write it sent
 * directly must find that write done. Nothing else writes to it: a caller's client, which its owner may use
 * between two of our calls, never takes DirectCommands.
 */
export class OwnRedis extends Redis {
  /** Called as ioredis is about to write a command of its own. */
  beforeSend: (() => void) | undefined;

  override sendCommand(command: Command, stream?: Parameters<Redis['sendCommand']>[1]): unknown {
    this.beforeSend?.();
    return super.sendCommand(command, stream);
  }
}

/**
 * Lets a {@link ReplyReader} read the replies on each connection the client makes from now on, ahead of
 * ioredis's parser: ioredis's listener for the socket's data becomes where the reader passes on what is not a
 * DirectCommand's. The client emits `connect` in the tick it made the listener, before any reply can arrive;
 * a connection already made is left to ioredis (its parser may be in the middle of a reply), and so is one
 * whose socket has any other listener for its data, which ioredis adds only for options that rule out
 * DirectCommands.
 */
export function readDirectReplies(client: OwnRedis): void {
  client.on('connect', () => {
    const stream = client.stream;
    const listeners = stream.listeners('data');
    if (listeners.length !== 1) return;
    const parse = listeners[0] as (bytes: Buffer) => void;
    // The queue is read each time, as ioredis's own reply handler reads it.
    const route: ReplyRoute = {
      nextDirect() {
        const command = client.commandQueue.peekFront()?.command;
        return command instanceof DirectCommand ? command.values : -1;
      },
      answerNext(reply) {
        // nextDirect has just found a DirectCommand at the head.
        ((client.commandQueue.shift() as QueuedItem).command as unknown as DirectCommand).answer(reply);
      },
      passOn: parse,
    };
    stream.removeListener('data', parse);
    stream.prependListener('data', new ReplyReader(route).read);
  });
}

/**
 * Whether the backend may write DirectCommands to a client at all: one of its own, as it made it — `redis`
 * options can ask ioredis to resend a command itself (`autoResendUnfulfilledCommands`, a `reconnectOnError`
 * that answers 2) or to arm a timer as it writes (`socketTimeout`); such a client is left to ioredis.
 */
export function takesDirectCommands(client: Client): client is OwnRedis {
  if (!(client instanceof OwnRedis)) return false;
  const { autoResendUnfulfilledCommands, reconnectOnError, socketTimeout } = client.options;
  return (
    autoResendUnfulfilledCommands === false &&
    socketTimeout === undefined &&
    (reconnectOnError == null || reconnectOnError === reconnectOnReadOnly)
  );
}

/** Through Sentinel, an old master turned replica refuses writes with READONLY: reconnect, to the new one. */
export const reconnectOnReadOnly = (error: Error): boolean => error.message.startsWith('READONLY');

/**
 * Whether a command may be written to the client's socket directly now: the client is ready (and not in
 * subscriber mode, which keeps the status), and no one watches ioredis's commands — through ioredis's own
 * tracing channel (Datadog's and Sentry's tracers use it), or by wrapping `sendCommand` (OpenTelemetry's
 * ioredis instrumentation does, with shimmer, which marks its wrappers `__wrapped`). Then ioredis sends them,
 * so that every command is seen. Every other case goes through `sendCommand`, which knows them all.
 */
export function writesDirectly(client: OwnRedis): boolean {
  return (
    client.status === 'ready' &&
    !(client.condition as { subscriber: unknown }).subscriber &&
    client.stream.writable &&
    ioredisTracing.hasSubscribers !== true &&
    (Redis.prototype.sendCommand as { __wrapped?: unknown }).__wrapped === undefined
  );
}

/** ioredis's own tracing of its commands (diagnostics_channel), which OpenTelemetry's instrumentations use. */
const ioredisTracing = tracingChannel('ioredis:command');

/**
 * Queues commands just written to the client's socket for their replies, in the order written, as ioredis
 * queues its own (an item has a `stream` only for a pipeline's commands).
 */
export function awaitReplies(client: Redis, commands: readonly DirectCommand[]): void {
  const queue = client.commandQueue;
  const { select } = client.condition as { select: number };
  for (let i = 0; i < commands.length; i++) {
    queue.push({ command: commands[i] as unknown as QueuedCommand, select } as QueuedItem);
  }
}

type QueuedItem = Parameters<Redis['commandQueue']['push']>[0];
type QueuedCommand = QueuedItem['command'];

/** Replies as callers take them: text for Buffers, also inside MGET's array (decoded in place). */
function decoded(reply: unknown): unknown {
  if (reply instanceof Buffer) return reply.toString();
  if (Array.isArray(reply)) {
    for (let i = 0; i < reply.length; i++) {
      const item: unknown = reply[i];
      if (item instanceof Buffer) reply[i] = item.toString();
    }
  }
  return reply;
}
