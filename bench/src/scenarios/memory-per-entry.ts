import { type Entries, generateEntries } from '../generate-entries.js';
import { settledHeapBytes } from '../measure.js';
import type { Metrics, ProfileName, Scenario, SubjectDefinition, Verdict } from '../scenario.js';
import type { FillFactory } from '../subjects/subject-contracts.js';
import { judge, ratioSpread, spreadOf, withSpread } from '../verdict-rule.js';

const KEY_BYTES = 16;
const VALUE_BYTES = 100;
const ENTRIES: Record<ProfileName, number> = { full: 200_000, quick: 200_000, smoke: 5_000 };

export const RAW = 'lru-cache';
export const TIERCACHE = 'tiercache memory';
/** The target: what an entry costs in tiercache, at most 1.25 × raw lru-cache. */
const TARGET_RATIO_TO_RAW = 1.25;

interface FillSubject extends SubjectDefinition {
  load(): Promise<FillFactory>;
}

const SUBJECTS: readonly FillSubject[] = [
  {
    name: RAW,
    role: 'baseline',
    packages: ['lru-cache'],
    setup: 'new LRUCache({ max: entries }); lru.set(k, v)',
    load: async () => (await import('../subjects/lru-cache.js')).lruCacheFill,
  },
  {
    name: TIERCACHE,
    role: 'tiercache',
    packages: ['@tiercache/backend-memory', '@tiercache/core'],
    setup: 'createMemoryBackend({ maxEntries: entries }); await backend.set(k, v)',
    load: async () => (await import('../subjects/tiercache-memory.js')).tiercacheMemoryFill,
  },
  {
    name: 'bentocache',
    role: 'peer',
    packages: ['bentocache'],
    setup:
      'L1 only, memoryDriver({ maxItems: entries, serialize: false }); await bento.use().set({ key, value })',
    load: async () => (await import('../subjects/bentocache.js')).bentocacheFill,
  },
  {
    name: 'cache-manager',
    role: 'peer',
    packages: ['cache-manager'],
    setup: 'createCache() (default Keyv Map store, unbounded); await cache.set(k, v)',
    load: async () => (await import('../subjects/cache-manager.js')).cacheManagerFill,
  },
  {
    name: 'cacheable',
    role: 'peer',
    packages: ['cacheable'],
    setup:
      'new Cacheable({ primary: createKeyv({ useClone: false, storeHashSize: 1 }) }) (unbounded); await cache.set(k, v)',
    load: async () => (await import('../subjects/cacheable.js')).cacheableFill,
  },
];

// Keeps the cache reachable until the last heap figure is taken, whatever V8 decides about local variables.
let retained: unknown;

const bytes = (value: number): string => `${value.toFixed(1)} B`;
const ratio = (value: number): string => value.toFixed(2);

