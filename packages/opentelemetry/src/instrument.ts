import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  type Attributes,
  type BatchObservableResult,
  context,
  createNoopMeter,
  type Meter,
  type MeterProvider,
  metrics,
  type Observable,
  ProxyTracerProvider,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import {
  type BackendEvent,
  type CacheBackend,
  EVENT_CHANNEL,
  OPERATION_CHANNEL,
  type OperationMessage,
} from '@tiercache/core';
import {
  ATTRIBUTE,
  DURATION_BUCKETS,
  EVENT_EFFECTS,
  type EventEffect,
  METRIC,
  OUTCOMES,
  REFUSED_LOCALLY,
  REMOTE_BACKENDS,
  STATE_GAUGES,
  type StateKind,
} from './conventions.js';

/** The instrumentation scope: this package. */
const SCOPE = '@tiercache/opentelemetry';
const SCOPE_VERSION = '0.1.0';

export interface InstrumentTiercacheOptions {
  /** Where metrics go. @default the global meter provider (`metrics.getMeterProvider()`) */
  meterProvider?: MeterProvider;
  /** Where spans go. @default the global tracer provider (`trace.getTracerProvider()`) */
  tracerProvider?: TracerProvider;
  /**
   * Caches whose in-process tier is measured (`tiercache.entry.count`, `tiercache.memory.usage`) at each
   * collection, optionally with a name (the `tiercache.cache` attribute). Same as calling `observe` for each.
   */
  caches?: ReadonlyArray<CacheBackend | { cache: CacheBackend; name: string }>;
}

export interface TiercacheInstrumentation {
  /** Whether metrics are recorded: `false` when the meter provider is the API's no-op one (no SDK). */
  readonly metrics: boolean;
  /** Whether spans are made: `false` when the tracer provider has no SDK behind it. */
  readonly spans: boolean;
  /**
   * Measures `cache`'s in-process tier at each collection, from its `stats()`: a tiered cache's L1
   * (`stats().tiers.l1`) or a memory cache. A cache with no in-process tier (Redis) reports nothing. Returns
   * a function that stops measuring it.
   */
  observe(cache: CacheBackend, name?: string): () => void;
  /** Unsubscribes from the channels and stops every observation. Calling it again does nothing. */
  stop(): void;
}

/**
 * Records tiercache's operations and health as OpenTelemetry metrics and spans, by subscribing to its
 * `node:diagnostics_channel` channels (`tiercache:operation`, `tiercache:event`). Every instrument is listed
 * in this package's README.
 *
 * Call it once the OpenTelemetry SDK is started: with no SDK behind the providers it subscribes to nothing,
 * so the caches run exactly as they do without this package (an unobserved L1 hit stays on its fast path).
 *
 * @example
 * const sdk = new NodeSDK({ ... });
 * sdk.start();
 * const telemetry = instrumentTiercache({ caches: [{ cache, name: 'users' }] });
 * // on shutdown
 * telemetry.stop();
 */
export function instrumentTiercache(options: InstrumentTiercacheOptions = {}): TiercacheInstrumentation {
  const meter = liveMeter(options.meterProvider);
  const tracer = liveTracer(options.tracerProvider);
  const recorder = meter ? new MetricRecorder(meter) : undefined;
  const spans = tracer ? new SpanRecorder(tracer) : undefined;

  const onOperation = (message: unknown): void => {
    const operation = message as OperationMessage;
    recorder?.operation(operation);
    spans?.operation(operation);
  };
  const onEvent = (message: unknown): void => recorder?.event(message as BackendEvent);
  if (recorder || spans) subscribe(OPERATION_CHANNEL, onOperation);
  if (recorder) subscribe(EVENT_CHANNEL, onEvent);

  let stopped = false;
  const instrumentation: TiercacheInstrumentation = {
    metrics: recorder !== undefined,
    spans: spans !== undefined,
    observe: (cache, name) => (stopped || !recorder ? () => {} : recorder.observe(cache, name)),
    stop: () => {
      if (stopped) return;
      stopped = true;
      if (recorder || spans) unsubscribe(OPERATION_CHANNEL, onOperation);
      if (recorder) {
        unsubscribe(EVENT_CHANNEL, onEvent);
        recorder.stop();
      }
    },
  };
  for (const entry of options.caches ?? []) {
    if ('cache' in entry && typeof entry.name === 'string') instrumentation.observe(entry.cache, entry.name);
    else instrumentation.observe(entry as CacheBackend);
  }
  return instrumentation;
}

// The API's no-op meter, the one a provider with no SDK hands out.
const NoopMeter = createNoopMeter().constructor as abstract new () => Meter;

function liveMeter(provider: MeterProvider | undefined): Meter | undefined {
  const meter = (provider ?? metrics.getMeterProvider()).getMeter(SCOPE, SCOPE_VERSION);
  return meter instanceof NoopMeter ? undefined : meter;
}

