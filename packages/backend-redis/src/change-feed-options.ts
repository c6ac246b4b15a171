import type { ChangeFeed } from '@tiercache/core';

/**
 * How the backend's {@link ChangeFeed} (`backend.changes`) listens. The feed costs nothing until its first
 * `subscribe()`: then it opens one more connection (one per master in a Cluster) and starts its heartbeat.
 *
 * Announcements travel on the channel `tiercache:changes:<keyPrefix>`, as JSON such as
 * `{"origin":"<feed id>","type":"keys","keys":["user:1"]}`; backends with the same key prefix hear each other.
 *
 * In a Cluster, each master reports only its own keys, so the feed keeps one subscriber connection per master
 * and switches tracking on for the Cluster's connection to that master; the channel rides on the subscriber
 * of the first master. A change of masters (a failover, a resharding) reports `lost` and re-arms on the new
 * ones.
 *
 * The feed needs `SUBSCRIBE` and `PUBLISH`, and for tracking `CLIENT` (mind ACLs). Where Redis refuses
 * tracking for good (`NOPERM`, an unknown command or subcommand, a syntax error: managed services, ACL users,
 * `CLIENT` renamed away), the feed arms on its channel alone (`hears: 'announced'`, the refusal in the `armed`
 * event's `reason`), and asks again after its next loss. Other failures are retried with the `reconnect`
 * back-off, jittered, and never more often than that.
 */
export interface RedisChangeFeedOptions {
  /**
   * Also hear writes made outside tiercache — `redis-cli`, programs in other languages, expiry, eviction,
   * FLUSHDB — through Redis's server-assisted client-side caching (`CLIENT TRACKING … BCAST PREFIX
   * <keyPrefix> NOLOOP`, Redis >= 6). Tracking is switched on for the backend's own connection, so writes made
   * through this backend are not reported back to it — except `increment` and `decrement`, which run as a Lua
   * script: Redis credits a script's writes to its script client, and NOLOOP does not recognise them.
   * With `false`, the feed hears only what other tiercache backends `announce`.
   *
   * With a `client` you pass in, tracking is switched on for your client (and off again by `close()` when you
   * keep the client): use one tracking backend per client, since a connection tracks for one feed only.
   * @default true
   */
  tracking?: boolean;
  /**
   * Milliseconds between heartbeats. Each one is published on the feed's channel and must come back to the
   * feed's own connection; with tracking, Redis is also asked whether it still tracks. Two missed heartbeats,
   * or a broken tracking redirect, report `lost` and re-arm the feed, so a silent loss (a frozen server, a
   * dropped connection) is noticed within about two to three heartbeats.
   * @default 1000
   */
  heartbeatMs?: number;
}

const DEFAULT_HEARTBEAT_MS = 1000;
const MIN_HEARTBEAT_MS = 10;

/** Checks the `changeFeed` options, throwing with how to fix them, and fills in the defaults. */
export function resolveChangeFeedOptions(options: RedisChangeFeedOptions | undefined): {
  tracking: boolean;
  heartbeatMs: number;
} {
  const { tracking = true, heartbeatMs = DEFAULT_HEARTBEAT_MS } = options ?? {};
  if (typeof tracking !== 'boolean') {
    throw new TypeError(
      `[tiercache:redis] changeFeed.tracking must be true or false, got ${typeof tracking}`,
    );
  }
  if (!Number.isSafeInteger(heartbeatMs) || heartbeatMs < MIN_HEARTBEAT_MS) {
    throw new RangeError(
      `[tiercache:redis] changeFeed.heartbeatMs must be a whole number of milliseconds, at least ${MIN_HEARTBEAT_MS}, got ${String(heartbeatMs)}`,
    );
  }
  return { tracking, heartbeatMs };
}
