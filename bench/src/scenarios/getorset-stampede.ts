import { setTimeout as sleep } from 'node:timers/promises';
import { adminClient, benchRedisUrl, deletePrefix, newTarget, type RedisTarget } from '../bench-redis.js';
import { median } from '../measure.js';
import type { Metrics, ProfileName, Scenario, SubjectDefinition, Verdict } from '../scenario.js';
import type { GetOrSetClient, GetOrSetFactory } from '../subjects/subject-contracts.js';
import { judge } from '../verdict-rule.js';
import { type Channel, startWorker, type Worker } from '../worker-process.js';

/*
 * A hundred callers ask for the same missing key at once, and loading it takes 50 ms: how many times does the
 * loader run, and how long until every caller has a value? Once in one process, then in four processes at
 * once sharing the run's Redis.
 */

const CALLERS = 100;
const LOADER_MS = 50;
/** Processes calling at once; a smoke run uses two, to stay short on two cores. */
const PROCESSES: Record<ProfileName, number> = { full: 4, quick: 4, smoke: 2 };
/** Workers start together at a moment this far ahead, so every process is ready and waiting for it. */
const START_LEAD_MS = 50;

const ROUNDS: Record<ProfileName, number> = { full: 5, quick: 3, smoke: 1 };
/** With `lock`, every caller in every process has its value within this many loader times (issue figure). */
const TARGET_WALL_RATIO = 1.3;

interface StampedeSubject extends SubjectDefinition {
  load(): Promise<GetOrSetFactory>;
}

const FLOOR = 'floor: raw GET + one load per process + SET';

const SUBJECTS: readonly StampedeSubject[] = [
  {
    name: FLOOR,
    role: 'reference',
    packages: ['ioredis-5'],
    setup:
      "new Redis(url) (ioredis 5); await redis.get(k), on a miss one loader call per process shared by its callers, then redis.set(k, v, 'PX', 60000)",
    load: async () => (await import('../subjects/getorset-floor.js')).rawGetOrSetFloor,
  },
  {
    name: 'tiercache tiered',
    role: 'tiercache',
    packages: ['@tiercache/backend-tiered', '@tiercache/backend-redis', '@tiercache/backend-redis>ioredis'],
    setup:
      'createTieredBackend({ l1, l2: createRedisBackend({ url, keyPrefix }) }); await tiered.getOrSet(k, loader, { ttl: 60 })',
    load: async () => (await import('../subjects/tiercache-tiered.js')).tiercacheTieredGetOrSet,
  },
  {
    name: 'tiercache tiered, lock',
    role: 'tiercache',
    packages: ['@tiercache/backend-tiered', '@tiercache/backend-redis', '@tiercache/backend-redis>ioredis'],
    setup: 'as above; await tiered.getOrSet(k, loader, { ttl: 60, lock: true })',
    load: async () => (await import('../subjects/tiercache-tiered.js')).tiercacheTieredLockedGetOrSet,
  },
  {
    name: 'tiercache redis, lock',
    role: 'tiercache',
    packages: ['@tiercache/backend-redis', '@tiercache/backend-redis>ioredis'],
    setup:
      'createRedisBackend({ url, keyPrefix }); await backend.getOrSet(k, loader, { ttl: 60, lock: true })',
    load: async () => (await import('../subjects/tiercache-redis.js')).tiercacheRedisLockedGetOrSet,
  },
  {
    name: 'tiercache redis',
    role: 'tiercache',
    packages: ['@tiercache/backend-redis', '@tiercache/backend-redis>ioredis'],
    setup: 'createRedisBackend({ url, keyPrefix }); await backend.getOrSet(k, loader, { ttl: 60 })',
    load: async () => (await import('../subjects/tiercache-redis.js')).tiercacheRedisGetOrSet,
  },
  {
    name: 'bentocache',
    role: 'peer',
    packages: ['bentocache', 'bentocache>ioredis'],
    setup:
      "memory L1 + Redis L2 + Redis bus; await bento.use().getOrSet({ key, factory: loader, ttl: '1m' })",
    load: async () => (await import('../subjects/bentocache-redis.js')).bentocacheGetOrSet,
  },
  {
    name: 'cacheable',
    role: 'peer',
    packages: ['cacheable', 'keyv', '@keyv/redis'],
    setup: "memory primary + @keyv/redis secondary; await cache.getOrSet(k, loader, { ttl: '1m' })",
    load: async () => (await import('../subjects/cacheable-redis.js')).cacheableGetOrSet,
  },
  {
    name: 'cache-manager',
    role: 'peer',
    packages: ['cache-manager', 'keyv', '@keyv/redis'],
    setup: 'stores: [memory Keyv, @keyv/redis]; await cache.wrap(k, loader, 60_000)',
    load: async () => (await import('../subjects/cache-manager-redis.js')).cacheManagerWrap,
  },
];

