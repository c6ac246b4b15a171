import { withTimeout } from '@tiercache/core';
import { newTarget } from '../bench-redis.js';
import { median } from '../measure.js';
import type { Metrics, ProfileName, Scenario, SubjectDefinition, Verdict } from '../scenario.js';
import type { OutageAnswer, OutageClient, OutageFactory } from '../subjects/subject-contracts.js';
import { judge } from '../verdict-rule.js';

/*
 * What an L1-miss get costs while Redis is down: first frozen (SIGSTOP: connections stay open, nothing
 * answers), then dead (SIGKILL: connections refused). Each child starts a redis-server of its own for this,
 * so the run's shared server is never paused, and stops it at the end.
 */

interface OutageSettings {
  /** Gets per phase, one after another. */
  calls: number;
  /** The longest any one get is waited for; a get still waiting then is recorded as hung. */
  capMs: number;
  /**
   * A get still unanswered after this long is left waiting (up to the cap) and the phase's remaining gets are
   * made at once: a subject that hangs has shown it, and the phase stays bounded.
   */
  overlapAfterMs: number;
}

const SETTINGS: Record<ProfileName, OutageSettings> = {
  full: { calls: 8, capMs: 10_000, overlapAfterMs: 1_500 },
  quick: { calls: 6, capMs: 1_000, overlapAfterMs: 750 },
  smoke: { calls: 2, capMs: 300, overlapAfterMs: 150 },
};

const PHASES = ['paused', 'killed'] as const;
type Phase = (typeof PHASES)[number];

const ANSWERS: readonly (OutageAnswer | 'hung')[] = ['value', 'miss', 'error', 'hung'];
const HUNG = 3;

/** The tiered backend's circuit breaker opens after this many failures (its default). */
const BREAKER_THRESHOLD = 5;
const TARGET_AFTER_BREAKER_MS = 1;
/** The Redis backend's default commandTimeout, which the tiered subject's L2 keeps. */
const L2_TIMEOUT_MS = 500;
/** Node never fires a timer early, and fires it a little late: the answer comes just after the timeout. */
const TIMER_LATENESS_MS = 10;
const TIERED = 'tiercache tiered';

interface OutageSubject extends SubjectDefinition {
  load(): Promise<OutageFactory>;
}

const SUBJECTS: readonly OutageSubject[] = [
  {
    name: 'tiercache redis',
    role: 'tiercache',
    packages: ['@tiercache/backend-redis', '@tiercache/backend-redis>ioredis'],
    setup:
      'createRedisBackend({ url, keyPrefix }) (defaults: commandTimeout 500 ms, no offline queue); await backend.get(k)',
    load: async () => (await import('../subjects/tiercache-redis.js')).tiercacheRedisOutage,
  },
  {
    name: 'tiercache redis (timeout 50 ms)',
    role: 'tiercache',
    packages: ['@tiercache/backend-redis', '@tiercache/backend-redis>ioredis'],
    setup: 'createRedisBackend({ url, keyPrefix, commandTimeout: 50 }); await backend.get(k)',
    load: async () => (await import('../subjects/tiercache-redis.js')).tiercacheRedisOutageFastTimeout,
  },
  {
    name: TIERED,
    role: 'tiercache',
    packages: ['@tiercache/backend-tiered', '@tiercache/backend-redis', '@tiercache/backend-redis>ioredis'],
    setup: `createTieredBackend({ l1: { maxEntries }, l2: createRedisBackend({ url, keyPrefix }) }) (defaults: breaker opens after ${BREAKER_THRESHOLD} failures, onL2Failure 'error'); await tiered.get(k), k not in L1`,
    load: async () => (await import('../subjects/tiercache-tiered.js')).tiercacheTieredOutage,
  },
  {
    name: 'ioredis',
    role: 'baseline',
    packages: ['ioredis'],
    setup:
      'new Redis(url) (defaults: no command timeout, offline queue, 20 retries per command); await redis.get(k)',
    load: async () => (await import('../subjects/ioredis.js')).ioredisOutage,
  },
  {
    name: 'bentocache',
    role: 'peer',
    packages: ['bentocache', 'bentocache>ioredis'],
    setup: 'memory L1 + redisDriver L2 + redis bus, defaults; await bento.use().get({ key }), key not in L1',
    load: async () => (await import('../subjects/bentocache-redis.js')).bentocacheTieredOutage,
  },
  {
    name: 'cacheable',
    role: 'peer',
    packages: ['cacheable', 'keyv', '@keyv/redis'],
    setup:
      'new Cacheable({ primary: memory, secondary: createKeyv(url) }) (blocking, the default); await cache.get(k)',
    load: async () => (await import('../subjects/cacheable-redis.js')).cacheableTieredOutage,
  },
  {
    name: 'cacheable (nonBlocking)',
    role: 'peer',
    packages: ['cacheable', 'keyv', '@keyv/redis'],
    setup:
      "new Cacheable({ primary: memory, secondary: createKeyvNonBlocking(url), nonBlocking: true }) (its README's advice for Redis); await cache.get(k)",
    load: async () => (await import('../subjects/cacheable-redis.js')).cacheableNonBlockingOutage,
  },
  {
    name: 'cache-manager',
    role: 'peer',
    packages: ['cache-manager', 'keyv', '@keyv/redis'],
    setup: 'createCache({ stores: [memory Keyv, createKeyv(url)] }); await cache.get(k)',
    load: async () => (await import('../subjects/cache-manager-redis.js')).cacheManagerTieredOutage,
  },
];