export const memoryPerEntry: Scenario = {
  name: 'memory-per-entry',
  title: `V8 heap bytes per entry, ${ENTRIES.full.toLocaleString('en-US')} entries (${ENTRIES.smoke.toLocaleString('en-US')} in a smoke run) of ${KEY_BYTES}-byte keys and ${VALUE_BYTES}-byte values`,
  notes: [
    'Heap is V8 used_heap_size after forced full collections (node --expose-gc). Keys and values are generated ' +
      'as flat strings before the cache is made.',
    '"incl. strings" = (heap after inserting, with the generator\'s arrays dropped so the cache holds the only ' +
      'references − heap before generating) / entries: what an application pays per entry.',
    '"structure" = (heap after inserting, arrays still held − heap after generating) / entries: the cache\'s ' +
      'own overhead, strings excluded. Both include making the cache (lru-cache allocates its slot arrays ' +
      'for `max` up front).',
    'Peers are configured as in memory-get-hit. cache-manager and cacheable use unbounded stores; the others ' +
      'are bounded at the entry count.',
  ],
  subjects: SUBJECTS,
  passes: { full: 3, quick: 1, smoke: 1 },
  settings: (profile) => ({ entries: ENTRIES[profile], keyBytes: KEY_BYTES, valueBytes: VALUE_BYTES }),

  async measure(subjectName, profile) {
    const subject = SUBJECTS.find((candidate) => candidate.name === subjectName);
    if (!subject) throw new Error(`memory-per-entry has no subject ${JSON.stringify(subjectName)}`);
    const count = ENTRIES[profile];
    const factory = await subject.load();

    const beforeStrings = await settledHeapBytes();
    let entries: Entries | undefined = generateEntries({
      count,
      keyBytes: KEY_BYTES,
      valueBytes: VALUE_BYTES,
    });
    const beforeCache = await settledHeapBytes();
    const cache = factory(count);
    retained = cache;
    await cache.fill(entries.keys, entries.values);
    const withArrays = await settledHeapBytes();
    for (let i = 0; i < count; i++) {
      if ((await cache.read(entries.keys[i] as string)) !== entries.values[i]) {
        throw new Error(`entry ${i} of ${count} did not read back its value: the cache dropped entries`);
      }
    }
    entries = undefined;
    const cacheOnly = await settledHeapBytes();
    if (retained !== cache) throw new Error('unreachable: the cache must stay alive until measured');

    return {
      entries: count,
      bytesPerEntry: (cacheOnly - beforeStrings) / count,
      structureBytesPerEntry: (withArrays - beforeCache) / count,
      generatedBytesPerEntry: (beforeCache - beforeStrings) / count,
    };
  },

  columns: [
    { key: 'bytesPerEntry', label: 'incl. strings', format: bytes },
    { key: 'ratioToRaw', label: '× raw', format: ratio },
    { key: 'structureBytesPerEntry', label: 'structure', format: bytes },
    { key: 'structureRatioToRaw', label: '× raw', format: ratio },
  ],
  chart: {
    key: 'bytesPerEntry',
    caption: 'heap bytes per entry, key and value strings included (lower is better)',
    format: (value) => `${value.toFixed(0)} B`,
    annotate: { key: 'ratioToRaw', suffix: '× raw lru-cache' },
  },

  summarize(medians, passes) {
    const raw = medians[RAW];
    const ours = medians[TIERCACHE];
    if (!raw || !ours) throw new Error('memory-per-entry needs raw lru-cache and tiercache');
    const rawBytes = raw.bytesPerEntry as number;
    const rawStructure = raw.structureBytesPerEntry as number;
    const derived: Record<string, Metrics> = {};
    for (const [name, metrics] of Object.entries(medians)) {
      derived[name] = {
        ratioToRaw: (metrics.bytesPerEntry as number) / rawBytes,
        structureRatioToRaw: (metrics.structureBytesPerEntry as number) / rawStructure,
      };
    }
    const total = (ours.bytesPerEntry as number) / rawBytes;
    const [ourSpread, rawSpread] = [spreadOf(ours), spreadOf(raw)];
    const structure = (ours.structureBytesPerEntry as number) / rawStructure;
    const verdicts: Verdict[] = [
      {
        text: `memory per entry: ${ratio(total)} × raw lru-cache (target ≤ ${ratio(TARGET_RATIO_TO_RAW)})`,
        value: total,
        comparedWith: RAW,
        ...judge(total, { op: '<=', value: TARGET_RATIO_TO_RAW }, [
          ratioSpread(passes, TIERCACHE, RAW, 'bytesPerEntry'),
        ]),
        detail: `strings included: ${withSpread(bytes(ours.bytesPerEntry as number), ourSpread)} vs ${withSpread(bytes(rawBytes), rawSpread)} per entry`,
      },
      {
        text: `memory per entry, structure only: ${ratio(structure)} × raw lru-cache`,
        value: structure,
        comparedWith: RAW,
        detail: `strings excluded: ${bytes(ours.structureBytesPerEntry as number)} vs ${bytes(rawStructure)} per entry`,
      },
    ];
    const generated = raw.generatedBytesPerEntry as number;
    return {
      derived,
      verdicts,
      notes: [
        `The generated strings and the two arrays holding them take ${bytes(generated)} per entry on their own.`,
      ],
    };
  },
};
