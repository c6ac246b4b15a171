import { errorMessage, withTimeout } from '@tiercache/core';
import type { Redis } from 'ioredis';
import { disconnectTimeoutFor, endConnection } from './connection-end.js';
import { classifyTrackingFailure } from './tracking-refusal.js';

/** Where Redis sends invalidation messages to a RESP2 connection that a tracking connection redirects to. */
export const INVALIDATION_CHANNEL = '__redis__:invalidate';

/**
 * The subscriber speaks RESP2, whichever ioredis major made `data`. ioredis 6 speaks RESP3 by default and drops
 * RESP3's invalidation pushes, while over RESP2 they arrive as pub/sub messages; its `replyMapping` must then be
 * `'legacy'` (a caller's ioredis 6 client may have `'resp3'`, which RESP2 refuses). ioredis 5 speaks only RESP2
 * and ignores both options, which its types do not declare: hence a spread, which TypeScript does not check for
 * unknown properties.
 */
const SUBSCRIBER_PROTOCOL = { protocol: 2, replyMapping: 'legacy' } as const;

/**
 * Why a link could not be armed. `refused`: the server refused key tracking for good (an ACL, a command it
 * lacks or renamed away: see classifyTrackingFailure); the link still works without tracking.
 */
export interface ArmFailure {
  reason: string;
  refused: boolean;
}

/** The payload of a pub/sub message as ioredis hands it over raw (`messageBuffer`). */
export type MessagePayload = Buffer | Buffer[] | null;

export interface TrackingLinkOptions {
  /**
   * The connection whose keyspace is tracked: the one the backend sends its commands on, so that NOLOOP skips
   * the backend's own writes.
   */
  data: Redis;
  /** Whether to switch on `CLIENT TRACKING` for `data`; without it the link only listens to `channels`. */
  tracking: boolean;
  /** Key prefix tracked in broadcast mode, as Redis names keys; `''` tracks every key. */
  prefix: string;
  /** Channels the subscriber listens to besides the invalidation channel. */
  channels: readonly string[];
  /** Longest wait for any one command. */
  timeoutMs: number;
  /** The subscriber's connection name (`CLIENT SETNAME`), unique to the feed, to recognise it in `CLIENT LIST`. */
  connectionName: string;
  /** Milliseconds before the subscriber's reconnect attempt number `attempt` (from 1). */
  retryDelay(attempt: number): number;
  onMessage(channel: string, payload: MessagePayload): void;
  /** A connection of the link went down: changes go unheard from now on. */
  onLost(reason: string): void;
  /** A connection of the link is (again) ready: time to arm it. */
  onReady(): void;
}

/**
 * One data connection and the RESP2 subscriber connection its invalidation messages are redirected to (the
 * subscriber also takes the feed's own channel, where asked). A Redis Cluster needs one per master: each
 * master reports only its own keys.
 *
 * The link never throws and never rejects; what went wrong comes back as a reason.
 */
export class TrackingLink {
  readonly data: Redis;
  readonly channels: readonly string[];
  /** Whether the link switches tracking on: the feed turns it off when the server refuses tracking. */
  tracking: boolean;
  readonly #options: TrackingLinkOptions;
  readonly #subscriber: Redis;
  /** Bumped whenever the subscriber connection closes: a subscription made on an older one is gone. */
  #epoch = 0;
  /**
   * The subscriber's client id, once it is subscribed on its current connection with the invalidation channel;
   * `undefined` when it subscribed without tracking.
   */
  #subscriberId: number | undefined;
  #subscribed = false;
  /** `false` once the server refused `CLIENT TRACKINGINFO` or `CLIENT LIST ID` (Redis < 6.2, or an ACL). */
  #canInspect = true;
  #lastError: Error | undefined;
  #closed = false;

