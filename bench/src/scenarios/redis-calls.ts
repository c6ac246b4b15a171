import type { Redis } from 'ioredis';
import { adminClient, benchRedisUrl, deletePrefix, newTarget, type RedisTarget } from '../bench-redis.js';
import { measuredPackage } from '../environment.js';
import { type Entries, generateEntries } from '../generate-entries.js';
import { measureConcurrentThroughput, sampleConcurrentLatency, throughputFigures } from '../measure.js';
import type { Metrics, ProfileName, Scenario, SubjectDefinition, Verdict } from '../scenario.js';
import type { IoredisMajor, IoredisSetup } from '../subjects/ioredis-calls.js';
import type { NodeRedisMajor } from '../subjects/node-redis.js';
import type { TimedClient } from '../subjects/subject-contracts.js';
import { judge, ratioSpread, spreadOf, withSpread } from '../verdict-rule.js';

/*
 * What redis-get-64, redis-set-ttl-64 and redis-getmany-100 share: a thousand entries under the child's own
 * prefix in the run's Redis, one client per child, a fixed number of calls in flight, throughput from timed
 * batches and latency from a batch of its own. The floor of each figure is the fastest of the mainstream Node
 * clients in their own configurations (ioredis 5 and 6, plain and auto-pipelined; node-redis 5 and 6) in the
 * same run; ioredis corked per tick by hand, as tiercache corks, is a baseline apart.
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

/** Makes a subject's client, with its data stored. */
export type CallFactory = (target: RedisTarget, entries: Entries) => Promise<TimedClient>;

export interface RedisCallSubject extends SubjectDefinition {
  /** Makes the client, with its data stored, from the subject module (imported only in this child). */
  load(): Promise<CallFactory>;
  /**
   * The Redis client package the subject runs on, as `packages` lists it (`ioredis-5`,
   * `@tiercache/backend-redis>ioredis`): verdicts name it with its version.
   */
  client?: string;
}

/** One command as each raw client makes it, for `clientSubjects`. */
export interface ClientCommand {
  /** The call in code, for `setup`: `redis.get(prefix + k)` for ioredis, `client.get(prefix + k)` node-redis. */
  ioredisCall: string;
  nodeRedisCall: string;
  ioredis(setup: IoredisSetup): Promise<CallFactory>;
  nodeRedis(major: NodeRedisMajor): Promise<CallFactory>;
}

const MAJORS = [5, 6] as const;

/**
 * The raw clients, each in its own configurations (the floors): ioredis 5 and 6, plain and with
 * `enableAutoPipelining`, and node-redis 5 and 6 as they come; then, with `corked`, ioredis 5 and 6 corked per
 * tick by hand (the baselines).
 */
export function clientSubjects(command: ClientCommand, { corked }: { corked: boolean }): RedisCallSubject[] {
  const ioredis = (major: IoredisMajor, variant: 'plain' | 'auto-pipelined' | 'corked'): RedisCallSubject => {
    const setup: IoredisSetup =
      variant === 'plain'
        ? { major }
        : variant === 'auto-pipelined'
          ? { major, enableAutoPipelining: true }
          : { major, corkPerTick: true };
    const made =
      variant === 'auto-pipelined'
        ? `new Redis(url, { enableAutoPipelining: true })`
        : variant === 'corked'
          ? 'new Redis(url); redis.stream.cork() at the first call of each tick, uncork() on process.nextTick'
          : 'new Redis(url) (defaults)';
    return {
      name: variant === 'plain' ? `ioredis ${major}` : `ioredis ${major} (${variantName(variant)})`,
      role: variant === 'corked' ? 'baseline' : 'floor',
      packages: [`ioredis-${major}`],
      client: `ioredis-${major}`,
      setup: `ioredis ${major}: ${made}; await ${command.ioredisCall}`,
      load: () => command.ioredis(setup),
    };
  };
  const nodeRedis = (major: NodeRedisMajor): RedisCallSubject => ({
    name: `node-redis ${major}`,
    role: 'floor',
    packages: [`redis-client-${major}`],
    client: `redis-client-${major}`,
    setup: `@redis/client ${major}: createClient({ url }) (defaults), await client.connect(); await ${command.nodeRedisCall}`,
    load: () => command.nodeRedis(major),
  });
  return [
    ...MAJORS.flatMap((major) => [ioredis(major, 'plain'), ioredis(major, 'auto-pipelined')]),
    ...MAJORS.map(nodeRedis),
    ...(corked ? MAJORS.map((major) => ioredis(major, 'corked')) : []),
  ];
}

