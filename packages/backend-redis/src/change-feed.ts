import { randomUUID } from 'node:crypto';
import {
  CacheError,
  type CacheResult,
  type ChangeEvent,
  type ChangeFeed,
  errorMessage,
  type FeedHearing,
  type FeedSubscribeOptions,
  type KeyChange,
  readKeyChange,
  withTimeout,
} from '@tiercache/core';
import type { Cluster, Redis } from 'ioredis';
import { Err, Ok, type Result } from 'ts-results-es';
import { changeChannel, decodeMessage, encodeChange, encodeHeartbeat } from './change-message.js';
import { isCluster } from './cluster-slots.js';
import { type ArmFailure, INVALIDATION_CHANNEL, type MessagePayload, TrackingLink } from './key-tracking.js';
import { NAME } from './redis-errors.js';
import { ASK_TRACKING_AGAIN_EVERY, trackingAllowedNow } from './tracking-refusal.js';

export interface ChangeFeedSetup {
  /** The backend's client: tracking is switched on for it (for each of its masters in a Cluster). */
  client: Redis | Cluster;
  keyPrefix: string;
  tracking: boolean;
  heartbeatMs: number;
  /** Longest wait for any one command. */
  timeoutMs: number;
  /** Whether the backend's `close()` closes `client`; if not, the feed switches tracking off on it. */
  closesClient: boolean;
  /** Milliseconds before reconnect attempt number `attempt` (from 1). */
  retryDelay(attempt: number): number;
  /** Runs `exchange` as the backend runs its own calls: bounded in time, refused once closed, never rejecting. */
  send<T>(exchange: () => Promise<T>): Promise<Result<T, CacheError>>;
}

/**
 * The Redis backend's change feed. Two sources feed it:
 *
 * - the channel `tiercache:changes:<keyPrefix>`, where `announce` publishes for the other feeds of the same
 *   prefix (each feed has a random origin id and skips its own messages);
 * - with `tracking`, Redis's invalidation messages for keys under the prefix, redirected from the backend's
 *   connection to a RESP2 subscriber connection of the feed.
 *
 * Any lost connection reports `lost` at once; the feed then re-arms (subscribes again, switches tracking on
 * again for the new connection ids) and reports `armed` once it has heard its own heartbeat come back.
 *
 * Whether tracking is possible is only known by asking: each arming tries it, and a permanent refusal (an ACL,
 * a command the server lacks or renamed away: see classifyTrackingFailure) arms the feed on the channel alone
 * (`hears: 'announced'`, the refusal in the `armed` event's `reason`). It tries tracking again after the next
 * loss, and, so that an ACL fixed meanwhile is noticed, every ASK_TRACKING_AGAIN_EVERY heartbeats: a harmless
 * question (trackingAllowedNow) that, once answered yes, reports `lost` and re-arms with tracking. Should that
 * arming be refused all the same, it stops asking until the next loss. A passing failure is retried with the `reconnect` back-off (jittered), capped at one heartbeat.
 */
export class RedisChangeFeed implements ChangeFeed {
  readonly #setup: ChangeFeedSetup;
  readonly #origin = randomUUID();
  readonly #channel: string;
  readonly #subscriptions = new Set<{ listener: (event: ChangeEvent) => void }>();
  #links: TrackingLink[] = [];
  #started = false;
  #closed = false;
  #armed = false;
  /** Whether the current arming tries tracking (the option, unless refused since the last loss or declined). */
  #tracking: boolean;
  /** A subscriber asked for announced changes only: tracking is never switched on. */
  #announcedOnly = false;
  /** What the server answered when it last refused tracking, since the last loss. */
  #refusal: string | undefined;
  /** Heartbeats while armed with tracking refused; every ASK_TRACKING_AGAIN_EVERY-th asks again. */
  #refusedTicks = 0;
  /** The current arming was started because the server said tracking may be allowed now. */
  #askedAgain = false;
  /** The server said so, and refused all the same: do not ask again until the next loss. */
  #stopAsking = false;
  /** Whether the arming loop runs. */
  #arming = false;
  /** Bumped on every loss: an arming attempt that sees it change starts over. */
  #losses = 0;
  #heartbeat: NodeJS.Timeout | undefined;
  #checking = false;
  #sentSeq = 0;
  #lastHeardAt = 0;
  #lastTickAt = 0;
  /** The arming loop waits for this heartbeat to come back. */
  #probe: { seq: number; heard: () => void } | undefined;
  /** Cuts the arming loop's wait between attempts short. */
  #wake: (() => void) | undefined;