function findSubject(name: string): StampedeSubject {
  const subject = SUBJECTS.find((candidate) => candidate.name === name);
  if (!subject) throw new Error(`getorset-stampede has no subject ${JSON.stringify(name)}`);
  return subject;
}

interface Stampede {
  loaderCalls: number;
  /** When the last caller had its value (process.hrtime). */
  endedAt: bigint;
  /** Callers that did not get the loaded value. */
  wrong: number;
}

/** Makes CALLERS calls for `key` at once, each loading in LOADER_MS if it has to. */
async function stampede(client: GetOrSetClient, key: string): Promise<Stampede> {
  const expected = `loaded:${key}`;
  let loaderCalls = 0;
  const loader = async () => {
    loaderCalls++;
    await sleep(LOADER_MS);
    return expected;
  };
  let endedAt = 0n;
  let wrong = 0;
  const calls: Promise<void>[] = [];
  for (let i = 0; i < CALLERS; i++) {
    calls.push(
      client.getOrSet(key, loader).then(
        (value) => {
          endedAt = process.hrtime.bigint();
          if (value !== expected) wrong++;
        },
        () => {
          endedAt = process.hrtime.bigint();
          wrong++;
        },
      ),
    );
  }
  await Promise.all(calls);
  return { loaderCalls, endedAt, wrong };
}

/** Sleeps until the monotonic clock reads `at`: a timer for most of the wait, then a short spin. */
async function waitUntil(at: bigint): Promise<void> {
  const aheadMs = Number(at - process.hrtime.bigint()) / 1e6;
  if (aheadMs > 2) await sleep(aheadMs - 2);
  while (process.hrtime.bigint() < at) {
    // Spin the last milliseconds: a timer would wake late by about that much.
  }
}

/** One of the four processes: makes the subject's cache, then runs a stampede at each moment it is given. */
async function callerWorker(channel: Channel, args: unknown): Promise<void> {
  const { subject, target } = args as { subject: string; target: RedisTarget };
  const client = await (await findSubject(subject).load())(target);
  try {
    await channel.send({ type: 'ready' });
    for (;;) {
      const message = await channel.next(['go', 'stop'], 120_000);
      if (message.type === 'stop') return;
      await waitUntil(message.at as bigint);
      const result = await stampede(client, message.key as string);
      await channel.send({ type: 'done', ...result });
    }
  } finally {
    await Promise.race([client.close().catch(() => {}), sleep(1_000)]);
  }
}

const milliseconds = (ms: number): string => `${ms.toFixed(0)} ms`;
const count = (value: number): string => String(Math.round(value));

