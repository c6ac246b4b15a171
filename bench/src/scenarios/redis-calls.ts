import type { Redis } from 'ioredis';
import { adminClient, benchRedisUrl, deletePrefix, newTarget, type RedisTarget } from '../bench-redis.js';
import { type Entries, generateEntries } from '../generate-entries.js';
import { measureConcurrentThroughput, median, percentile, sampleConcurrentLatency } from '../measure.js';
import type { Metrics, ProfileName, Scenario, SubjectDefinition, Verdict } from '../scenario.js';
import type { TimedClient } from '../subjects/subject-contracts.js';

/*
 * What redis-get-64, redis-set-ttl-64 and redis-getmany-100 share: a thousand entries under the child's own
 * prefix in the run's Redis, one client per child, a fixed number of calls in flight, throughput from timed
 * batches and latency from a batch of its own, each figure against the better raw ioredis client of the run.
 */

export const KEYS = 1_000;
export const KEY_BYTES = 16;
export const VALUE_BYTES = 100;

export interface RedisCallSettings {
  warmupMs: number;
  rounds: number;
  roundMs: number;
  samples: number;
}

export interface RedisCallSubject extends SubjectDefinition {
  /** Makes the client, with its data stored, from the subject module (imported only in this child). */
  load(): Promise<(target: RedisTarget, entries: Entries) => Promise<TimedClient>>;
}

export interface RedisCallSpec {
  name: string;
  title: string;
  notes: readonly string[];
  subjects: readonly RedisCallSubject[];
  /** Calls in flight. */
  concurrency: number;
  settings: Readonly<Record<ProfileName, RedisCallSettings>>;
  /** What call `i` must answer (its `text`), checked for the first calls before anything is timed. */
  expected(index: number, entries: Entries): string;
  /** How many calls to check before timing. */
  checkedCalls: number;
  /** A check of what the timed calls left in Redis, through a plain connection (e.g. that a TTL was set). */
  afterwards?(admin: Redis, target: RedisTarget, entries: Entries): Promise<void>;
  /** The tiercache subject and the verdict's words, e.g. `tiercache redis get, 64 in flight`. */
  tiercache: string;
  verdictLabel: string;
  target: number;
  /** Unit of one call in the table and chart: `ops` or `batches`. */
  unit: string;
  /** Other tiercache subjects held to a ratio of the main one, e.g. getOrSetMany against getMany. */
  related?: ReadonlyArray<{ subject: string; label: string; target: number }>;
}

const thousands = (value: number): string => `${(value / 1e3).toFixed(1)} k`;
const micros = (ns: number): string =>
  ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : `${Math.round(ns / 1e3).toLocaleString('en-US')} µs`;
const ratio = (value: number): string => value.toFixed(2);

