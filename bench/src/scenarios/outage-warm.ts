import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { type CacheBackend, OPERATION_CHANNEL } from '@tiercache/core';
import { newTarget } from '../bench-redis.js';
import { median, percentile } from '../measure.js';
import type { Metrics, ProfileName, Scenario, SubjectDefinition, Verdict } from '../scenario.js';
import { judge, spreadOf } from '../verdict-rule.js';

/*
 * What a get of a warm key (one L1 holds) costs and answers once Redis is dead (SIGKILL): the tiered backend's
 * stale-if-error, against the same cache with `staleIfError: 0` (the strict behaviour: the Err it answered
 * before). Each child starts a redis-server of its own, as `outage` does, and kills it.
 */

interface Settings {
  /** Warm keys written through the cache before Redis is killed. */
  keys: number;
  /** Timed gets of warm keys, one after another, after the feed has reported the loss. */
  gets: number;
}

const SETTINGS: Record<ProfileName, Settings> = {
  full: { keys: 1_000, gets: 20_000 },
  quick: { keys: 1_000, gets: 5_000 },
  smoke: { keys: 20, gets: 50 },
};

/** Gets observed on the operation channel after the timed ones, to prove what they answered. */
const CHECKED = 20;
const TARGET_MEDIAN_MS = 1;
const STALE = 'tiercache tiered';
const STRICT = 'tiercache tiered (staleIfError: 0)';

interface WarmSubject extends SubjectDefinition {
  staleIfError: number | undefined;
}

const SETUP =
  'createTieredBackend({ l1: { maxEntries: 20_000 }, l2: createRedisBackend({ url, keyPrefix }), ... }); keys written through it; redis-server SIGKILLed; await tiered.get(k), k in L1';

const SUBJECTS: readonly WarmSubject[] = [
  {
    name: STALE,
    role: 'tiercache',
    packages: ['@tiercache/backend-tiered', '@tiercache/backend-redis', '@tiercache/backend-redis>ioredis'],
    setup: `${SETUP} (staleIfError: its default, l1Ttl = 60 s)`,
    staleIfError: undefined,
  },
  {
    name: STRICT,
    role: 'tiercache',
    packages: ['@tiercache/backend-tiered', '@tiercache/backend-redis', '@tiercache/backend-redis>ioredis'],
    setup: `${SETUP} (staleIfError: 0: the behaviour before stale-if-error)`,
    staleIfError: 0,
  },
];

/** Resolves once `check` holds, or after `ms`: whether it held. */
async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  return check();
}

/** The outcomes the operation channel reports for `CHECKED` gets of warm keys. */
async function observedOutcomes(cache: CacheBackend, keys: readonly string[]): Promise<Metrics> {
  const counts: Metrics = { checkedStale: 0, checkedHit: 0, checkedError: 0 };
  const listener = (message: unknown) => {
    const { outcome } = message as { outcome: string };
    if (outcome === 'stale') counts.checkedStale = (counts.checkedStale ?? 0) + 1;
    else if (outcome === 'hit') counts.checkedHit = (counts.checkedHit ?? 0) + 1;
    else if (outcome === 'error') counts.checkedError = (counts.checkedError ?? 0) + 1;
  };
  subscribe(OPERATION_CHANNEL, listener);
  try {
    for (let i = 0; i < CHECKED; i++) await cache.get(keys[i % keys.length] as string);
  } finally {
    unsubscribe(OPERATION_CHANNEL, listener);
  }
  return counts;
}