export const getOrSetStampede: Scenario = {
  name: 'getorset-stampede',
  title: `${CALLERS} concurrent getOrSet calls for one missing key, loader taking ${LOADER_MS} ms: in 1 process, and in ${PROCESSES.full} processes at once sharing the run's Redis`,
  notes: [
    `One process: the measuring child makes ${CALLERS} calls in one synchronous loop and awaits them all. ` +
      `${PROCESSES.full} processes (${PROCESSES.smoke} in a smoke run): as many workers, each with its own ` +
      'cache on the same Redis and prefix, ' +
      `are told a moment ${START_LEAD_MS} ms ahead and each makes ${CALLERS} calls at that moment ` +
      '(process.hrtime, the same monotonic clock for all). A fresh key each round.',
    '"loader calls" counts the loader runs in all processes; "time" runs from the first call to the last ' +
      'caller holding a value (in several processes, from the common start to the last caller in any one). ' +
      'Every caller must receive the loaded value. No target: a comparison.',
  ],
  subjects: SUBJECTS,
  needsRedis: true,
  workers: { caller: callerWorker },
  passes: { full: 1, quick: 1, smoke: 1 },
  settings: (profile) => ({
    callers: CALLERS,
    loaderMs: LOADER_MS,
    processes: PROCESSES[profile],
    rounds: ROUNDS[profile],
  }),

  async measure(subjectName, profile) {
    const subject = findSubject(subjectName);
    const rounds = ROUNDS[profile];
    const url = benchRedisUrl();
    const target = newTarget(url, 'getorset-stampede');
    const admin = await adminClient(url);
    const workers: Worker[] = [];
    try {
      const client = await (await subject.load())(target);
      const solo: Stampede[] = [];
      const soloMs: number[] = [];
      try {
        for (let round = 0; round < rounds; round++) {
          const started = process.hrtime.bigint();
          const result = await stampede(client, `solo-${round}`);
          solo.push(result);
          soloMs.push(Number(result.endedAt - started) / 1e6);
        }
      } finally {
        await Promise.race([client.close().catch(() => {}), sleep(1_000)]);
      }

      for (let i = 0; i < PROCESSES[profile]; i++) {
        workers.push(startWorker('getorset-stampede', 'caller', { subject: subjectName, target }));
      }
      await Promise.all(workers.map((worker) => worker.channel.next('ready', 60_000)));
      const multiCalls: number[] = [];
      const multiMs: number[] = [];
      let multiWrong = 0;
      for (let round = 0; round < rounds; round++) {
        const at = process.hrtime.bigint() + BigInt(START_LEAD_MS) * 1_000_000n;
        const key = `multi-${round}`;
        await Promise.all(workers.map((worker) => worker.channel.send({ type: 'go', key, at })));
        const results = await Promise.all(workers.map((worker) => worker.channel.next('done', 30_000)));
        multiCalls.push(results.reduce((sum, result) => sum + (result.loaderCalls as number), 0));
        let last = at;
        for (const result of results) if ((result.endedAt as bigint) > last) last = result.endedAt as bigint;
        multiMs.push(Number(last - at) / 1e6);
        multiWrong += results.reduce((sum, result) => sum + (result.wrong as number), 0);
      }
      const soloWrong = solo.reduce((sum, result) => sum + result.wrong, 0);
      if (soloWrong + multiWrong > 0) {
        throw new Error(`${soloWrong + multiWrong} callers did not receive the loaded value`);
      }
      const soloCalls = solo.map((result) => result.loaderCalls);
      return {
        soloLoaderCalls: median(soloCalls),
        soloLoaderCallsMax: Math.max(...soloCalls),
        soloMs: median(soloMs),
        multiLoaderCalls: median(multiCalls),
        multiLoaderCallsMax: Math.max(...multiCalls),
        multiMs: median(multiMs),
        multiMsMax: Math.max(...multiMs),
        processes: PROCESSES[profile],
        rounds,
      };
    } finally {
      await Promise.all(workers.map((worker) => worker.stop(5_000)));
      await deletePrefix(admin, target.prefix);
      admin.disconnect();
    }
  },

  columns: [
    { key: 'soloLoaderCalls', label: '1 process: loader calls', format: count },
    { key: 'soloMs', label: 'time', format: milliseconds },
    {
      key: 'multiLoaderCalls',
      label: 'all processes: loader calls',
      format: count,
      describe: (metrics) =>
        metrics.multiLoaderCallsMax === metrics.multiLoaderCalls
          ? count(metrics.multiLoaderCalls ?? 0)
          : `${count(metrics.multiLoaderCalls ?? 0)} (max ${count(metrics.multiLoaderCallsMax ?? 0)})`,
    },
    { key: 'multiMs', label: 'time', format: milliseconds },
  ],
  chart: {
    key: 'multiLoaderCalls',
    caption: `loader calls in all processes, ${CALLERS} callers in each of ${PROCESSES.full} (${PROCESSES.smoke} in a smoke run), median of rounds (lower is better)`,
    format: count,
    label: (metrics) =>
      `${count(metrics.multiLoaderCalls ?? 0)} calls, ${milliseconds(metrics.multiMs ?? 0)}`,
  },

  summarize(medians) {
    const rounds = Object.values(medians)[0]?.rounds ?? 0;
    const processes = Object.values(medians)[0]?.processes ?? 0;
    const notes = [
      `Figures are medians over ${rounds} round${rounds === 1 ? '' : 's'}; "all processes" means ${processes} here.`,
    ];
    const names = (test: (metrics: Metrics) => boolean) =>
      Object.entries(medians)
        .filter(([, metrics]) => test(metrics))
        .map(([name]) => name);
    const deduplicated = names((metrics) => metrics.soloLoaderCallsMax === 1);
    const notDeduplicated = names((metrics) => (metrics.soloLoaderCallsMax ?? 0) > 1);
    const perProcess = names((metrics) => (metrics.multiLoaderCalls ?? 0) >= processes);
    const acrossProcesses = names((metrics) => (metrics.multiLoaderCallsMax ?? 0) < processes);
    if (deduplicated.length > 0) {
      notes.push(
        `Within one process, one loader call served all ${CALLERS} callers for: ${deduplicated.join(', ')}.`,
      );
    }
    if (notDeduplicated.length > 0) {
      notes.push(`Within one process, the loader ran more than once for: ${notDeduplicated.join(', ')}.`);
    }
    if (perProcess.length > 0) {
      notes.push(
        `Across ${processes} processes, each process ran its own loader (no lock across processes) for: ${perProcess.join(', ')}.`,
      );
    }
    if (acrossProcesses.length > 0) {
      notes.push(
        `Across ${processes} processes, fewer than ${processes} loader calls in every round for: ${acrossProcesses.join(', ')}.`,
      );
    }
    const verdicts: Verdict[] = [];
    const floorMs = medians[FLOOR]?.multiMs;
    if (floorMs !== undefined) {
      notes.push(
        `${FLOOR} (no lock: each process loads once) took ${milliseconds(floorMs)} in ${processes} processes, ` +
          `${(floorMs / LOADER_MS).toFixed(2)} × the loader's ${LOADER_MS} ms: the least any subject's time can be ` +
          'on this machine, since every subject does at least that much in each process.',
      );
    }
    for (const name of ['tiercache tiered, lock', 'tiercache redis, lock']) {
      const metrics = medians[name];
      if (!metrics) continue;
      const calls = metrics.multiLoaderCallsMax ?? 0;
      const wall = (metrics.multiMs ?? 0) / LOADER_MS;
      verdicts.push({
        text: `${name}: ${count(calls)} loader run${calls === 1 ? '' : 's'} across ${processes} processes (target 1), every caller answered in ${wall.toFixed(2)} × the loader's ${LOADER_MS} ms (target ≤ ${TARGET_WALL_RATIO})`,
        value: wall,
        comparedWith: `the loader's own ${LOADER_MS} ms`,
        // One pass (the rounds repeat inside the child), so no spread: the margin alone decides.
        ...judge(wall, { op: '<=', value: TARGET_WALL_RATIO }, [], calls === 1),
        detail: `max ${count(calls)} loader runs; ${milliseconds(metrics.multiMs ?? 0)} median, ${milliseconds(metrics.multiMsMax ?? 0)} max`,
      });
      if (floorMs !== undefined) {
        const overFloor = (metrics.multiMs ?? 0) / floorMs;
        verdicts.push({
          text: `${name}: every caller answered in ${overFloor.toFixed(2)} × the floor's time (${milliseconds(floorMs)}, no lock)`,
          value: overFloor,
          comparedWith: FLOOR,
          detail: `${milliseconds(metrics.multiMs ?? 0)} vs ${milliseconds(floorMs)}`,
        });
      }
    }
    return { derived: {}, verdicts, notes };
  },
};
