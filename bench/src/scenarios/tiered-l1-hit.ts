import { adminClient, benchRedisUrl, commandsProcessed, deletePrefix, newTarget } from '../bench-redis.js';
import { copyStrings, generateEntries } from '../generate-entries.js';
import { pairedWithGet } from '../getorset-against-get.js';
import { measureThroughput, type Reader, sampleLatency, throughputFigures, verifyReads } from '../measure.js';
import type { Metrics, ProfileName, Scenario, SubjectDefinition, Verdict } from '../scenario.js';
import type { TieredGetHitFactory } from '../subjects/subject-contracts.js';
import { judge, ratioSpread, spreadOf, withSpread } from '../verdict-rule.js';
import { CAPACITY, FLOOR, getOrSetHitVerdict, KEY_BYTES, KEYS, VALUE_BYTES } from './memory-get-hit.js';

const SETTINGS: Record<ProfileName, { warmupMs: number; rounds: number; roundMs: number; samples: number }> =
  {
    full: { warmupMs: 1_000, rounds: 12, roundMs: 100, samples: 300_000 },
    quick: { warmupMs: 300, rounds: 6, roundMs: 50, samples: 30_000 },
    smoke: { warmupMs: 5, rounds: 2, roundMs: 2, samples: 1_000 },
  };

export const TIERCACHE = 'tiercache tiered';
const TARGET_RATIO_TO_FLOOR = 0.7;
/** getOrSet's hit path, against get's in the same run (the getOrSet issue's figure). */
const GET_OR_SET = 'tiercache tiered getOrSet';
const TARGET_RATIO_TO_PEER = 10;

interface TieredHitSubject extends SubjectDefinition {
  /** For subjects with an L2; the floor has none and uses `loadFloor`. */
  load?(): Promise<TieredGetHitFactory>;
}

const SUBJECTS: readonly TieredHitSubject[] = [
  {
    name: FLOOR,
    role: 'floor',
    packages: ['lru-cache'],
    setup: `new LRUCache({ max: ${CAPACITY} }); await Promise.resolve(lru.get(k)) (no L2: the least an async L1 hit costs)`,
  },
  {
    name: TIERCACHE,
    role: 'tiercache',
    packages: [
      '@tiercache/backend-tiered',
      '@tiercache/backend-redis',
      '@tiercache/backend-memory',
      '@tiercache/backend-redis>ioredis',
    ],
    setup: `createTieredBackend({ l1: { maxEntries: ${CAPACITY} }, l2: createRedisBackend({ url, keyPrefix }) }) (defaults: coherent through the L2 change feed); (await tiered.get(k)).isOk()`,
    load: async () => (await import('../subjects/tiercache-tiered.js')).tiercacheTieredGetHit,
  },
  {
    name: GET_OR_SET,
    role: 'tiercache',
    packages: [
      '@tiercache/backend-tiered',
      '@tiercache/backend-redis',
      '@tiercache/backend-memory',
      '@tiercache/backend-redis>ioredis',
    ],
    setup: 'the tiered cache above; (await tiered.getOrSet(k, loader, { ttl: 60 })).isOk()',
    load: async () => (await import('../subjects/tiercache-tiered.js')).tiercacheTieredGetOrSetHit,
  },
  {
    name: 'bentocache',
    role: 'peer',
    packages: ['bentocache', 'bentocache>ioredis'],
    setup: `bentostore().useL1Layer(memoryDriver({ maxItems: ${CAPACITY} })).useL2Layer(redisDriver(…)).useBus(redisBusDriver(…)); await bento.use().get({ key: k })`,
    load: async () => (await import('../subjects/bentocache-redis.js')).bentocacheTieredGetHit,
  },
  {
    name: 'cacheable',
    role: 'peer',
    packages: ['cacheable', 'keyv', '@keyv/redis'],
    setup:
      'new Cacheable({ primary: createKeyv({ useClone: false, storeHashSize: 1 }), secondary: createKeyv(url) (@keyv/redis) }); await cache.get(k)',
    load: async () => (await import('../subjects/cacheable-redis.js')).cacheableTieredGetHit,
  },
  {
    name: 'cache-manager',
    role: 'peer',
    packages: ['cache-manager', 'keyv', '@keyv/redis'],
    setup:
      'createCache({ stores: [new Keyv() (Map, no serialization), createKeyv(url) (@keyv/redis)] }); await cache.get(k)',
    load: async () => (await import('../subjects/cache-manager-redis.js')).cacheManagerTieredGetHit,
  },
];

const millions = (opsPerSec: number): string => `${(opsPerSec / 1e6).toFixed(2)} M`;
const nanoseconds = (ns: number): string => `${Math.round(ns).toLocaleString('en-US')} ns`;
const ratio = (value: number): string => value.toFixed(2);