function variantName(variant: 'auto-pipelined' | 'corked'): string {
  return variant === 'corked' ? 'corked per tick' : variant;
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
  /** What the floor is called in the verdict: `the fastest client`, `the fastest client's MGET`. */
  floorLabel: string;
  /** tiercache's figure against the floor (the fastest client). */
  target: number;
  /** tiercache's figure against the faster hand-corked baseline, when the scenario has baselines. */
  baselineTarget?: number;
  /** Other tiercache subjects put beside the floor, with no target (e.g. on a caller's ioredis 6 client). */
  alsoAgainstFloor?: ReadonlyArray<{ subject: string; label: string }>;
  /** Unit of one call in the table and chart: `ops` or `batches`. */
  unit: string;
  /**
   * Other subjects held to a ratio: of the main tiercache subject (e.g. getOrSetMany against getMany), of
   * another subject (`versus`), or of the fastest floor (`versus: THE_FLOOR`).
   */
  related?: ReadonlyArray<{ subject: string; label: string; target?: number; versus?: string }>;
}

/** In `related`, compares with the fastest floor of the run. */
export const THE_FLOOR = '(the floor)';

const thousands = (value: number): string => `${(value / 1e3).toFixed(1)} k`;
const micros = (ns: number): string =>
  ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : `${Math.round(ns / 1e3).toLocaleString('en-US')} µs`;
const ratio = (value: number): string => value.toFixed(2);

