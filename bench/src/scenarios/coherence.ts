import { randomBytes } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { withTimeout } from '@tiercache/core';
import { adminClient, benchRedisUrl, deletePrefix, newTarget, type RedisTarget } from '../bench-redis.js';
import { percentile } from '../measure.js';
import type { Metrics, ProfileName, Scenario, SubjectDefinition, Verdict } from '../scenario.js';
import type { CoherenceReaderFactory, CoherenceWriterFactory } from '../subjects/subject-contracts.js';
import { judge, spreadOf, withSpread } from '../verdict-rule.js';
import { type Channel, startWorker } from '../worker-process.js';

/*
 * Process B holds a key's old value in its L1; process A writes a new value; how long until a get in B answers
 * it? B polls in a tight loop (one turn of the event loop between gets), so the time is how long B's cache
 * takes to hear of the write and read the new value, plus less than one poll.
 */

interface CoherenceSettings {
  /** Writes measured. */
  rounds: number;
  /** Writes first, not measured: connections warm, the bus or feed subscribed, the code optimised. */
  warmupRounds: number;
  /** Longest B polls for one write before it counts as not seen. */
  waitMs: number;
  /** A subject that misses this many writes in a row has shown it cannot see them: it stops there. */
  maxConsecutiveMisses: number;
  /** Longest one subject may take in all. */
  budgetMs: number;
}

const SETTINGS: Record<ProfileName, CoherenceSettings> = {
  full: { rounds: 400, warmupRounds: 50, waitMs: 1_000, maxConsecutiveMisses: 5, budgetMs: 60_000 },
  quick: { rounds: 80, warmupRounds: 20, waitMs: 500, maxConsecutiveMisses: 2, budgetMs: 20_000 },
  smoke: { rounds: 5, warmupRounds: 1, waitMs: 200, maxConsecutiveMisses: 1, budgetMs: 5_000 },
};

const KEY = 'coherence-key';
const TARGET_P99_MS = 10;

type WriterRole = 'ioredis-set' | 'ioredis-set-bentocache-format' | 'tiercache-tiered' | 'bentocache';

interface CoherenceSubject extends SubjectDefinition {
  /** The worker role that writes, in process A. */
  writer: WriterRole;
  /** Whether a target applies: the tiercache subjects. */
  targeted: boolean;
  loadReader(): Promise<CoherenceReaderFactory>;
}

const loadTieredReader = async () =>
  (await import('../subjects/tiercache-tiered.js')).tiercacheTieredCoherenceReader;
const loadBentocacheReader = async () =>
  (await import('../subjects/bentocache-redis.js')).bentocacheCoherenceReader;

const SUBJECTS: readonly CoherenceSubject[] = [
  {
    name: 'ioredis GET poll',
    role: 'floor',
    packages: ['ioredis'],
    setup: 'A: redis.set(prefix + k, v); B: no L1, await redis.get(prefix + k) until it answers v',
    writer: 'ioredis-set',
    targeted: false,
    loadReader: async () => (await import('../subjects/ioredis.js')).ioredisCoherenceReader,
  },
  {
    name: 'tiercache tiered (write via tiercache)',
    role: 'tiercache',
    packages: ['@tiercache/backend-tiered', '@tiercache/backend-redis', '@tiercache/backend-redis>ioredis'],
    setup:
      'A and B: createTieredBackend({ l1, l2: createRedisBackend({ url, keyPrefix }) }) (defaults); A: await tiered.set(k, v); B: await tiered.get(k) until v',
    writer: 'tiercache-tiered',
    targeted: true,
    loadReader: loadTieredReader,
  },
  {
    name: 'tiercache tiered (external SET)',
    role: 'tiercache',
    packages: ['@tiercache/backend-tiered', '@tiercache/backend-redis', '@tiercache/backend-redis>ioredis'],
    setup:
      'A: plain ioredis redis.set(keyPrefix + k, v), no tiercache; B: the tiered backend, await tiered.get(k) until v',
    writer: 'ioredis-set',
    targeted: true,
    loadReader: loadTieredReader,
  },
  {
    name: 'bentocache (write via bentocache)',
    role: 'peer',
    packages: ['bentocache', 'bentocache>ioredis'],
    setup:
      'A and B: memory L1 + Redis L2 + Redis bus; A: await bento.use().set({ key, value }); B: get until v',
    writer: 'bentocache',
    targeted: false,
    loadReader: loadBentocacheReader,
  },
  {
    name: 'bentocache (external SET)',
    role: 'peer',
    packages: ['bentocache', 'bentocache>ioredis'],
    setup:
      "A: plain ioredis SET of the key in BentoCache's own stored format, no BentoCache; B: memory L1 + Redis L2 + bus, get until v",
    writer: 'ioredis-set-bentocache-format',
    targeted: false,
    loadReader: loadBentocacheReader,
  },
];

