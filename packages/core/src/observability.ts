import { channel } from 'node:diagnostics_channel';
import type { CoherenceMode, OperationName } from './cache-backend.js';
import type { CacheErrorCode } from './cache-error.js';

/*
 * The observability seam: every operation, and every change of a backend's health, is published on a
 * `node:diagnostics_channel` channel. Nothing is built or sent unless something subscribes, so an L1 hit pays
 * one `hasSubscribers` check. Metrics, traces and logs are written on top of these channels, in other packages.
 */

/** Which tier answered a read: the in-process one, the shared one, or none (a miss). */
export type Tier = 'l1' | 'l2' | 'none';

/** One finished operation, published on {@link OPERATION_CHANNEL}. */
export interface OperationMessage {
  /** The backend's name: `memory`, `redis`, `tiered`. */
  backend: string;
  operation: OperationName;
  /** The key as the caller gave it, for operations on one key. */
  key: string | undefined;
  /**
   * `hit` or `miss` for lookups of one key, `stale` for a hit answered with a copy that may be out of date
   * (the source could not be asked, or a getOrSet loader failed within grace), `ok` for anything else that
   * succeeded, `error` otherwise (see `code`). A getMany is `ok`: its per-key hits and misses are in `hits`
   * and `misses`.
   */
  outcome: 'hit' | 'miss' | 'stale' | 'ok' | 'error';
  /** For lookups: the tier that answered. For getMany, the tier of its slowest part. */
  tier: Tier | undefined;
  /** Keys found and not found, for lookups (1 and 0 for a hit of one key). */
  hits: number;
  misses: number;
  code: CacheErrorCode | undefined;
  /** Milliseconds from the call to its answer. */
  durationMs: number;
  /** For a `stale` answer of one key: how old the copy was, in ms (since it was stored or read from the source). */
  ageMs?: number | undefined;
}

/** A change of a backend's health or coherence, published on {@link EVENT_CHANNEL}. */
export type BackendEvent =
  | { backend: string; type: 'breaker'; state: 'open' | 'half-open' | 'closed' }
  /** The change feed started or stopped hearing changes. */
  | { backend: string; type: 'feed'; state: 'armed' | 'lost'; reason: string | undefined }
  /** The L1 was emptied because it could no longer be trusted. */
  | { backend: string; type: 'l1-emptied'; reason: string }
  /** Keys dropped from L1 because someone changed them (`count` keys; `all` for a flush or a pattern). */
  | { backend: string; type: 'invalidation'; count: number | 'all' }
  /**
   * How a tiered cache keeps its L1 coherent, when first decided and whenever it changes; `reason` says why
   * (what the server answered, or the option that asked for it).
   */
  | { backend: string; type: 'coherence'; mode: CoherenceMode; reason: string }
  /** A value a getOrSet loaded could not be stored (it was answered all the same); `reason` says why. */
  | { backend: string; type: 'not-stored'; key: string; reason: string };

/** Channel name of {@link OperationMessage}s. */
export const OPERATION_CHANNEL = 'tiercache:operation';
/** Channel name of {@link BackendEvent}s. */
export const EVENT_CHANNEL = 'tiercache:event';

const operationChannel = channel(OPERATION_CHANNEL);
const eventChannel = channel(EVENT_CHANNEL);

/** Publishes `event` when anyone listens; builds nothing otherwise (the event is made by `make`). */
export function publishEvent(make: () => BackendEvent): void {
  if (eventChannel.hasSubscribers) eventChannel.publish(make());
}

/** When an observed call started, or 0 when nobody listens (so nothing is measured or published). */
export function observationStart(): number {
  return operationChannel.hasSubscribers ? performance.now() : 0;
}

/** Publishes one finished operation that started at `started` (from {@link observationStart}). */
export function publishOperation(
  backend: string,
  operation: OperationName,
  key: string | undefined,
  outcome: OperationMessage['outcome'],
  tier: Tier | undefined,
  hits: number,
  misses: number,
  code: CacheErrorCode | undefined,
  started: number,
  ageMs?: number,
): void {
  if (!operationChannel.hasSubscribers) return;
  const message: OperationMessage = {
    backend,
    operation,
    key,
    outcome,
    tier,
    hits,
    misses,
    code,
    durationMs: performance.now() - started,
  };
  if (ageMs !== undefined) message.ageMs = ageMs;
  operationChannel.publish(message);
}
