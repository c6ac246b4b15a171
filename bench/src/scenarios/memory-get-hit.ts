import { copyStrings, generateEntries } from '../generate-entries.js';
import { pairedWithGet } from '../getorset-against-get.js';
import {
  measureThroughput,
  median,
  sampleLatency,
  sampleTimerOverhead,
  throughputFigures,
  verifyReads,
} from '../measure.js';
import type { Metrics, ProfileName, Scenario, SubjectDefinition, Verdict } from '../scenario.js';
import type { GetHitFactory } from '../subjects/subject-contracts.js';
import { judge, type PassMetrics, passSpread, ratioSpread, spreadOf, withSpread } from '../verdict-rule.js';

// The workload, shared with tiered-l1-hit so that its L1 hits compare with these.
export const KEYS = 10_000;
export const KEY_BYTES = 16;
export const VALUE_BYTES = 100;
/** Twice the keys, so no subject with a bound (an LRU, an L1) ever evicts during the run. */
export const CAPACITY = 20_000;

const SETTINGS: Record<ProfileName, { warmupMs: number; rounds: number; roundMs: number; samples: number }> =
  {
    full: { warmupMs: 2_000, rounds: 25, roundMs: 100, samples: 500_000 },
    quick: { warmupMs: 500, rounds: 10, roundMs: 50, samples: 100_000 },
    smoke: { warmupMs: 5, rounds: 2, roundMs: 2, samples: 1_000 },
  };

export const FLOOR = 'lru-cache (await)';
export const TIERCACHE = 'tiercache memory';
/** The issue's target: a hit at 0.85 × the floor's rate or better. */
const TARGET_RATIO_TO_FLOOR = 0.85;
/** getOrSet's hit path, against get's in the same run (the getOrSet issue's figure). */
const GET_OR_SET = 'tiercache memory getOrSet';

interface GetHitSubject extends SubjectDefinition {
  load(): Promise<GetHitFactory>;
}

const SUBJECTS: readonly GetHitSubject[] = [
  {
    name: 'lru-cache (sync)',
    role: 'ceiling',
    packages: ['lru-cache'],
    setup: `new LRUCache({ max: ${CAPACITY} }); lru.get(k)`,
    load: async () => (await import('../subjects/lru-cache.js')).lruCacheSync,
  },
  {
    name: FLOOR,
    role: 'floor',
    packages: ['lru-cache'],
    setup: `new LRUCache({ max: ${CAPACITY} }); await Promise.resolve(lru.get(k))`,
    load: async () => (await import('../subjects/lru-cache.js')).lruCacheAwait,
  },
  {
    name: TIERCACHE,
    role: 'tiercache',
    packages: ['@tiercache/backend-memory', '@tiercache/core'],
    setup: `createMemoryBackend({ maxEntries: ${CAPACITY} }); (await backend.get(k)).isOk()`,
    load: async () => (await import('../subjects/tiercache-memory.js')).tiercacheMemoryGetHit,
  },
  {
    name: GET_OR_SET,
    role: 'tiercache',
    packages: ['@tiercache/backend-memory', '@tiercache/core'],
    setup: `createMemoryBackend({ maxEntries: ${CAPACITY} }); (await backend.getOrSet(k, loader, { ttl: 60 })).isOk()`,
    load: async () => (await import('../subjects/tiercache-memory.js')).tiercacheMemoryGetOrSetHit,
  },
  {
    name: 'bentocache',
    role: 'peer',
    packages: ['bentocache'],
    setup: `L1 only, memoryDriver({ maxItems: ${CAPACITY}, serialize: false }); await bento.use().get({ key: k })`,
    load: async () => (await import('../subjects/bentocache.js')).bentocacheGetHit,
  },
  {
    name: 'cache-manager',
    role: 'peer',
    packages: ['cache-manager'],
    setup: 'createCache() (default Keyv Map store, unbounded); await cache.get(k)',
    load: async () => (await import('../subjects/cache-manager.js')).cacheManagerGetHit,
  },
  {
    name: 'cacheable',
    role: 'peer',
    packages: ['cacheable'],
    setup:
      'new Cacheable({ primary: createKeyv({ useClone: false, storeHashSize: 1 }) }) (unbounded); await cache.get(k)',
    load: async () => (await import('../subjects/cacheable.js')).cacheableGetHit,
  },
  {
    name: 'cacheable (defaults)',
    role: 'peer',
    packages: ['cacheable'],
    setup: 'new Cacheable() (Keyv over CacheableMemory with its defaults, unbounded); await cache.get(k)',
    load: async () => (await import('../subjects/cacheable.js')).cacheableDefaultsGetHit,
  },
];

