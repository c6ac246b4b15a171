import type { BackendEvent, OperationMessage } from '@tiercache/core';

/*
 * Every name this package emits, and how each message of the seam maps onto them: one table for outcomes, one
 * for events, one for the backends whose calls leave the process. A new outcome, event or backend is one line
 * here. OpenTelemetry's semantic conventions have no cache metrics, so the names live under `tiercache.` and
 * follow the general rules: lower case, dot-separated, units in the unit field (UCUM: `s`, `By`, `{lookup}`),
 * `.count` for a number of things held now, `error.type` for the error, and durations in seconds as
 * `db.client.operation.duration` has them.
 */

export const METRIC = {
  operationDuration: 'tiercache.operation.duration',
  lookups: 'tiercache.lookups',
  entryCount: 'tiercache.entry.count',
  memoryUsage: 'tiercache.memory.usage',
  breakerState: 'tiercache.breaker.state',
  breakerTransitions: 'tiercache.breaker.transitions',
  feedState: 'tiercache.feed.state',
  feedTransitions: 'tiercache.feed.transitions',
  coherenceMode: 'tiercache.coherence.mode',
  invalidations: 'tiercache.invalidations',
  notStored: 'tiercache.getorset.not_stored',
} as const;

export const ATTRIBUTE = {
  backend: 'tiercache.backend',
  operation: 'tiercache.operation',
  outcome: 'tiercache.outcome',
  tier: 'tiercache.tier',
  lookupResult: 'tiercache.lookup.result',
  /** The name given to a cache registered with `observe`, when one was. */
  cache: 'tiercache.cache',
  breakerState: 'tiercache.breaker.state',
  feedState: 'tiercache.feed.state',
  coherenceMode: 'tiercache.coherence.mode',
  invalidationScope: 'tiercache.invalidation.scope',
  hits: 'tiercache.hits',
  misses: 'tiercache.misses',
  /** The general convention's attribute: here, the `CacheError` code. */
  errorType: 'error.type',
} as const;

/** What a key asked for came to: found, not found, or found past its freshness. */
export type LookupResult = 'hit' | 'miss' | 'stale';

interface OutcomeMeaning {
  /** A lookup of one key that came to this; `undefined` when `hits` and `misses` say (a batch, a failure). */
  lookup: LookupResult | undefined;
  failed: boolean;
}

/**
 * What each outcome on the seam means. An outcome missing here (a newer core) is still recorded on the
 * duration histogram as it is, and its `hits` and `misses` are counted.
 */
export const OUTCOMES: Readonly<Record<string, OutcomeMeaning>> = {
  hit: { lookup: 'hit', failed: false },
  miss: { lookup: 'miss', failed: false },
  stale: { lookup: 'stale', failed: false },
  ok: { lookup: undefined, failed: false },
  error: { lookup: undefined, failed: true },
} satisfies Record<OperationMessage['outcome'], OutcomeMeaning>;

/**
 * Which backends' operations leave the process, and so get a span: `always` (every call is a round trip), or
 * `past-l1` (a call answered by the in-process L1 stays here). Backends not listed never leave it (memory).
 */
export const REMOTE_BACKENDS: Readonly<Record<string, 'always' | 'past-l1'>> = {
  redis: 'always',
  tiered: 'past-l1',
};

/** Errors the front gives before any store is asked: nothing left the process. */
export const REFUSED_LOCALLY: ReadonlySet<string> = new Set(['INVALID_ARGUMENT', 'CLOSED']);

/**
 * The state gauges: the states each reports (1 for the current one, 0 for the others), its attribute, and the
 * counter of changes where there is one.
 */
export const STATE_GAUGES = {
  breaker: {
    gauge: METRIC.breakerState,
    attribute: ATTRIBUTE.breakerState,
    transitions: METRIC.breakerTransitions,
    states: ['closed', 'open', 'half-open'],
  },
  feed: {
    gauge: METRIC.feedState,
    attribute: ATTRIBUTE.feedState,
    transitions: METRIC.feedTransitions,
    states: ['armed', 'lost'],
  },
  coherence: {
    gauge: METRIC.coherenceMode,
    attribute: ATTRIBUTE.coherenceMode,
    transitions: undefined,
    states: ['tracking', 'announce', 'ttl'],
  },
} as const;

export type StateKind = keyof typeof STATE_GAUGES;

/** What an event does here: moves a state gauge, or counts. One line per event type. */
export type EventEffect =
  | { kind: 'state'; gauge: StateKind; state: string }
  | { kind: 'invalidation'; scope: 'keys' | 'all' }
  | { kind: 'not-stored' }
  | { kind: 'none' };

export const EVENT_EFFECTS: {
  readonly [T in BackendEvent['type']]: (event: Extract<BackendEvent, { type: T }>) => EventEffect;
} = {
  breaker: (event) => ({ kind: 'state', gauge: 'breaker', state: event.state }),
  feed: (event) => ({ kind: 'state', gauge: 'feed', state: event.state }),
  coherence: (event) => ({ kind: 'state', gauge: 'coherence', state: event.mode }),
  invalidation: (event) => ({ kind: 'invalidation', scope: event.count === 'all' ? 'all' : 'keys' }),
  // Always follows a lost feed, which is counted already.
  'l1-emptied': () => ({ kind: 'none' }),
  'not-stored': () => ({ kind: 'not-stored' }),
};

/** Bucket bounds in seconds for operation durations: from an L1 hit (~0.1 µs) to an operation timing out. */
export const DURATION_BUCKETS: readonly number[] = [
  0.000_001, 0.000_005, 0.000_01, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025,
  0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