/** Redis commands the server may see while L1 answers every read: heartbeats and the like, a few a second. */
function allowedBackgroundCommands(seconds: number): number {
  return 20 + 10 * seconds;
}

/** Times reads that should all be L1 hits: throughput from timed batches, then per-read latency samples. */
async function timedL1Reads(
  reader: Reader,
  lookupKeys: readonly string[],
  entries: { values: readonly string[] },
  profile: ProfileName,
): Promise<Metrics> {
  const settings = SETTINGS[profile];
  await verifyReads(reader, lookupKeys, entries.values);
  const { roundsOpsPerSec, batchOps } = await measureThroughput(reader, lookupKeys, settings);
  const latency = await sampleLatency(reader, lookupKeys, settings.samples);
  return {
    ...throughputFigures(roundsOpsPerSec, batchOps, latency),
    ...(await pairedWithGet(reader, lookupKeys, settings)),
  };
}

/**
 * Measures L1 hits of a cache with the run's Redis as L2 (made by `factory`), and proves they were hits: the
 * Redis server's count of commands processed may grow only by background commands meanwhile. Shared with the
 * scenarios that measure the same hit under other conditions (otel-l1-hit).
 */
export async function measureL1Hits(
  factory: TieredGetHitFactory,
  profile: ProfileName,
  scenarioName: string,
): Promise<Metrics> {
  const entries = generateEntries({ count: KEYS, keyBytes: KEY_BYTES, valueBytes: VALUE_BYTES });
  const lookupKeys = copyStrings(entries.keys);
  const url = benchRedisUrl();
  const target = newTarget(url, scenarioName);
  const admin = await adminClient(url);
  try {
    const { reader, close } = await factory(entries, CAPACITY, target);
    try {
      const started = process.hrtime.bigint();
      const before = await commandsProcessed(admin);
      const metrics = await timedL1Reads(reader, lookupKeys, entries, profile);
      // The INFO that reads the count is itself one command.
      const during = (await commandsProcessed(admin)) - before - 1;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // A smoke run measures several children at once on the same server, so its count is not this child's.
      if (profile !== 'smoke' && during > allowedBackgroundCommands(seconds)) {
        throw new Error(
          `Redis processed ${during} commands during ${seconds.toFixed(1)} s of reads: they were not all L1 hits`,
        );
      }
      return { ...metrics, redisCommandsDuringReads: during, readSeconds: seconds };
    } finally {
      await close();
    }
  } finally {
    await deletePrefix(admin, target.prefix);
    admin.disconnect();
  }
}