const millions = (opsPerSec: number): string => `${(opsPerSec / 1e6).toFixed(2)} M`;
const nanoseconds = (ns: number): string => `${Math.round(ns).toLocaleString('en-US')} ns`;
const ratio = (value: number): string => value.toFixed(2);

export const memoryGetHit: Scenario = {
  name: 'memory-get-hit',
  title: `get on a present key: ${KEYS.toLocaleString('en-US')} distinct ${KEY_BYTES}-byte keys, ${VALUE_BYTES}-byte values, reads cycling through the keys`,
  notes: [
    'Throughput: a sequential loop, each read finished (awaited) before the next starts, timed in whole batches ' +
      'with process.hrtime.bigint() after a warm-up; per child, the median of the batches; then the median ' +
      'over the passes. "× floor" divides by lru-cache (await) from the same run.',
    'Latency: each read timed on its own. Every sample includes two clock reads, a fixed overhead of a few ' +
      'tens of ns added to every subject alike (measured below); p50/p99 are not corrected for it.',
    'Reads use equal copies of the stored keys (other string objects), so a lookup compares characters as it ' +
      "would with keys built per request (each copy's hash is still computed once and cached by V8). Every read " +
      'is checked to be a hit, and every key is checked to read back its value before timing.',
    'lru-cache (sync) has no await at all: it is shown for scale, not as a comparable API.',
    "getOrSet's hit against get's (the getOrSet figure) is measured in the getOrSet subject's process, on the " +
      'same cache: batches alternate get, getOrSet, get, and each getOrSet batch is divided by the mean of the ' +
      'two get batches around it, so that a drift of the machine moves both sides of each ratio alike.',
    'Peers run in their fastest in-memory configuration; cacheable is also shown as it comes, because its ' +
      'defaults clone every record read and hash every key to pick one of 16 Maps.',
    `cache-manager and cacheable use unbounded stores (their default, and their fastest); tiercache, ` +
      `lru-cache and bentocache are bounded LRUs of ${CAPACITY.toLocaleString('en-US')} entries.`,
  ],
  subjects: SUBJECTS,
  // Odd counts, so the median is one measured pass and a single disturbed pass cannot move it.
  passes: { full: 5, quick: 3, smoke: 1 },
  settings: (profile) => ({
    keys: KEYS,
    keyBytes: KEY_BYTES,
    valueBytes: VALUE_BYTES,
    capacity: CAPACITY,
    ...SETTINGS[profile],
  }),

  async measure(subjectName, profile) {
    const subject = SUBJECTS.find((candidate) => candidate.name === subjectName);
    if (!subject) throw new Error(`memory-get-hit has no subject ${JSON.stringify(subjectName)}`);
    const settings = SETTINGS[profile];
    const factory = await subject.load();
    const entries = generateEntries({ count: KEYS, keyBytes: KEY_BYTES, valueBytes: VALUE_BYTES });
    const lookupKeys = copyStrings(entries.keys);
    const reader = await factory(entries, CAPACITY);
    await verifyReads(reader, lookupKeys, entries.values);
    const { roundsOpsPerSec, batchOps } = await measureThroughput(reader, lookupKeys, settings);
    const latency = await sampleLatency(reader, lookupKeys, settings.samples);
    const clock = sampleTimerOverhead(settings.samples);
    return {
      ...throughputFigures(roundsOpsPerSec, batchOps, latency),
      clockOverheadNs: median(clock),
      ...(await pairedWithGet(reader, lookupKeys, settings)),
    };
  },

  columns: [
    { key: 'opsPerSec', label: 'ops/s', format: millions },
    { key: 'ratioToFloor', label: '× floor', format: ratio },
    { key: 'p50Ns', label: 'p50', format: nanoseconds },
    { key: 'p99Ns', label: 'p99', format: nanoseconds },
  ],
  chart: {
    key: 'opsPerSec',
    caption: 'get hits per second, one read at a time (higher is better)',
    format: (value) => `${millions(value)} ops/s`,
    annotate: { key: 'ratioToFloor', suffix: '× floor' },
  },

  summarize(medians, passes) {
    const floor = medians[FLOOR]?.opsPerSec;
    const ours = medians[TIERCACHE]?.opsPerSec;
    if (floor === undefined || ours === undefined) {
      throw new Error('memory-get-hit needs the floor and tiercache');
    }
    const derived: Record<string, Metrics> = {};
    for (const [name, metrics] of Object.entries(medians)) {
      derived[name] = { ratioToFloor: (metrics.opsPerSec as number) / floor };
    }
    const toFloor = ours / floor;
    const [ourSpread, floorSpread] = [spreadOf(medians[TIERCACHE]), spreadOf(medians[FLOOR])];
    const verdicts: Verdict[] = [
      {
        text: `tiercache memory get hit: ${ratio(toFloor)} × floor (target ≥ ${ratio(TARGET_RATIO_TO_FLOOR)})`,
        value: toFloor,
        comparedWith: FLOOR,
        ...judge(toFloor, { op: '>=', value: TARGET_RATIO_TO_FLOOR }, [
          ratioSpread(passes, TIERCACHE, FLOOR, 'opsPerSec'),
        ]),
        detail: `${withSpread(`${millions(ours)} ops/s`, ourSpread)} vs ${withSpread(`${millions(floor)} ops/s`, floorSpread)}`,
      },
    ];
    const getOrSetVerdict = getOrSetHitVerdict('tiercache memory', medians, passes, GET_OR_SET, TIERCACHE);
    if (getOrSetVerdict) verdicts.push(getOrSetVerdict);
    const peers = SUBJECTS.filter((subject) => subject.role === 'peer' && medians[subject.name]);
    const best = peers.reduce<{ name: string; opsPerSec: number } | undefined>((leader, subject) => {
      const opsPerSec = medians[subject.name]?.opsPerSec as number;
      return leader && leader.opsPerSec >= opsPerSec ? leader : { name: subject.name, opsPerSec };
    }, undefined);
    if (best) {
      const toPeer = ours / best.opsPerSec;
      verdicts.push({
        text: `tiercache memory get hit: ${ratio(toPeer)} × best peer, ${best.name}`,
        value: toPeer,
        comparedWith: best.name,
        detail: `${millions(ours)} vs ${millions(best.opsPerSec)} ops/s`,
      });
    }
    const clock = median(Object.values(medians).map((metrics) => metrics.clockOverheadNs as number));
    return {
      derived,
      verdicts,
      notes: [
        `Clock overhead in every latency sample here: ${nanoseconds(clock)} (median of empty samples).`,
      ],
    };
  },
};