const WRITERS: Record<WriterRole, () => Promise<CoherenceWriterFactory>> = {
  'ioredis-set': async () => (await import('../subjects/ioredis.js')).ioredisCoherenceWriter,
  'ioredis-set-bentocache-format': async () =>
    (await import('../subjects/ioredis.js')).ioredisBentocacheFormatWriter,
  'tiercache-tiered': async () =>
    (await import('../subjects/tiercache-tiered.js')).tiercacheTieredCoherenceWriter,
  bentocache: async () => (await import('../subjects/bentocache-redis.js')).bentocacheCoherenceWriter,
};

/** Process A: makes its writer, then writes what it is told, reporting its clock just before each write. */
async function writerWorker(role: WriterRole, channel: Channel, args: unknown): Promise<void> {
  const writer = await (await WRITERS[role]())(args as RedisTarget);
  try {
    await channel.send({ type: 'ready' });
    for (;;) {
      const command = await channel.next(['write', 'stop'], 120_000);
      if (command.type === 'stop') return;
      const startedAt = process.hrtime.bigint();
      try {
        await writer.write(command.key as string, command.value as string);
        await channel.send({ type: 'written', startedAt, endedAt: process.hrtime.bigint() });
      } catch (error) {
        await channel.send({ type: 'written', error: (error as Error).message });
      }
    }
  } finally {
    await withTimeout(
      writer.close().catch(() => {}),
      3_000,
      () => {},
    ); // a close that hangs must not hang the benchmark
  }
}