interface CallRecord {
  ms: number;
  /** Index into ANSWERS. */
  answer: number;
}

/** Resolves after `ms`, with a timer `cancel` clears. */
function delay(ms: number): { done: Promise<undefined>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return { done, cancel: () => clearTimeout(timer) };
}

/** One get, waited for at most `capMs`: its time and answer, or the cap and `hung`. */
async function timedGet(client: OutageClient, key: string, capMs: number): Promise<CallRecord> {
  const started = process.hrtime.bigint();
  const call = client
    .get(key)
    .catch(() => ({ answer: 'error' as const }))
    .then(({ answer }) => ({
      ms: Number(process.hrtime.bigint() - started) / 1e6,
      answer: ANSWERS.indexOf(answer),
    }));
  const cap = delay(capMs);
  const record = await Promise.race([call, cap.done.then(() => ({ ms: capMs, answer: HUNG }))]);
  cap.cancel();
  return record;
}

/** The gets of one phase, one after another, until one is slow to answer; then the rest all at once. */
async function runPhase(client: OutageClient, phase: Phase, settings: OutageSettings): Promise<CallRecord[]> {
  const records: CallRecord[] = [];
  for (let i = 0; i < settings.calls; i++) {
    const pending = timedGet(client, `${phase}-${i}`, settings.capMs);
    const patience = delay(settings.overlapAfterMs);
    const early = await Promise.race([pending, patience.done]);
    patience.cancel();
    if (early) {
      records.push(early);
      continue;
    }
    const rest: Promise<CallRecord>[] = [];
    for (let j = i + 1; j < settings.calls; j++) rest.push(timedGet(client, `${phase}-${j}`, settings.capMs));
    records.push(...(await Promise.all([pending, ...rest])));
    break;
  }
  return records;
}

/**
 * ioredis prints every error of a connection that has no 'error' listener to the console, once per reconnect
 * attempt. BentoCache's bus connections have none, so while Redis is down they would fill the benchmark's
 * output. This counts those lines and keeps them out; the count is reported.
 */
function hideUnhandledIoredisErrors(): { count(): number; restore(): void } {
  const original = console.error;
  let count = 0;
  console.error = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].startsWith('[ioredis] Unhandled error event')) count++;
    else original(...args);
  };
  return {
    count: () => count,
    restore: () => {
      console.error = original;
    },
  };
}

function phaseMetrics(phase: Phase, records: readonly CallRecord[]): Metrics {
  const [first, ...later] = records;
  if (!first) throw new Error(`no call was made in the ${phase} phase`);
  const metrics: Metrics = {
    [`${phase}FirstMs`]: first.ms,
    [`${phase}FirstAnswer`]: first.answer,
  };
  if (later.length > 0) metrics[`${phase}LaterMedianMs`] = median(later.map((record) => record.ms));
  ANSWERS.forEach((answer, index) => {
    metrics[`${phase}Later_${answer}`] = later.filter((record) => record.answer === index).length;
  });
  records.forEach((record, i) => {
    metrics[`${phase}Call${i + 1}Ms`] = record.ms;
    metrics[`${phase}Call${i + 1}Answer`] = record.answer;
  });
  return metrics;
}