/**
 * The getOrSet issue's figure: a getOrSet hit against a get hit of the same cache, measured in pairs in the
 * getOrSet subject's process (see getorset-against-get.ts), its spread over passes. The two subjects' own
 * figures, each from processes of its own, are shown beside it.
 */
export function getOrSetHitVerdict(
  cache: string,
  medians: Readonly<Record<string, Metrics>>,
  passes: PassMetrics,
  getOrSetSubject: string,
  getSubject: string,
): Verdict | undefined {
  const toGet = medians[getOrSetSubject]?.getOrSetToGet;
  const getOrSetOpsPerSec = medians[getOrSetSubject]?.opsPerSec;
  const getOpsPerSec = medians[getSubject]?.opsPerSec;
  if (toGet === undefined || getOrSetOpsPerSec === undefined || getOpsPerSec === undefined) return undefined;
  const target = 0.9;
  const [getOrSetSpread, getSpread] = [spreadOf(medians[getOrSetSubject]), spreadOf(medians[getSubject])];
  return {
    text: `${cache} getOrSet hit: ${ratio(toGet)} × its get hit, in pairs in one process (target ≥ ${ratio(target)})`,
    value: toGet,
    comparedWith: getSubject,
    ...judge(toGet, { op: '>=', value: target }, [passSpread(passes, getOrSetSubject, 'getOrSetToGet')]),
    detail: `each in processes of its own: ${withSpread(`${millions(getOrSetOpsPerSec)} ops/s`, getOrSetSpread)} vs ${withSpread(`${millions(getOpsPerSec)} ops/s`, getSpread)}, ${ratio(getOrSetOpsPerSec / getOpsPerSec)} ×`,
  };
}