  readonly #onTopology = () => {
    if (this.#started && !this.#planMatches(this.#plan())) this.#lose("the Cluster's masters changed");
  };

  constructor(setup: ChangeFeedSetup) {
    this.#setup = setup;
    this.#channel = changeChannel(setup.keyPrefix);
    this.#tracking = setup.tracking;
  }

  get armed(): boolean {
    return this.#armed;
  }

  get hears(): FeedHearing {
    if (!this.#armed) return 'nothing';
    return this.#tracking ? 'all' : 'announced';
  }

  subscribe(listener: (event: ChangeEvent) => void, options?: FeedSubscribeOptions): () => void {
    if (this.#closed || typeof listener !== 'function') return () => {};
    const subscription = { listener };
    this.#subscriptions.add(subscription);
    if (options?.hears === 'announced' && !this.#announcedOnly) {
      this.#announcedOnly = true;
      if (this.#tracking && this.#started) this.#lose('a subscriber asked for announced changes only');
      this.#tracking = false;
    }
    this.#start();
    return () => {
      this.#subscriptions.delete(subscription);
    };
  }

  async announce(change: KeyChange): CacheResult<void> {
    const checked = readKeyChange(NAME, change);
    if (checked instanceof CacheError) return new Err(checked);
    if (checked.type === 'keys' && checked.keys.length === 0) return new Ok(undefined);
    const message = encodeChange(this.#origin, checked);
    const reply = await this.#setup.send(() => this.#setup.client.publish(this.#channel, message));
    return reply.map(() => undefined);
  }

  /** Stops the feed and closes its connections; reports a last `lost` if it was armed. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    this.#wake?.();
    this.#probe?.heard();
    if (this.#armed) {
      this.#armed = false;
      this.#emit({ type: 'lost', reason: 'the backend was closed' });
    }
    this.#subscriptions.clear();
    const { client, closesClient } = this.#setup;
    if (isCluster(client)) {
      for (const event of TOPOLOGY_EVENTS) client.off(event, this.#onTopology);
    }
    const links = this.#links;
    this.#links = [];
    await Promise.all(links.map((link) => link.close(!closesClient)));
  }

  #start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    const { client, heartbeatMs } = this.#setup;
    if (isCluster(client)) {
      for (const event of TOPOLOGY_EVENTS) client.on(event, this.#onTopology);
    }
    this.#lastTickAt = Date.now();
    this.#heartbeat = setInterval(() => {
      this.#tick().catch(() => undefined);
    }, heartbeatMs);
    this.#heartbeat.unref();
    this.#rearm();
  }

  /** Reports a loss (once, if the feed was armed) and has the feed re-armed. */
  #lose(reason: string): void {
    if (this.#closed) return;
    this.#losses++;
    // A new connection may be allowed what the old one was refused (a changed ACL, a failover to another
    // server): ask again.
    this.#tracking = this.#setup.tracking && !this.#announcedOnly;
    this.#refusal = undefined;
    this.#refusedTicks = 0;
    if (!this.#askedAgain) this.#stopAsking = false;
    if (this.#armed) {
      this.#armed = false;
      this.#emit({ type: 'lost', reason });
    }
    this.#rearm();
  }

  #rearm(): void {
    this.#wake?.();
    if (this.#arming || this.#closed || !this.#started) return;
    this.#arming = true;
    this.#armLoop().catch(() => {
      this.#arming = false;
    });
  }

  /** Tries to arm until it succeeds with no loss meanwhile, or the feed is closed. */
  async #armLoop(): Promise<void> {
    let attempt = 0;
    while (!this.#closed) {
      const losses = this.#losses;
      let failure: ArmFailure | undefined;
      try {
        failure = await this.#armOnce();
      } catch (error) {
        failure = { reason: errorMessage(error), refused: false };
      }
      if (this.#closed) break;
      if (failure === undefined && losses === this.#losses) {
        this.#arming = false;
        this.#armed = true;
        this.#askedAgain = false;
        this.#lastHeardAt = Date.now();
        const refusal = this.#tracking ? undefined : this.#refusal;
        this.#emit(refusal === undefined ? { type: 'armed' } : { type: 'armed', reason: refusal });
        return;
      }
      if (failure?.refused && this.#tracking && losses === this.#losses) {
        // Asking again would be refused again: hear the channel alone, at once.
        this.#tracking = false;
        this.#refusal = failure.reason;
        if (this.#askedAgain) this.#stopAsking = true;
        continue;
      }
      if (failure !== undefined) {
        attempt++;
        await this.#sleep(Math.min(this.#setup.retryDelay(attempt), this.#setup.heartbeatMs));
      }
    }
    this.#arming = false;
  }

  async #armOnce(): Promise<ArmFailure | undefined> {
    const plan = this.#plan();
    if (plan.length === 0) return { reason: 'no Cluster master is known yet', refused: false };
    this.#syncLinks(plan);
    const failures = await Promise.all(this.#links.map((link) => link.arm()));
    const failure = failures.find((reason) => reason !== undefined);
    if (failure !== undefined) {
      if (failure.refused) return failure;
      // A master that cannot be armed may have failed over: ask for the Cluster's masters now, rather than at
      // ioredis's next periodic refresh. A change of masters changes the plan (see #onTopology).
      const { client } = this.#setup;
      if (isCluster(client)) client.refreshSlotsCache();
      return failure;
    }
    // Hearing our own heartbeat proves the whole path: publish, server, subscriber connection.
    const seq = ++this.#sentSeq;
    const heard = new Promise<void>((resolve) => {
      this.#probe = { seq, heard: resolve };
    });
    this.#publishHeartbeat(seq);
    const bound = Math.max(2 * this.#setup.heartbeatMs, this.#setup.timeoutMs);
    try {
      const cameBack = await withTimeout(
        heard.then(() => true),
        bound,
        () => false,
      );
      if (cameBack) return undefined;
      // The subscriber that carries the channel may be dead without knowing it.
      this.#links[0]?.renew();
      return { reason: `its own heartbeat did not come back within ${bound} ms`, refused: false };
    } finally {
      this.#probe = undefined;
    }
  }

  /**
   * The links the feed needs now: one on the backend's connection; in a Cluster one per master (each reports
   * only its own keys), or just one without tracking. The first carries the feed's channel.
   */
  #plan(): Array<{ data: Redis; channels: string[] }> {
    const { client } = this.#setup;
    const tracking = this.#tracking;
    if (!isCluster(client)) return [{ data: client, channels: [this.#channel] }];
    const masters = client.nodes('master').sort((a, b) => addressOf(a).localeCompare(addressOf(b)));
    return (tracking ? masters : masters.slice(0, 1)).map((data, i) => ({
      data,
      channels: i === 0 ? [this.#channel] : [],
    }));
  }

  #planMatches(plan: Array<{ data: Redis; channels: string[] }>): boolean {
    return (
      plan.length === this.#links.length &&
      plan.every(({ data, channels }, i) => {
        const link = this.#links[i];
        return link?.data === data && link.channels.join('\n') === channels.join('\n');
      })
    );
  }

  /** Keeps the links that match `plan`, closes the others and makes the missing ones. */
  #syncLinks(plan: Array<{ data: Redis; channels: string[] }>): void {
    for (const link of this.#links) link.tracking = this.#tracking;
    if (this.#closed || this.#planMatches(plan)) return;
    const unused = new Set(this.#links);
    this.#links = plan.map(({ data, channels }) => {
      const kept = [...unused].find(
        (link) => link.data === data && link.channels.join('\n') === channels.join('\n'),
      );
      if (kept) {
        unused.delete(kept);
        return kept;
      }
      return this.#makeLink(data, channels);
    });
    // A link whose master is gone has nothing to switch off; one whose channels changed is replaced above.
    for (const link of unused) void link.close(false);
  }

  #makeLink(data: Redis, channels: string[]): TrackingLink {
    const { keyPrefix, timeoutMs, retryDelay } = this.#setup;
    return new TrackingLink({
      data,
      tracking: this.#tracking,
      prefix: keyPrefix,
      channels,
      timeoutMs,
      connectionName: `tiercache-changes-${this.#origin}`,
      retryDelay,
      onMessage: (channel, payload) => this.#onMessage(channel, payload),
      onLost: (reason) => this.#lose(reason),
      // A connection that is ready again was lost before, and that loss started the re-arming already. It does
      // not cut the arming loop's back-off short: a server that drops the connection as soon as it is made
      // would otherwise be retried in a tight loop.
      onReady: () => {
        if (!this.#armed && !this.#arming) this.#rearm();
      },
    });
  }

  /** Every heartbeat: judge the last ones, send the next, and check each link. */
  async #tick(): Promise<void> {
    const { heartbeatMs } = this.#setup;
    const now = Date.now();
    // A tick that comes late means this process was too busy to read its heartbeats either: do not judge.
    const onTime = now - this.#lastTickAt < 1.5 * heartbeatMs;
    this.#lastTickAt = now;
    if (!this.#armed || this.#closed) return;
    const silentFor = now - this.#lastHeardAt;
    if (onTime && silentFor > 2 * heartbeatMs) {
      this.#lose(`no heartbeat came back for ${silentFor} ms`);
      this.#links[0]?.renew();
      return;
    }
    this.#publishHeartbeat(++this.#sentSeq);
    if (this.#refusal !== undefined && !this.#stopAsking) {
      if (++this.#refusedTicks % ASK_TRACKING_AGAIN_EVERY === 0) void this.#askTrackingAgain();
    }
    if (this.#checking) return;
    this.#checking = true;
    const losses = this.#losses;
    try {
      const problems = await Promise.all(this.#links.map((link) => link.check(2 * heartbeatMs)));
      const problem = problems.find((reason) => reason !== undefined);
      // A loss or a re-arm meanwhile makes the answers stale.
      if (problem !== undefined && losses === this.#losses) this.#lose(problem);
    } finally {
      this.#checking = false;
    }
  }

  /** Asks whether the server allows tracking now (an ACL fixed meanwhile); if so, re-arms with it. */
  async #askTrackingAgain(): Promise<void> {
    const link = this.#links[0];
    const losses = this.#losses;
    if (link === undefined || !(await trackingAllowedNow(link.data, this.#setup.timeoutMs))) return;
    if (this.#closed || losses !== this.#losses || this.#refusal === undefined) return;
    this.#askedAgain = true;
    this.#lose('Redis may allow key tracking now: asking for it again');
  }

  #publishHeartbeat(seq: number): void {
    const { client, timeoutMs } = this.#setup;
    const published = client.publish(this.#channel, encodeHeartbeat(this.#origin, seq));
    withTimeout(published, timeoutMs, () => undefined).catch(() => undefined);
  }

  #onMessage(channel: string, payload: MessagePayload): void {
    if (channel === INVALIDATION_CHANNEL) {
      this.#onInvalidation(payload);
      return;
    }
    if (channel !== this.#channel || payload === null || Array.isArray(payload)) return;
    const message = decodeMessage(payload.toString());
    if (message === undefined) return;
    if (message.origin !== this.#origin) {
      if ('change' in message) this.#emit(message.change);
      return;
    }
    if ('heartbeat' in message) {
      this.#lastHeardAt = Date.now();
      if (this.#probe && message.heartbeat >= this.#probe.seq) this.#probe.heard();
    }
  }

  /** Redis names the changed keys (with the prefix), or sends null when a database was flushed. */
  #onInvalidation(payload: MessagePayload): void {
    if (payload === null) {
      this.#emit({ type: 'all' });
      return;
    }
    const prefix = this.#setup.keyPrefix;
    const keys: string[] = [];
    for (const raw of Array.isArray(payload) ? payload : [payload]) {
      const key = raw.toString();
      if (key.length > prefix.length && key.startsWith(prefix)) keys.push(key.slice(prefix.length));
    }
    if (keys.length > 0) this.#emit({ type: 'keys', keys });
  }

  #emit(event: ChangeEvent): void {
    for (const { listener } of [...this.#subscriptions]) {
      try {
        listener(event);
      } catch {
        // A listener that throws must stop neither the others nor the feed.
      }
    }
  }

  /** Waits `ms`, or less if the feed is woken (a loss, a reconnect, close). */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.#wake === done) this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.#wake = done;
    });
  }
}

const TOPOLOGY_EVENTS = ['refresh', '+node', '-node', 'ready'] as const;

function addressOf(node: Redis): string {
  return `${node.options.host}:${node.options.port}`;
}
