import type { Metrics, ProfileName, Scenario, SubjectDefinition, Verdict } from '../scenario.js';
import type { TieredGetHitFactory } from '../subjects/subject-contracts.js';
import { KEY_BYTES, KEYS, VALUE_BYTES } from './memory-get-hit.js';
import { measureL1Hits } from './tiered-l1-hit.js';

/*
 * What @tiercache/opentelemetry costs an L1 hit. Installed and called with no OpenTelemetry SDK it must cost
 * nothing: it subscribes to no channel, so the cache keeps its unobserved hit path. With the SDK's metrics on,
 * every hit is timed and recorded, which is shown for scale.
 */

const WITHOUT = 'tiercache tiered';
const NO_SDK = 'tiercache tiered + opentelemetry, no SDK';
const WITH_METRICS = 'tiercache tiered + opentelemetry, SDK metrics';

interface OtelSubject extends SubjectDefinition {
  load(): Promise<TieredGetHitFactory>;
}

const TIERED_PACKAGES = [
  '@tiercache/backend-tiered',
  '@tiercache/backend-redis',
  '@tiercache/core',
  '@tiercache/backend-redis>ioredis',
];

const SUBJECTS: readonly OtelSubject[] = [
  {
    name: WITHOUT,
    role: 'baseline',
    packages: TIERED_PACKAGES,
    setup:
      'as tiered-l1-hit: createTieredBackend({ l1, l2: createRedisBackend({ url, keyPrefix }) }); (await tiered.get(k)).isOk(); @tiercache/opentelemetry not loaded',
    load: async () => (await import('../subjects/tiercache-tiered.js')).tiercacheTieredGetHit,
  },
  {
    name: NO_SDK,
    role: 'tiercache',
    packages: [...TIERED_PACKAGES, '@tiercache/opentelemetry', '@opentelemetry/api'],
    setup: 'the same, after instrumentTiercache() with no SDK registered (the API answers no-op providers)',
    load: async () => (await import('../subjects/tiercache-opentelemetry.js')).tiercacheTieredOtelNoSdk,
  },
  {
    name: WITH_METRICS,
    role: 'tiercache',
    packages: [
      ...TIERED_PACKAGES,
      '@tiercache/opentelemetry',
      '@opentelemetry/api',
      '@opentelemetry/sdk-metrics',
    ],
    setup:
      'the same, after instrumentTiercache({ meterProvider: new MeterProvider({ readers: [reader] }) }) (never collected during the reads)',
    load: async () => (await import('../subjects/tiercache-opentelemetry.js')).tiercacheTieredOtelMetrics,
  },
];

const millions = (opsPerSec: number): string => `${(opsPerSec / 1e6).toFixed(2)} M`;
const nanoseconds = (ns: number): string => `${Math.round(ns).toLocaleString('en-US')} ns`;
const ratio = (value: number): string => value.toFixed(2);

export const otelL1Hit: Scenario = {
  name: 'otel-l1-hit',
  title: `tiered L1 get hit with @tiercache/opentelemetry loaded, with and without an SDK: ${KEYS.toLocaleString('en-US')} distinct ${KEY_BYTES}-byte keys, ${VALUE_BYTES}-byte values`,
  notes: [
    'Measured exactly as tiered-l1-hit (same keys, same loop, same proof from Redis that every read was an ' +
      'L1 hit), in a process per subject; "× without" divides by the tiered cache without the package, from ' +
      'the same run.',
    'With no SDK the package subscribes to nothing, so the hit runs the same code as without it: the ratio ' +
      'shows the noise between processes, which the spread column measures.',
    'With SDK metrics every hit is timed, published on the seam and recorded on the duration histogram.',
  ],
  subjects: SUBJECTS,
  needsRedis: true,
  // Figures of one process wander by a fifth or more here: a quick run takes three passes too.
  passes: { full: 5, quick: 3, smoke: 1 },
  settings: (profile: ProfileName) => ({ keys: KEYS, keyBytes: KEY_BYTES, valueBytes: VALUE_BYTES, profile }),

  async measure(subjectName, profile) {
    const subject = SUBJECTS.find((candidate) => candidate.name === subjectName);
    if (!subject) throw new Error(`otel-l1-hit has no subject ${JSON.stringify(subjectName)}`);
    return measureL1Hits(await subject.load(), profile, 'otel-l1-hit');
  },

  columns: [
    { key: 'opsPerSec', label: 'ops/s', format: millions },
    { key: 'ratioToWithout', label: '× without', format: ratio },
    { key: 'p50Ns', label: 'p50', format: nanoseconds },
    { key: 'p99Ns', label: 'p99', format: nanoseconds },
  ],
  chart: {
    key: 'opsPerSec',
    caption: 'L1 get hits per second, with and without @tiercache/opentelemetry (higher is better)',
    format: (value) => `${millions(value)} ops/s`,
    annotate: { key: 'ratioToWithout', suffix: '× without' },
  },

  summarize(medians) {
    const without = medians[WITHOUT]?.opsPerSec;
    if (without === undefined) throw new Error('otel-l1-hit needs the tiered cache without the package');
    const derived: Record<string, Metrics> = {};
    for (const [name, metrics] of Object.entries(medians)) {
      derived[name] = { ratioToWithout: (metrics.opsPerSec as number) / without };
    }
    const verdicts: Verdict[] = [];
    for (const name of [NO_SDK, WITH_METRICS]) {
      const ours = medians[name]?.opsPerSec;
      if (ours === undefined) continue;
      verdicts.push({
        text: `${name} L1 hit: ${ratio(ours / without)} × without the package`,
        value: ours / without,
        comparedWith: WITHOUT,
        detail: `${millions(ours)} vs ${millions(without)} ops/s`,
      });
    }
    return { derived, verdicts, notes: [] };
  },
};