export function defineRedisCallScenario(spec: RedisCallSpec): Scenario {
  const floors = spec.subjects.filter((subject) => subject.role === 'floor').map((subject) => subject.name);
  return {
    name: spec.name,
    title: spec.title,
    notes: spec.notes,
    subjects: spec.subjects,
    needsRedis: true,
    // Five passes in a full run: a Redis figure wanders by ±20 % from one process to the next on two cores.
    passes: { full: 5, quick: 1, smoke: 1 },
    settings: (profile) => ({
      keys: KEYS,
      keyBytes: KEY_BYTES,
      valueBytes: VALUE_BYTES,
      concurrency: spec.concurrency,
      ...spec.settings[profile],
    }),

    async measure(subjectName, profile) {
      const subject = spec.subjects.find((candidate) => candidate.name === subjectName);
      if (!subject) throw new Error(`${spec.name} has no subject ${JSON.stringify(subjectName)}`);
      const settings = spec.settings[profile];
      const url = benchRedisUrl();
      const target = newTarget(url, spec.name);
      const admin = await adminClient(url);
      const entries = generateEntries({ count: KEYS, keyBytes: KEY_BYTES, valueBytes: VALUE_BYTES });
      try {
        const factory = await subject.load();
        const client = await factory(target, entries);
        try {
          const { operation } = client;
          for (let i = 0; i < spec.checkedCalls; i++) {
            const text = operation.text(await operation.call(i));
            if (text !== spec.expected(i, entries)) {
              throw new Error(`call ${i} answered ${JSON.stringify(text?.slice(0, 80))}, not what it should`);
            }
          }
          const { roundsOpsPerSec, batchOps } = await measureConcurrentThroughput(operation, {
            concurrency: spec.concurrency,
            ...settings,
          });
          const latency = await sampleConcurrentLatency(operation, spec.concurrency, settings.samples);
          await spec.afterwards?.(admin, target, entries);
          return {
            opsPerSec: median(roundsOpsPerSec),
            opsPerSecMin: Math.min(...roundsOpsPerSec),
            opsPerSecMax: Math.max(...roundsOpsPerSec),
            batchOps,
            p50Ns: percentile(latency, 0.5),
            p99Ns: percentile(latency, 0.99),
          };
        } finally {
          await client.close();
        }
      } finally {
        await deletePrefix(admin, target.prefix);
        admin.disconnect();
      }
    },

    columns: [
      { key: 'opsPerSec', label: `${spec.unit}/s`, format: thousands },
      { key: 'ratioToFloor', label: '× floor', format: ratio },
      { key: 'p50Ns', label: 'p50', format: micros },
      { key: 'p99Ns', label: 'p99', format: micros },
    ],
    chart: {
      key: 'opsPerSec',
      caption: `${spec.unit} per second, ${spec.concurrency === 1 ? 'one call at a time' : `${spec.concurrency} calls in flight`} (higher is better)`,
      format: (value) => `${thousands(value)} ${spec.unit}/s`,
      annotate: { key: 'ratioToFloor', suffix: '× floor' },
    },

    summarize(medians) {
      const floor = floors
        .map((name) => ({ name, opsPerSec: medians[name]?.opsPerSec }))
        .filter((entry): entry is { name: string; opsPerSec: number } => entry.opsPerSec !== undefined)
        .reduce<{ name: string; opsPerSec: number } | undefined>(
          (best, entry) => (best && best.opsPerSec >= entry.opsPerSec ? best : entry),
          undefined,
        );
      const ours = medians[spec.tiercache]?.opsPerSec;
      if (!floor || ours === undefined) throw new Error(`${spec.name} needs a floor and ${spec.tiercache}`);
      const derived: Record<string, Metrics> = {};
      for (const [name, metrics] of Object.entries(medians)) {
        derived[name] = { ratioToFloor: (metrics.opsPerSec as number) / floor.opsPerSec };
      }
      const toFloor = ours / floor.opsPerSec;
      const verdicts: Verdict[] = [
        {
          text: `${spec.verdictLabel}: ${ratio(toFloor)} × raw ioredis (target ≥ ${ratio(spec.target)})`,
          value: toFloor,
          comparedWith: floor.name,
          target: { op: '>=', value: spec.target },
          met: toFloor >= spec.target,
          detail: `${thousands(ours)} vs ${thousands(floor.opsPerSec)} ${spec.unit}/s of ${floor.name}`,
        },
      ];
      for (const { subject, label, target } of spec.related ?? []) {
        const theirs = medians[subject]?.opsPerSec;
        if (theirs === undefined) continue;
        verdicts.push({
          text: `${label}: ${ratio(theirs / ours)} × ${spec.tiercache} (target ≥ ${ratio(target)})`,
          value: theirs / ours,
          comparedWith: spec.tiercache,
          target: { op: '>=', value: target },
          met: theirs / ours >= target,
          detail: `${thousands(theirs)} vs ${thousands(ours)} ${spec.unit}/s`,
        });
      }
      for (const subject of spec.subjects.filter((candidate) => candidate.role === 'baseline')) {
        const baseline = medians[subject.name]?.opsPerSec;
        if (baseline === undefined) continue;
        verdicts.push({
          text: `${spec.verdictLabel}: ${ratio(ours / baseline)} × ${subject.name}`,
          value: ours / baseline,
          comparedWith: subject.name,
          detail: `${thousands(ours)} vs ${thousands(baseline)} ${spec.unit}/s`,
        });
      }
      const peers = spec.subjects.filter((subject) => subject.role === 'peer' && medians[subject.name]);
      const best = peers.reduce<{ name: string; opsPerSec: number } | undefined>((leader, subject) => {
        const opsPerSec = medians[subject.name]?.opsPerSec as number;
        return leader && leader.opsPerSec >= opsPerSec ? leader : { name: subject.name, opsPerSec };
      }, undefined);
      if (best) {
        const toPeer = ours / best.opsPerSec;
        verdicts.push({
          text: `${spec.verdictLabel}: ${ratio(toPeer)} × best peer, ${best.name}`,
          value: toPeer,
          comparedWith: best.name,
          detail: `${thousands(ours)} vs ${thousands(best.opsPerSec)} ${spec.unit}/s`,
        });
      }
      return {
        derived,
        verdicts,
        notes: [`In this run the floor is ${floor.name}.`],
      };
    },
  };
}