export const tieredL1Hit: Scenario = {
  name: 'tiered-l1-hit',
  title: `get on a key present in L1, with the run's Redis as L2: ${KEYS.toLocaleString('en-US')} distinct ${KEY_BYTES}-byte keys, ${VALUE_BYTES}-byte values, reads cycling through the keys`,
  notes: [
    'Measured as memory-get-hit: a sequential awaited loop timed in batches after a warm-up (median of ' +
      'batches, then of passes), and p50/p99 from per-read samples that include two clock reads. Reads use ' +
      'equal copies of the stored keys.',
    'Every entry is written through the cache under test (so it is in L1 and in Redis), every key is checked ' +
      "to read back its value, and then the Redis server's own count of commands processed is compared before " +
      'and after the timed reads: the reads are L1 hits only if Redis saw (next to) nothing. The count is in ' +
      'the table and the JSON (redisCommandsDuringReads); a child fails if it exceeds a few per second (a ' +
      'smoke run, which measures several children at once on one server, does not check it).',
    'The floor is lru-cache behind one await, as in memory-get-hit, with no L2 at all: it is what an L1 hit ' +
      'could cost at best.',
    "getOrSet's hit against get's is measured in pairs in the getOrSet subject's process, as in memory-get-hit.",
    'Each peer runs its two-tier setup in its fastest working configuration: BentoCache with a memory L1, a ' +
      'Redis L2 and its Redis bus (its way of keeping L1s coherent; the bus costs writes, not reads), L1 ' +
      'serialized as JSON: with an L2, `serialize: false` (its fastest in memory-get-hit) makes BentoCache ' +
      '1.6.1 throw on the second get of any value read from L2; cacheable with its tuned memory primary and a @keyv/redis secondary; cache-manager ' +
      'with its default memory store and a @keyv/redis store. Neither cacheable nor cache-manager keeps ' +
      "several processes' memory tiers coherent in these setups.",
    `cacheable and cache-manager keep unbounded memory tiers; tiercache, lru-cache and BentoCache are bounded ` +
      `LRUs of ${CAPACITY.toLocaleString('en-US')} entries.`,
  ],
  subjects: SUBJECTS,
  needsRedis: true,
  // Five passes in a full run: tiercache's figure here differs between processes by up to a third.
  passes: { full: 5, quick: 1, smoke: 1 },
  settings: (profile) => ({
    keys: KEYS,
    keyBytes: KEY_BYTES,
    valueBytes: VALUE_BYTES,
    capacity: CAPACITY,
    ...SETTINGS[profile],
  }),

  async measure(subjectName, profile) {
    const subject = SUBJECTS.find((candidate) => candidate.name === subjectName);
    if (!subject) throw new Error(`tiered-l1-hit has no subject ${JSON.stringify(subjectName)}`);
    if (!subject.load) {
      const entries = generateEntries({ count: KEYS, keyBytes: KEY_BYTES, valueBytes: VALUE_BYTES });
      const { lruCacheAwait } = await import('../subjects/lru-cache.js');
      return timedL1Reads(
        await lruCacheAwait(entries, CAPACITY),
        copyStrings(entries.keys),
        entries,
        profile,
      );
    }
    return measureL1Hits(await subject.load(), profile, 'tiered-l1-hit');
  },

  columns: [
    { key: 'opsPerSec', label: 'ops/s', format: millions },
    { key: 'ratioToFloor', label: '× floor', format: ratio },
    { key: 'p50Ns', label: 'p50', format: nanoseconds },
    { key: 'p99Ns', label: 'p99', format: nanoseconds },
    {
      key: 'redisCommandsDuringReads',
      label: 'Redis cmds during reads',
      format: (value) => String(Math.round(value)),
    },
  ],
  chart: {
    key: 'opsPerSec',
    caption: 'L1 get hits per second with a Redis L2, one read at a time (higher is better)',
    format: (value) => `${millions(value)} ops/s`,
    annotate: { key: 'ratioToFloor', suffix: '× floor' },
  },

  summarize(medians, passes) {
    const floor = medians[FLOOR]?.opsPerSec;
    const ours = medians[TIERCACHE]?.opsPerSec;
    if (floor === undefined || ours === undefined)
      throw new Error('tiered-l1-hit needs the floor and tiercache');
    const derived: Record<string, Metrics> = {};
    for (const [name, metrics] of Object.entries(medians)) {
      derived[name] = { ratioToFloor: (metrics.opsPerSec as number) / floor };
    }
    const toFloor = ours / floor;
    const [ourSpread, floorSpread] = [spreadOf(medians[TIERCACHE]), spreadOf(medians[FLOOR])];
    const verdicts: Verdict[] = [
      {
        text: `tiercache tiered L1 hit: ${ratio(toFloor)} × floor (target ≥ ${ratio(TARGET_RATIO_TO_FLOOR)})`,
        value: toFloor,
        comparedWith: FLOOR,
        ...judge(toFloor, { op: '>=', value: TARGET_RATIO_TO_FLOOR }, [
          ratioSpread(passes, TIERCACHE, FLOOR, 'opsPerSec'),
        ]),
        detail: `${withSpread(`${millions(ours)} ops/s`, ourSpread)} vs ${withSpread(`${millions(floor)} ops/s`, floorSpread)}`,
      },
    ];
    const getOrSetVerdict = getOrSetHitVerdict('tiercache tiered', medians, passes, GET_OR_SET, TIERCACHE);
    if (getOrSetVerdict) verdicts.push(getOrSetVerdict);
    const best = SUBJECTS.filter((subject) => subject.role === 'peer' && medians[subject.name]).reduce<
      { name: string; opsPerSec: number } | undefined
    >((leader, subject) => {
      const opsPerSec = medians[subject.name]?.opsPerSec as number;
      return leader && leader.opsPerSec >= opsPerSec ? leader : { name: subject.name, opsPerSec };
    }, undefined);
    if (best) {
      const toPeer = ours / best.opsPerSec;
      const peerSpread = spreadOf(medians[best.name]);
      verdicts.push({
        text: `tiercache tiered L1 hit: ${ratio(toPeer)} × best peer, ${best.name} (target ≥ ${TARGET_RATIO_TO_PEER})`,
        value: toPeer,
        comparedWith: best.name,
        ...judge(toPeer, { op: '>=', value: TARGET_RATIO_TO_PEER }, [
          ratioSpread(passes, TIERCACHE, best.name, 'opsPerSec'),
        ]),
        detail: `${withSpread(`${millions(ours)} ops/s`, ourSpread)} vs ${withSpread(`${millions(best.opsPerSec)} ops/s`, peerSpread)}`,
      });
    }
    return { derived, verdicts, notes: [] };
  },
};