export function defineRedisCallScenario(spec: RedisCallSpec): Scenario {
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

    // Interleaved: the figures of a ratio are measured in the same cycles of turns (see turns.ts).
    interleaved: true,

    async measure(subjectName, profile, turns) {
      const subject = spec.subjects.find((candidate) => candidate.name === subjectName);
      if (!subject) throw new Error(`${spec.name} has no subject ${JSON.stringify(subjectName)}`);
      const settings = spec.settings[profile];
      const url = benchRedisUrl();
      const target = newTarget(url, spec.name);
      const entries = generateEntries({ count: KEYS, keyBytes: KEY_BYTES, valueBytes: VALUE_BYTES });
      // Filled in the first turn; whatever was made is closed, and the child's keys deleted, in the last, even
      // when a step between fails (the run's Redis may be the caller's own, through REDIS_URL).
      const made: { admin?: Redis; client?: TimedClient } = {};
      try {
        const { operation } = await turns.take(async () => {
          made.admin = await adminClient(url);
          const factory = await subject.load();
          made.client = await factory(target, entries);
          const { operation } = made.client;
          for (let i = 0; i < spec.checkedCalls; i++) {
            const text = operation.text(await operation.call(i));
            if (text !== spec.expected(i, entries)) {
              throw new Error(`call ${i} answered ${JSON.stringify(text?.slice(0, 80))}, not what it should`);
            }
          }
          return made.client;
        });
        const { roundsOpsPerSec, batchOps } = await measureConcurrentThroughput(operation, {
          concurrency: spec.concurrency,
          turns,
          ...settings,
        });
        const latency = await turns.take(async () => {
          const latency = await sampleConcurrentLatency(operation, spec.concurrency, settings.samples);
          await spec.afterwards?.(made.admin as Redis, target, entries);
          return latency;
        });
        return throughputFigures(roundsOpsPerSec, batchOps, latency);
      } finally {
        await turns.take(async () => {
          await made.client?.close();
          if (made.admin) {
            await deletePrefix(made.admin, target.prefix);
            made.admin.disconnect();
          }
        });
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

    summarize(medians, passes) {
      const floor = fastest(spec.subjects, 'floor', medians);
      const ours = figureOf(spec.subjects, spec.tiercache, medians);
      if (!floor || !ours) throw new Error(`${spec.name} needs a floor and ${spec.tiercache}`);
      const derived: Record<string, Metrics> = {};
      for (const [name, metrics] of Object.entries(medians)) {
        derived[name] = { ratioToFloor: (metrics.opsPerSec as number) / floor.opsPerSec };
      }
      const versus = (mine: Figure, theirs: Figure, label: string, target?: number): Verdict => {
        const value = mine.opsPerSec / theirs.opsPerSec;
        const judged =
          target === undefined
            ? {}
            : judge(value, { op: '>=', value: target }, [
                ratioSpread(passes, mine.name, theirs.name, 'opsPerSec'),
              ]);
        return {
          text: `${label}: ${ratio(value)} × ${describe(theirs)}${target === undefined ? '' : ` (target ≥ ${ratio(target)})`}`,
          value,
          comparedWith: theirs.name,
          ...judged,
          detail: `${figureText(mine, spec.unit)} vs ${figureText(theirs, spec.unit)}`,
        };
      };
      const verdicts: Verdict[] = [
        versus(ours, { ...floor, role: spec.floorLabel }, spec.verdictLabel, spec.target),
      ];
      const corked = fastest(spec.subjects, 'baseline', medians);
      if (corked) {
        verdicts.push(
          versus(ours, { ...corked, role: 'hand-corked ioredis' }, spec.verdictLabel, spec.baselineTarget),
        );
      }
      for (const { subject, label } of spec.alsoAgainstFloor ?? []) {
        const theirs = figureOf(spec.subjects, subject, medians);
        if (theirs) verdicts.push(versus(theirs, { ...floor, role: spec.floorLabel }, label));
      }
      for (const { subject, label, target, versus: other } of spec.related ?? []) {
        const theirs = figureOf(spec.subjects, subject, medians);
        const yardstick =
          other === undefined ? ours : other === THE_FLOOR ? floor : figureOf(spec.subjects, other, medians);
        const role = other === THE_FLOOR ? spec.floorLabel : '';
        if (theirs && yardstick) verdicts.push(versus(theirs, { ...yardstick, role }, label, target));
      }
      const best = fastest(spec.subjects, 'peer', medians);
      if (best) verdicts.push(versus(ours, { ...best, role: 'best peer' }, spec.verdictLabel));
      return {
        derived,
        verdicts,
        notes: [
          `In this run the floor (${spec.floorLabel}) is ${describe(floor)}` +
            (corked ? `; the faster hand-corked baseline is ${describe(corked)}.` : '.'),
        ],
      };
    },
  };
}

/** One subject's figure in a verdict: its median, its spread over passes, and what it runs on. */
interface Figure {
  name: string;
  opsPerSec: number;
  spread: number | undefined;
  /** The client package and version, e.g. `ioredis 5.11.1`. */
  client: string | undefined;
  /** What the verdict calls it, e.g. `the fastest client`. */
  role?: string;
}

function figureOf(
  subjects: readonly RedisCallSubject[],
  name: string,
  medians: Readonly<Record<string, Metrics>>,
): Figure | undefined {
  const subject = subjects.find((candidate) => candidate.name === name);
  const opsPerSec = medians[name]?.opsPerSec;
  if (!subject || opsPerSec === undefined) return undefined;
  const client = subject.client === undefined ? undefined : labelOf(subject.client);
  return { name, opsPerSec, spread: spreadOf(medians[name]), client };
}

/** The subject of `role` with the highest median in this run. */
function fastest(
  subjects: readonly RedisCallSubject[],
  role: RedisCallSubject['role'],
  medians: Readonly<Record<string, Metrics>>,
): Figure | undefined {
  return subjects
    .filter((subject) => subject.role === role)
    .map((subject) => figureOf(subjects, subject.name, medians))
    .reduce<Figure | undefined>(
      (best, entry) => (!entry || (best && best.opsPerSec >= entry.opsPerSec) ? best : entry),
      undefined,
    );
}

function labelOf(spec: string): string {
  const { name, version } = measuredPackage(spec);
  return `${name} ${version}`;
}

/** `the fastest client, node-redis 5 (@redis/client 5.12.1)`. */
function describe({ role, name, client }: Figure): string {
  const named = client === undefined ? name : `${name} (${client})`;
  return role ? `${role}, ${named}` : named;
}

/** `tiercache redis on ioredis 6.0.0: 412.3 k ops/s (spread 6.1%)`. */
function figureText(figure: Figure, unit: string): string {
  const who = figure.client === undefined ? figure.name : `${figure.name} on ${figure.client}`;
  return `${who}: ${withSpread(`${thousands(figure.opsPerSec)} ${unit}/s`, figure.spread)}`;
}