const latency = (ms: number): string =>
  ms >= 10 ? `${ms.toFixed(0)} ms` : ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(1)} µs`;

export const outageWarm: Scenario = {
  name: 'outage-warm',
  title: 'latency and answer of a get of a warm key (held in L1) while Redis is dead (SIGKILL)',
  notes: [
    'Each child starts a redis-server of its own, makes the tiered cache, waits for its change feed to arm, ' +
      'writes the keys through it (so L1 holds them), SIGKILLs the server and waits until the feed reports the ' +
      'loss (from then on L1 answers nothing on its own: a read that Redis cannot answer falls back to the L1 ' +
      'copy only with staleIfError).',
    'The gets go one after another over the warm keys, unobserved (no subscriber on the operation channel, as ' +
      'in production without metrics); the first five each make one failed L2 call, the rest are refused by the ' +
      'open breaker. Afterwards 20 more gets are made with a subscriber on `tiercache:operation` to count what ' +
      'they answered (stale, hit or error).',
  ],
  subjects: SUBJECTS,
  passes: { full: 3, quick: 1, smoke: 1 },
  settings: (profile) => ({ ...SETTINGS[profile] }),

  async measure(subjectName, profile) {
    const subject = SUBJECTS.find((candidate) => candidate.name === subjectName);
    if (!subject) throw new Error(`outage-warm has no subject ${JSON.stringify(subjectName)}`);
    const { keys: keyCount, gets } = SETTINGS[profile];
    const { startRedisServer } = await import('@tiercache/redis-harness');
    const { createRedisBackend } = await import('@tiercache/backend-redis');
    const { createTieredBackend } = await import('@tiercache/backend-tiered');
    const server = await startRedisServer();
    const target = newTarget(server.url, 'outage-warm');
    const l2 = createRedisBackend({ url: target.url, keyPrefix: `${target.prefix}:` });
    const cache = createTieredBackend({
      l1: { maxEntries: 20_000 },
      l2,
      ...(subject.staleIfError === undefined ? {} : { staleIfError: subject.staleIfError }),
    });
    try {
      if (!(await waitFor(() => l2.changes?.armed === true, 10_000))) {
        throw new Error(`${subjectName}: the change feed did not arm`);
      }
      const keys = Array.from({ length: keyCount }, (_, i) => `warm-${i}`);
      for (const key of keys) {
        const written = await cache.set(key, `value of ${key}`);
        if (written.isErr()) throw new Error(`${subjectName}: set failed: ${written.error.message}`);
      }
      await server.kill();
      if (!(await waitFor(() => l2.changes?.armed === false, 10_000))) {
        throw new Error(`${subjectName}: the change feed did not report the loss`);
      }
      const times = new Float64Array(gets);
      let values = 0;
      let errors = 0;
      for (let i = 0; i < gets; i++) {
        const key = keys[i % keys.length] as string;
        const started = process.hrtime.bigint();
        const result = await cache.get(key);
        times[i] = Number(process.hrtime.bigint() - started) / 1e6;
        if (result.isErr()) errors++;
        else if (result.value === `value of ${key}`) values++;
        else throw new Error(`${subjectName}: ${key} answered ${JSON.stringify(result.value)}`);
      }
      return {
        medianMs: median(times),
        p99Ms: percentile(times, 99),
        values,
        errors,
        ...(await observedOutcomes(cache, keys)),
      };
    } finally {
      await cache.close().catch(() => {});
      await server.stop();
    }
  },

  columns: [
    { key: 'medianMs', label: 'get p50', format: latency },
    { key: 'p99Ms', label: 'get p99', format: latency },
    { key: 'values', label: 'answered the value', format: (n) => n.toFixed(0) },
    { key: 'errors', label: 'answered Err', format: (n) => n.toFixed(0) },
    { key: 'checkedStale', label: `of ${CHECKED} observed: stale`, format: (n) => n.toFixed(0) },
  ],
  chart: {
    key: 'medianMs',
    caption: 'median µs of a get of a warm key with Redis SIGKILLed (lower is better)',
    format: latency,
    label: (metrics) =>
      `${latency(metrics.medianMs ?? 0)}: ${metrics.values ?? 0} values, ${metrics.errors ?? 0} Err`,
  },

  summarize(medians) {
    const verdicts: Verdict[] = [];
    const stale = medians[STALE];
    const strict = medians[STRICT];
    if (stale) {
      const answeredAll = (stale.errors ?? 1) === 0 && (stale.checkedStale ?? 0) === CHECKED;
      verdicts.push({
        text: `tiercache tiered, Redis killed, warm key: ${latency(stale.medianMs ?? Number.NaN)} median, ${answeredAll ? 'every get answered its stale copy' : 'NOT every get answered its stale copy'} (target < ${TARGET_MEDIAN_MS} ms)`,
        value: stale.medianMs ?? Number.NaN,
        comparedWith: strict ? `the target; ${STRICT} in the same run` : 'the target',
        ...judge(
          stale.medianMs ?? Number.POSITIVE_INFINITY,
          { op: '<=', value: TARGET_MEDIAN_MS },
          [spreadOf(stale)],
          answeredAll,
        ),
        detail: strict
          ? `${STRICT}: ${latency(strict.medianMs ?? Number.NaN)} median, ${strict.errors ?? 0} of ${(strict.errors ?? 0) + (strict.values ?? 0)} answered Err`
          : `p99 ${latency(stale.p99Ms ?? Number.NaN)}`,
      });
    }
    return { derived: {}, verdicts, notes: [] };
  },
};