function liveTracer(provider: TracerProvider | undefined): Tracer | undefined {
  const chosen = provider ?? trace.getTracerProvider();
  // The global provider is a proxy; with no SDK registered it has no delegate and makes no-op spans.
  if (chosen instanceof ProxyTracerProvider && chosen.getDelegateTracer(SCOPE, SCOPE_VERSION) === undefined) {
    return undefined;
  }
  return chosen.getTracer(SCOPE, SCOPE_VERSION);
}

/** The metrics: made once, recorded from the channels, and observed from `stats()` and the last events. */
class MetricRecorder {
  readonly #meter: Meter;
  readonly #duration;
  readonly #lookups;
  readonly #invalidations;
  readonly #notStored;
  readonly #transitions: Partial<Record<StateKind, ReturnType<Meter['createCounter']>>> = {};
  readonly #gauges: Array<[StateKind, Observable]> = [];
  readonly #entryCount;
  readonly #memoryUsage;
  /** The last state heard per kind, per backend name. */
  readonly #states: Record<StateKind, Map<string, string>> = {
    breaker: new Map(),
    feed: new Map(),
    coherence: new Map(),
  };
  readonly #observed = new Map<CacheBackend, string | undefined>();
  /** Lookups counted so far, by backend, tier and result. */
  readonly #tallies = new Map<string, { attributes: Attributes; count: number }>();
  readonly #observeStates = (result: BatchObservableResult): void => {
    this.#reportStates(result);
    this.#reportLookups(result);
  };
  readonly #observeTiers = (result: BatchObservableResult): Promise<void> => this.#reportTiers(result);

  constructor(meter: Meter) {
    this.#meter = meter;
    this.#duration = meter.createHistogram(METRIC.operationDuration, {
      description: 'Duration of cache operations, from the call to its answer.',
      unit: 's',
      advice: { explicitBucketBoundaries: [...DURATION_BUCKETS] },
    });
    // Counted here and observed at collection: a hit then costs the SDK one record (the duration), not two.
    this.#lookups = meter.createObservableCounter(METRIC.lookups, {
      description: 'Keys looked up, by the tier that answered and what they came to (hit, miss, stale).',
      unit: '{lookup}',
    });
    this.#invalidations = meter.createCounter(METRIC.invalidations, {
      description: "Invalidations heard from L2's change feed: keys dropped from L1, or all of it.",
      unit: '{invalidation}',
    });
    this.#notStored = meter.createCounter(METRIC.notStored, {
      description: 'Values a getOrSet loaded but could not store (answered all the same).',
      unit: '{value}',
    });
    for (const kind of Object.keys(STATE_GAUGES) as StateKind[]) {
      const spec = STATE_GAUGES[kind];
      this.#gauges.push([
        kind,
        meter.createObservableGauge(spec.gauge, {
          description: `1 for the current ${kind} state of each backend, 0 for the others.`,
          unit: '1',
        }),
      ]);
      if (spec.transitions) {
        this.#transitions[kind] = meter.createCounter(spec.transitions, {
          description: `Changes of ${kind} state, by the state entered.`,
          unit: '{transition}',
        });
      }
    }
    this.#entryCount = meter.createObservableUpDownCounter(METRIC.entryCount, {
      description: 'Entries held in the in-process tier of each observed cache.',
      unit: '{entry}',
    });
    this.#memoryUsage = meter.createObservableUpDownCounter(METRIC.memoryUsage, {
      description: 'Bytes of keys and values (UTF-8) held in the in-process tier of each observed cache.',
      unit: 'By',
    });
    meter.addBatchObservableCallback(this.#observeStates, this.#countedHere());
    meter.addBatchObservableCallback(this.#observeTiers, [this.#entryCount, this.#memoryUsage]);
  }

  operation(message: OperationMessage): void {
    const meaning = OUTCOMES[message.outcome];
    const attributes: Attributes = {
      [ATTRIBUTE.backend]: message.backend,
      [ATTRIBUTE.operation]: message.operation,
      [ATTRIBUTE.outcome]: message.outcome,
    };
    if (message.tier !== undefined) attributes[ATTRIBUTE.tier] = message.tier;
    if (message.code !== undefined) attributes[ATTRIBUTE.errorType] = message.code;
    this.#duration.record(message.durationMs / 1000, attributes);
    const tier = message.tier ?? 'none';
    if (meaning?.lookup) {
      this.#lookup(message.backend, meaning.lookup === 'miss' ? 'none' : tier, meaning.lookup, 1);
      return;
    }
    // A batch (its hits from the tier of its slowest part), or a failure after a miss (getOrSet's loader).
    if (message.hits > 0) this.#lookup(message.backend, tier, 'hit', message.hits);
    if (message.misses > 0) this.#lookup(message.backend, 'none', 'miss', message.misses);
  }

  event(event: BackendEvent): void {
    const effect = (EVENT_EFFECTS[event.type] as ((event: BackendEvent) => EventEffect) | undefined)?.(event);
    if (!effect) return;
    if (effect.kind === 'state') {
      this.#states[effect.gauge].set(event.backend, effect.state);
      this.#transitions[effect.gauge]?.add(1, {
        [ATTRIBUTE.backend]: event.backend,
        [STATE_GAUGES[effect.gauge].attribute]: effect.state,
      });
    } else if (effect.kind === 'invalidation') {
      this.#invalidations.add(1, {
        [ATTRIBUTE.backend]: event.backend,
        [ATTRIBUTE.invalidationScope]: effect.scope,
      });
    } else if (effect.kind === 'not-stored') {
      this.#notStored.add(1, { [ATTRIBUTE.backend]: event.backend });
    }
  }

  observe(cache: CacheBackend, name: string | undefined): () => void {
    this.#observed.set(cache, name);
    return () => {
      this.#observed.delete(cache);
    };
  }

  stop(): void {
    this.#observed.clear();
    this.#meter.removeBatchObservableCallback(this.#observeStates, this.#countedHere());
    this.#meter.removeBatchObservableCallback(this.#observeTiers, [this.#entryCount, this.#memoryUsage]);
  }

  #lookup(backend: string, tier: string, result: string, count: number): void {
    const key = `${backend}\u0000${tier}\u0000${result}`;
    const tally = this.#tallies.get(key);
    if (tally) {
      tally.count += count;
      return;
    }
    const attributes = {
      [ATTRIBUTE.backend]: backend,
      [ATTRIBUTE.tier]: tier,
      [ATTRIBUTE.lookupResult]: result,
    };
    this.#tallies.set(key, { attributes, count });
  }

  #reportLookups(result: BatchObservableResult): void {
    for (const { attributes, count } of this.#tallies.values())
      result.observe(this.#lookups, count, attributes);
  }

  /** The instruments observed from what this recorder keeps: the state gauges and the lookups. */
  #countedHere(): Observable[] {
    return [...this.#gauges.map(([, gauge]) => gauge), this.#lookups];
  }

  #reportStates(result: BatchObservableResult): void {
    for (const [kind, gauge] of this.#gauges) {
      const { attribute, states } = STATE_GAUGES[kind];
      for (const [backend, current] of this.#states[kind]) {
        for (const state of states) {
          result.observe(gauge, state === current ? 1 : 0, {
            [ATTRIBUTE.backend]: backend,
            [attribute]: state,
          });
        }
      }
    }
  }

  /** One `stats()` per observed cache, all at once; a cache whose stats fail (closed, L2 down) is left out. */
  async #reportTiers(result: BatchObservableResult): Promise<void> {
    const observed = [...this.#observed];
    const answers = await Promise.all(observed.map(([cache]) => cache.stats()));
    for (const [i, answer] of answers.entries()) {
      const [cache, name] = observed[i] as [CacheBackend, string | undefined];
      if (answer.isErr()) continue;
      // A tiered cache's L1, or a cache that is itself in-process (it counts its keys; Redis answers null).
      const local = answer.value.tiers?.l1 ?? answer.value;
      if (local.totalKeys === null) continue;
      const attributes: Attributes = { [ATTRIBUTE.backend]: cache.name, [ATTRIBUTE.tier]: 'l1' };
      if (name !== undefined) attributes[ATTRIBUTE.cache] = name;
      result.observe(this.#entryCount, local.totalKeys, attributes);
      result.observe(this.#memoryUsage, local.memoryUsageBytes, attributes);
    }
  }
}

/**
 * Spans for operations that left the process. The seam publishes an operation once it has answered, with its
 * duration, so the span is made then with explicit start and end times, as a child of the caller's context
 * (the publish runs in the caller's async context).
 */
class SpanRecorder {
  readonly #tracer: Tracer;

  constructor(tracer: Tracer) {
    this.#tracer = tracer;
  }

  operation(message: OperationMessage): void {
    if (!leftTheProcess(message)) return;
    const meaning = OUTCOMES[message.outcome];
    const failed = meaning ? meaning.failed : message.code !== undefined;
    const end = performance.timeOrigin + performance.now();
    const attributes: Attributes = {
      [ATTRIBUTE.backend]: message.backend,
      [ATTRIBUTE.operation]: message.operation,
      [ATTRIBUTE.outcome]: message.outcome,
    };
    if (message.tier !== undefined) attributes[ATTRIBUTE.tier] = message.tier;
    if (message.code !== undefined) attributes[ATTRIBUTE.errorType] = message.code;
    if (meaning?.lookup === undefined && message.hits + message.misses > 0) {
      attributes[ATTRIBUTE.hits] = message.hits;
      attributes[ATTRIBUTE.misses] = message.misses;
    }
    const span = this.#tracer.startSpan(
      `${message.operation} ${message.backend}`,
      { kind: SpanKind.CLIENT, startTime: end - message.durationMs, attributes },
      context.active(),
    );
    if (failed) {
      span.setStatus(
        message.code === undefined
          ? { code: SpanStatusCode.ERROR }
          : { code: SpanStatusCode.ERROR, message: message.code },
      );
    }
    span.end(end);
  }
}

/** Whether the operation reached a store outside this process (see REMOTE_BACKENDS). */
function leftTheProcess(message: OperationMessage): boolean {
  const remote = REMOTE_BACKENDS[message.backend];
  if (remote === undefined) return false;
  if (message.code !== undefined && REFUSED_LOCALLY.has(message.code)) return false;
  return remote === 'always' || message.tier !== 'l1';
}