  readonly #onSubscriberError = (error: Error) => {
    this.#lastError = error;
  };
  readonly #onSubscriberClose = () => {
    this.#epoch++;
    this.#subscribed = false;
    this.#subscriberId = undefined;
    if (!this.#closed) this.#options.onLost(`the invalidation connection closed${this.#lastErrorText()}`);
  };
  readonly #onDataClose = () => {
    if (!this.#closed && this.tracking) {
      // Redis keeps tracking state per connection: the new connection tracks nothing until it is re-armed.
      this.#options.onLost('the data connection closed, and its tracking with it');
    }
  };
  readonly #onReady = () => {
    if (!this.#closed) this.#options.onReady();
  };
  readonly #onSubscriberReady = () => {
    this.#lastError = undefined;
    this.#onReady();
  };
  readonly #onMessageBuffer = (channel: Buffer | string, payload: MessagePayload) => {
    if (!this.#closed) this.#options.onMessage(channel.toString(), payload);
  };

  constructor(options: TrackingLinkOptions) {
    this.#options = options;
    this.data = options.data;
    this.channels = options.channels;
    this.tracking = options.tracking;
    this.#subscriber = options.data.duplicate({
      ...SUBSCRIBER_PROTOCOL,
      // The subscriber gets a new client id on each connection: it must be armed again, not just resubscribed.
      autoResubscribe: false,
      autoResendUnfulfilledCommands: false,
      enableOfflineQueue: false,
      enableAutoPipelining: false,
      lazyConnect: true,
      readOnly: false,
      connectionName: options.connectionName,
      // Each command it sends has a bound of its own (`withTimeout`): PING waits for two heartbeats, not one
      // timeout.
      commandTimeout: undefined,
      retryStrategy: (attempt: number) => options.retryDelay(attempt),
      disconnectTimeout: disconnectTimeoutFor(options.timeoutMs),
    });
    // Never removed: a late error of a closed subscriber must not become an unhandled 'error' event.
    this.#subscriber.on('error', this.#onSubscriberError);
    this.#subscriber.on('close', this.#onSubscriberClose);
    this.#subscriber.on('ready', this.#onSubscriberReady);
    // `message` would join an array payload with commas; `messageBuffer` hands over the keys one by one.
    this.#subscriber.on('messageBuffer', this.#onMessageBuffer);
    this.data.on('close', this.#onDataClose);
    this.data.on('ready', this.#onReady);
    this.#subscriber.connect().catch(() => undefined);
  }

  /**
   * Makes the link hear changes: subscribes on the current subscriber connection (when not already), then
   * switches tracking on for `data`, redirected to the subscriber. Resolves to why it could not, or
   * `undefined` once done.
   */
  async arm(): Promise<ArmFailure | undefined> {
    const subscriber = this.#subscriber;
    if (subscriber.status !== 'ready') {
      return passing(`the invalidation connection is ${subscriber.status}${this.#lastErrorText()}`);
    }
    if (this.tracking && this.data.status !== 'ready') {
      // A Cluster's connection to a master is made on its first command.
      if (this.data.status === 'wait') this.data.connect().catch(() => undefined);
      return passing(`the data connection is ${this.data.status}`);
    }
    if (this.tracking && this.#subscribed && this.#subscriberId === undefined) {
      // Subscribed without tracking (it was refused), and tracking is asked for again: the redirect needs the
      // id of a subscriber connection, which it cannot ask for in subscriber mode. Start over on a new one.
      subscriber.disconnect(true);
      return passing('the invalidation connection is made again, to track');
    }
    if (!this.#subscribed) {
      const { timeoutMs } = this.#options;
      const epoch = this.#epoch;
      let id: number | undefined;
      if (this.tracking) {
        // CLIENT ID first: a RESP2 connection in subscriber mode accepts nothing but (un)subscribe and PING.
        try {
          id = Number(await withTimeout(subscriber.client('ID'), timeoutMs, noAnswerWithin(timeoutMs)));
        } catch (error) {
          const text = `could not ask for the invalidation connection's id: ${errorMessage(error)}`;
          // An ACL without CLIENT, or CLIENT renamed away: the connection is fine, tracking is impossible.
          // Dropping the connection here would only reconnect, be refused again, and so on (a reconnect storm).
          if (classifyTrackingFailure(error) === 'permanent') return { reason: text, refused: true };
          if (epoch === this.#epoch) subscriber.disconnect(true);
          return passing(text);
        }
      }
      try {
        const channels = this.tracking ? [INVALIDATION_CHANNEL, ...this.channels] : [...this.channels];
        await withTimeout(subscriber.subscribe(...channels), timeoutMs, noAnswerWithin(timeoutMs));
        if (epoch !== this.#epoch) return passing('the invalidation connection closed while subscribing');
        this.#subscriberId = id;
        this.#subscribed = true;
      } catch (error) {
        // A half-done SUBSCRIBE leaves the connection in a mode we cannot know: start again on a new one.
        if (epoch === this.#epoch) subscriber.disconnect(true);
        return passing(`could not subscribe: ${errorMessage(error)}`);
      }
    }
    if (!this.tracking) return undefined;
    return this.#track(this.#subscriberId ?? 0);
  }

  async #track(redirect: number): Promise<ArmFailure | undefined> {
    const { data, prefix, timeoutMs, connectionName } = this.#options;
    const on = ['TRACKING', 'ON', 'REDIRECT', String(redirect), 'BCAST'];
    if (prefix !== '') on.push('PREFIX', prefix);
    on.push('NOLOOP');
    try {
      // ON fails on a connection that already tracks the prefix ("overlaps"), so OFF comes first.
      await withTimeout(
        Promise.all([data.call('CLIENT', 'TRACKING', 'OFF'), data.call('CLIENT', ...on)]),
        timeoutMs,
        noAnswerWithin(timeoutMs),
      );
    } catch (error) {
      const text = errorMessage(error);
      if (classifyTrackingFailure(error) === 'permanent') {
        return { reason: `could not switch tracking on: ${text}`, refused: true };
      }
      // The subscriber is on another server than `data` (one of them followed a failover first): move it.
      if (text.includes('does not exist')) this.#subscriber.disconnect(true);
      return passing(`could not switch tracking on: ${text}`);
    }
    if (!this.#canInspect) return undefined;
    try {
      // Client ids are counters of each server: make sure the redirect reaches our subscriber and not a client
      // of another server that happens to have the same id.
      const listed = String(
        await withTimeout(
          data.call('CLIENT', 'LIST', 'ID', String(redirect)),
          timeoutMs,
          noAnswerWithin(timeoutMs),
        ),
      );
      if (!listed.includes(` name=${connectionName} `)) {
        this.#subscriber.disconnect(true);
        return passing('tracking redirects to a client that is not the invalidation connection');
      }
    } catch (error) {
      if (!this.#noteUnsupported(error))
        return passing(`could not check the tracking redirect: ${errorMessage(error)}`);
    }
    return undefined;
  }

  /**
   * Checks, within `withinMs`, that the link still hears: the subscriber answers PING, and Redis still
   * tracks `data` with its redirect to the subscriber intact (`CLIENT TRACKINGINFO`, Redis >= 6.2). Resolves
   * to what is wrong, or `undefined`.
   */
  async check(withinMs: number): Promise<string | undefined> {
    const [pinged, info] = await Promise.all([
      withTimeout(this.#subscriber.ping(), withinMs, noAnswerWithin(withinMs)).then(
        () => undefined,
        (error: unknown) => {
          this.renew();
          return `the invalidation connection did not answer PING (${errorMessage(error)})`;
        },
      ),
      this.tracking && this.#canInspect
        ? withTimeout(this.data.call('CLIENT', 'TRACKINGINFO'), withinMs, noAnswerWithin(withinMs)).then(
            (reply) => this.#trackingProblem(reply),
            (error: unknown) => {
              // A slow answer says nothing about tracking: the heartbeat and PING judge liveness.
              this.#noteUnsupported(error);
              return undefined;
            },
          )
        : undefined,
    ]);
    return pinged ?? info;
  }

  /**
   * Starts the subscriber over on a new connection, for when it stopped answering: a connection can be dead
   * without knowing it (a dropped network path), and re-subscribing on it would change nothing.
   */
  renew(): void {
    if (!this.#closed && this.#subscriber.status === 'ready') this.#subscriber.disconnect(true);
  }

  #trackingProblem(reply: unknown): string | undefined {
    const info = readTrackingInfo(reply);
    if (info.flags.includes('off')) return 'Redis no longer tracks the data connection';
    if (info.flags.includes('broken_redirect')) return 'the tracking redirect is broken';
    if (this.#subscribed && info.redirect !== this.#subscriberId) {
      return `tracking redirects to client ${info.redirect}, not to the invalidation connection`;
    }
    return undefined;
  }

  /**
   * Whether `error` says the server lacks an inspection command (Redis < 6.2), or an ACL forbids it; if so,
   * stop using them: they only double-check what the heartbeat checks too.
   */
  #noteUnsupported(error: unknown): boolean {
    if (classifyTrackingFailure(error) !== 'permanent') return false;
    this.#canInspect = false;
    return true;
  }

  #lastErrorText(): string {
    return this.#lastError ? ` (${this.#lastError.message})` : '';
  }

  /**
   * Stops listening and closes the subscriber. With `stopTracking`, also switches tracking off on `data`,
   * which stays open (a caller's client): otherwise it would go on tracking into a redirect that is gone.
   */
  async close(stopTracking: boolean): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.data.off('close', this.#onDataClose);
    this.data.off('ready', this.#onReady);
    const subscriber = this.#subscriber;
    subscriber.off('messageBuffer', this.#onMessageBuffer);
    subscriber.off('ready', this.#onSubscriberReady);
    if (stopTracking && this.tracking && this.data.status === 'ready') {
      const off = this.data.call('CLIENT', 'TRACKING', 'OFF');
      await withTimeout(off, this.#options.timeoutMs, () => undefined).catch(() => undefined);
    }
    await endConnection(subscriber, this.#options.timeoutMs, false);
    subscriber.off('close', this.#onSubscriberClose);
  }
}

/** The fields of a `CLIENT TRACKINGINFO` reply, as a flat RESP2-style array or as a RESP3 map. */
function readTrackingInfo(reply: unknown): { flags: string[]; redirect: number } {
  const fields = new Map<string, unknown>();
  if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) fields.set(String(reply[i]), reply[i + 1]);
  } else if (reply instanceof Map) {
    for (const [name, value] of reply) fields.set(String(name), value);
  } else if (reply !== null && typeof reply === 'object') {
    for (const [name, value] of Object.entries(reply)) fields.set(name, value);
  }
  const flags = fields.get('flags');
  return {
    flags: Array.isArray(flags) ? flags.map(String) : [],
    redirect: Number(fields.get('redirect') ?? -1),
  };
}

/** A failure worth retrying. */
function passing(reason: string): ArmFailure {
  return { reason, refused: false };
}

/** The `onTimeout` of a command the link sends: it fails, saying it got no answer in time. */
function noAnswerWithin(ms: number): () => never {
  return () => {
    throw new Error(`no answer within ${ms} ms`);
  };
}