const milliseconds = (ms: number): string => (ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(2)} ms`);

/** A percentile that counts the writes B never saw as lasting at least the wait, shown as such. */
function describeLatency(key: 'p50Ms' | 'p99Ms') {
  return (metrics: Metrics): string => {
    const value = metrics[key];
    if (value === undefined) return '–';
    return value >= (metrics.waitMs ?? Number.POSITIVE_INFINITY)
      ? `≥ ${milliseconds(metrics.waitMs as number)} (not seen)`
      : milliseconds(value);
  };
}

export const coherence: Scenario = {
  name: 'coherence',
  title: `time from a write in process A until a get in process B answers the new value, on loopback (B holds the old value in L1 before each write)`,
  notes: [
    "Two processes per subject: B (the measuring child) and A (a worker it starts), both on the run's Redis " +
      'with the same key prefix. Each round: B reads the key and checks its L1 holds the current value; B ' +
      'tells A (over IPC) to write a new value; A notes its clock and writes; B polls get, one turn of the ' +
      "event loop (setImmediate) between polls, until it answers the new value. The figure is B's clock when " +
      "it saw the value minus A's clock before the write (process.hrtime, the same monotonic clock for every " +
      'process on the machine).',
    'A write B does not see within the wait counts as not seen; percentiles count those as lasting the wait, ' +
      'and a subject that misses several writes in a row stops early (it cannot see them). The first rounds ' +
      'warm up connections and subscriptions and are not counted.',
    'The floor is B without L1: a plain GET per poll, so it sees a write as soon as Redis has it.',
    'tiercache B is a tiered backend with the Redis backend as L2; it hears changes through the Redis ' +
      "backend's change feed (CLIENT TRACKING for any write, and tiercache's own announcements), which the " +
      'tiered backend subscribes to. BentoCache B hears only what other BentoCache instances publish on its bus, ' +
      'so a write made outside BentoCache stays unseen in its L1 until the entry expires (30 minutes by ' +
      'default). cacheable and cache-manager are not here: in the setups measured elsewhere they do not keep ' +
      "processes' memory tiers coherent at all (cacheable's CacheableSync would need a Qified provider).",
  ],
  subjects: SUBJECTS,
  needsRedis: true,
  workers: {
    'ioredis-set': (channel, args) => writerWorker('ioredis-set', channel, args),
    'ioredis-set-bentocache-format': (channel, args) =>
      writerWorker('ioredis-set-bentocache-format', channel, args),
    'tiercache-tiered': (channel, args) => writerWorker('tiercache-tiered', channel, args),
    bentocache: (channel, args) => writerWorker('bentocache', channel, args),
  },
  passes: { full: 3, quick: 1, smoke: 1 },
  settings: (profile) => ({ ...SETTINGS[profile] }),

  async measure(subjectName, profile) {
    const subject = SUBJECTS.find((candidate) => candidate.name === subjectName);
    if (!subject) throw new Error(`coherence has no subject ${JSON.stringify(subjectName)}`);
    const settings = SETTINGS[profile];
    const url = benchRedisUrl();
    const target = newTarget(url, 'coherence');
    const admin = await adminClient(url);
    const writer = startWorker('coherence', subject.writer, target);
    try {
      const reader = await (await subject.loadReader())(target);
      try {
        const listening = await reader.listening(5_000);
        await writer.channel.next('ready', 30_000);
        const waitNs = BigInt(settings.waitMs) * 1_000_000n;
        const tag = randomBytes(3).toString('hex');
        const deadline = Date.now() + settings.budgetMs;
        const latencies: number[] = [];
        let current: string | undefined;
        let attempted = 0;
        let missed = 0;
        let missedInARow = 0;
        let notHeldInL1 = 0;
        for (let round = -settings.warmupRounds; round < settings.rounds && Date.now() < deadline; round++) {
          if (current !== undefined) {
            // B holds the value it last saw, in L1: read it (an L1 miss refills L1), then check L1 itself.
            let held = false;
            for (let attempt = 0; attempt < 3 && !held; attempt++) {
              if ((await reader.read(KEY)) !== current) break;
              held = reader.holds(KEY, current);
              if (!held) await nextTurn();
            }
            if (!held && round >= 0) notHeldInL1++;
          }
          const value = `${tag}-${round + settings.warmupRounds}`;
          await writer.channel.send({ type: 'write', key: KEY, value });
          const sentAt = process.hrtime.bigint();
          let seenAt: bigint | undefined;
          while (process.hrtime.bigint() - sentAt < waitNs) {
            if ((await reader.read(KEY)) === value) {
              seenAt = process.hrtime.bigint();
              break;
            }
            await nextTurn();
          }
          const written = await writer.channel.next('written', 10_000);
          if (typeof written.error === 'string')
            throw new Error(`process A could not write: ${written.error}`);
          if (seenAt !== undefined) current = value;
          if (round < 0) {
            // A warm-up write B did not see: it will not see the next ones either, so measuring starts now.
            if (seenAt === undefined) round = -1;
            continue;
          }
          attempted++;
          if (seenAt === undefined) {
            missed++;
            latencies.push(settings.waitMs);
            if (++missedInARow >= settings.maxConsecutiveMisses) break;
            continue;
          }
          missedInARow = 0;
          latencies.push(Number(seenAt - (written.startedAt as bigint)) / 1e6);
        }
        if (attempted === 0) throw new Error('no write was measured within the time allowed');
        return {
          p50Ms: percentile(latencies, 0.5),
          p99Ms: percentile(latencies, 0.99),
          maxMs: Math.max(...latencies),
          writes: attempted,
          seen: attempted - missed,
          missed,
          notHeldInL1,
          listening: listening ? 1 : 0,
          waitMs: settings.waitMs,
        };
      } finally {
        await withTimeout(
          reader.close().catch(() => {}),
          3_000,
          () => {},
        ); // a close that hangs must not hang the benchmark
      }
    } finally {
      await writer.stop(5_000);
      await deletePrefix(admin, target.prefix);
      admin.disconnect();
    }
  },

  columns: [
    { key: 'p50Ms', label: 'p50', format: milliseconds, describe: describeLatency('p50Ms') },
    { key: 'p99Ms', label: 'p99', format: milliseconds, describe: describeLatency('p99Ms') },
    {
      key: 'seen',
      label: 'writes seen',
      format: String,
      describe: (metrics) => `${metrics.seen ?? 0} of ${metrics.writes ?? 0}`,
    },
    {
      key: 'notHeldInL1',
      label: 'old value not in L1',
      format: (value) => String(Math.round(value)),
    },
  ],
  chart: {
    key: 'p99Ms',
    caption:
      'p99 ms from a write in A to a get in B answering it (lower is better; a bar at the wait = not seen)',
    format: (value) => milliseconds(value),
    label: (metrics) =>
      (metrics.missed ?? 0) > 0
        ? `${describeLatency('p99Ms')(metrics)}, ${metrics.seen} of ${metrics.writes} seen`
        : `${milliseconds(metrics.p99Ms ?? 0)}  (${(metrics.ratioToFloor ?? 0).toFixed(2)} × floor)`,
  },

  summarize(medians) {
    const floor = medians['ioredis GET poll']?.p99Ms;
    if (floor === undefined) throw new Error('coherence needs its floor');
    const derived: Record<string, Metrics> = {};
    for (const [name, metrics] of Object.entries(medians)) {
      derived[name] = { ratioToFloor: (metrics.p99Ms as number) / floor };
    }
    const verdicts: Verdict[] = [];
    const notes: string[] = [];
    for (const subject of SUBJECTS.filter((candidate) => candidate.targeted)) {
      const metrics = medians[subject.name];
      if (!metrics) continue;
      const p99 = metrics.p99Ms as number;
      const seen = `${metrics.seen} of ${metrics.writes} writes seen within ${milliseconds(metrics.waitMs as number)}`;
      verdicts.push({
        text: `${subject.name} p99: ${p99 >= (metrics.waitMs as number) ? '≥ ' : ''}${milliseconds(p99)} (target ≤ ${TARGET_P99_MS} ms)`,
        value: p99,
        comparedWith: 'the target; floor (ioredis GET poll) in the same run',
        ...judge(p99, { op: '<=', value: TARGET_P99_MS }, [spreadOf(metrics)]),
        detail: `${withSpread(`p99 ${milliseconds(p99)}`, spreadOf(metrics))}; p50 ${milliseconds(metrics.p50Ms as number)}; ${seen}; floor p99 ${milliseconds(floor)}`,
      });
      if (metrics.listening === 0) {
        notes.push(
          `${subject.name}: B's change feed never armed (or L2 has no change feed), so B could only see a ` +
            'write once its L1 copy expired.',
        );
      }
    }
    for (const [name, metrics] of Object.entries(medians)) {
      if ((metrics.notHeldInL1 ?? 0) > 0) {
        notes.push(
          `${name}: in ${metrics.notHeldInL1} rounds B's L1 did not hold the old value before the write.`,
        );
      }
    }
    return { derived, verdicts, notes };
  },
};