const latency = (ms: number): string =>
  ms >= 1_000 ? `${(ms / 1_000).toFixed(1)} s` : ms >= 10 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(2)} ms`;

function describeFirst(phase: Phase) {
  return (metrics: Metrics): string => {
    const ms = metrics[`${phase}FirstMs`];
    const answer = ANSWERS[metrics[`${phase}FirstAnswer`] ?? -1];
    if (ms === undefined || answer === undefined) return '–';
    return answer === 'hung' ? `≥ ${latency(ms)} hung` : `${latency(ms)} ${answer}`;
  };
}

function describeLater(phase: Phase) {
  return (metrics: Metrics): string => {
    const ms = metrics[`${phase}LaterMedianMs`];
    if (ms === undefined) return '–';
    const counts = ANSWERS.map((answer) => [answer, metrics[`${phase}Later_${answer}`] ?? 0] as const)
      .filter(([, count]) => count > 0)
      .map(([answer, count]) => `${count} ${answer}`)
      .join(', ');
    const allHung = (metrics[`${phase}Later_hung`] ?? 0) > 0 && counts.split(',').length === 1;
    return `${allHung ? '≥ ' : ''}${latency(ms)} (${counts})`;
  };
}

/** The median time of calls after the breaker opened (calls threshold + 1 … n), from the per-call metrics. */
function afterBreaker(metrics: Metrics, phase: Phase): { ms: number; calls: number } | undefined {
  const times: number[] = [];
  for (let call = BREAKER_THRESHOLD + 1; metrics[`${phase}Call${call}Ms`] !== undefined; call++) {
    times.push(metrics[`${phase}Call${call}Ms`] as number);
  }
  return times.length === 0 ? undefined : { ms: median(times), calls: times.length };
}

export const outage: Scenario = {
  name: 'outage',
  title: 'latency of a get that misses L1 while Redis is frozen (SIGSTOP) and while it is dead (SIGKILL)',
  notes: [
    "Each child starts a redis-server of its own (never the run's shared one), makes the subject, checks it " +
      'works (a set and a get), then SIGSTOPs the server and makes gets of keys never read before, so every ' +
      'get goes past any L1; then it SIGCONTs the server, makes a fresh subject, checks it works, SIGKILLs ' +
      'the server and does the same.',
    'Gets go one after another. Each is waited for at most the cap (10 s in a full run; shorter in quick and ' +
      'smoke runs, to keep them short) and recorded as "hung" if still waiting then. A get still unanswered ' +
      'after the patience time (1.5 s in a full run) is left waiting and the remaining gets are made at once, so ' +
      'a subject that hangs costs one cap per phase.',
    'An answer is "error" (the call threw, or tiercache answered Err), "miss" (it answered as if the key were ' +
      'absent: the outage is hidden from the caller) or "value". "later" is the median of every get after ' +
      'the first.',
    `The tiered backend's circuit breaker opens after ${BREAKER_THRESHOLD} consecutive failures; the verdicts ` +
      `give the median of the gets after that (get ${BREAKER_THRESHOLD + 1} on).`,
  ],
  subjects: SUBJECTS,
  passes: { full: 1, quick: 1, smoke: 1 },
  settings: (profile) => ({ ...SETTINGS[profile] }),

  async measure(subjectName, profile) {
    const subject = SUBJECTS.find((candidate) => candidate.name === subjectName);
    if (!subject) throw new Error(`outage has no subject ${JSON.stringify(subjectName)}`);
    const settings = SETTINGS[profile];
    const factory = await subject.load();
    const { startRedisServer } = await import('@tiercache/redis-harness');
    const quiet = hideUnhandledIoredisErrors();
    const server = await startRedisServer();
    try {
      const metrics: Metrics = { capMs: settings.capMs };
      for (const phase of PHASES) {
        const client = await factory(newTarget(server.url, 'outage'));
        try {
          // Up to about 10 s for the subject to connect, each try bounded too: a healthy server answers at once.
          let works = false;
          for (let attempt = 0; attempt < 20 && !works; attempt++) {
            const limit = delay(2_000);
            works = (await Promise.race([client.works(), limit.done])) === true;
            limit.cancel();
            if (!works) await delay(200).done;
          }
          if (!works) throw new Error(`${subjectName} did not work against a healthy server`);
          if (phase === 'paused') server.pause();
          else await server.kill();
          Object.assign(metrics, phaseMetrics(phase, await runPhase(client, phase, settings)));
        } finally {
          if (phase === 'paused') server.resume();
          await withTimeout(
            client.close().catch(() => {}),
            500,
            () => {},
          ); // a close that hangs must not hang the benchmark
        }
      }
      metrics.unhandledErrorEvents = quiet.count();
      return metrics;
    } finally {
      quiet.restore();
      await server.stop();
    }
  },

  columns: [
    { key: 'pausedFirstMs', label: 'stopped: 1st get', format: latency, describe: describeFirst('paused') },
    { key: 'pausedLaterMedianMs', label: 'later gets', format: latency, describe: describeLater('paused') },
    { key: 'killedFirstMs', label: 'killed: 1st get', format: latency, describe: describeFirst('killed') },
    { key: 'killedLaterMedianMs', label: 'later gets', format: latency, describe: describeLater('killed') },
  ],
  chart: {
    key: 'pausedFirstMs',
    caption: 'ms until the first get answers while Redis is SIGSTOPped (lower is better; the cap = hung)',
    format: latency,
    label: describeFirst('paused'),
  },

  summarize(medians) {
    const verdicts: Verdict[] = [];
    const tiered = medians[TIERED];
    if (tiered) {
      // Before the breaker opens, each L1 miss waits for L2 to time out: no longer than its timeout.
      const waits: number[] = [];
      let hung = false;
      for (let call = 1; call <= BREAKER_THRESHOLD && tiered[`pausedCall${call}Ms`] !== undefined; call++) {
        waits.push(tiered[`pausedCall${call}Ms`] as number);
        if (tiered[`pausedCall${call}Answer`] === HUNG) hung = true;
      }
      if (waits.length > 0) {
        const slowest = Math.max(...waits);
        const limit = L2_TIMEOUT_MS + TIMER_LATENESS_MS;
        verdicts.push({
          text: `tiercache tiered, Redis stopped, gets before the breaker opened: slowest ${latency(slowest)} (target ≤ the L2 timeout, ${L2_TIMEOUT_MS} ms, + ${TIMER_LATENESS_MS} ms of timer lateness)`,
          value: slowest,
          comparedWith: 'the target',
          // One pass: no spread, so the margin alone decides.
          ...judge(slowest, { op: '<=', value: limit }, [], !hung),
          detail: `gets 1–${waits.length}: ${waits.map(latency).join(', ')}${hung ? '; still waiting at the cap' : ''}`,
        });
      }
      for (const phase of PHASES) {
        const after = afterBreaker(tiered, phase);
        if (!after) continue;
        const before = [];
        for (let call = 1; call <= BREAKER_THRESHOLD; call++) {
          const ms = tiered[`${phase}Call${call}Ms`];
          if (ms !== undefined) before.push(latency(ms));
        }
        verdicts.push({
          text: `tiercache tiered, Redis ${phase === 'paused' ? 'stopped' : 'killed'}, gets after the breaker opened: ${latency(after.ms)} median (target < ${TARGET_AFTER_BREAKER_MS} ms)`,
          value: after.ms,
          comparedWith: 'the target',
          ...judge(after.ms, { op: '<=', value: TARGET_AFTER_BREAKER_MS }, []),
          detail: `gets 1–${BREAKER_THRESHOLD}: ${before.join(', ')}; ${after.calls} after`,
        });
      }
    }
    const notes: string[] = [];
    for (const [name, metrics] of Object.entries(medians)) {
      const hung = PHASES.filter(
        (phase) => metrics[`${phase}FirstAnswer`] === HUNG || (metrics[`${phase}Later_hung`] ?? 0) > 0,
      );
      if (hung.length > 0) {
        notes.push(
          `${name}: gets were still waiting after ${latency(metrics.capMs as number)} with Redis ${hung.map((phase) => (phase === 'paused' ? 'stopped' : 'killed')).join(' and with Redis ')}.`,
        );
      }
      if ((metrics.unhandledErrorEvents ?? 0) > 0) {
        notes.push(
          `${name}: ioredis printed "Unhandled error event" ${metrics.unhandledErrorEvents} times (connections without an error listener); the benchmark kept those lines out of its output.`,
        );
      }
      const silent = PHASES.filter(
        (phase) =>
          ANSWERS[metrics[`${phase}FirstAnswer`] ?? -1] === 'miss' ||
          (metrics[`${phase}Later_miss`] ?? 0) > 0,
      );
      if (silent.length > 0) {
        notes.push(
          `${name}: answered misses while Redis was ${silent.map((phase) => (phase === 'paused' ? 'stopped' : 'killed')).join(' and ')}: the caller cannot tell an outage from an absent key.`,
        );
      }
    }
    return { derived: {}, verdicts, notes };
  },
};
