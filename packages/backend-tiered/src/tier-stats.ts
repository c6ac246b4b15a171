import { type CoherenceMode, type DriverStats, lookupRates, type TierStats } from '@tiercache/core';

/** One tier's figures, and the reads that reached it. */
export interface TierReads {
  name: string;
  figures: DriverStats;
  hits: number;
  misses: number;
  /** Hits answered with a copy this tier held while the tier below could not be asked. */
  staleHits: number;
}

/**
 * A tiered cache's figures: L2 holds the truth, L1 holds copies of some of it; each tier is shown as it saw the
 * reads that reached it (L1 every read, L2 those L1 could not answer).
 */
export function combinedStats(
  l1: TierReads,
  l2: TierReads,
  coherence: CoherenceMode | undefined,
): DriverStats {
  return {
    totalKeys: l2.figures.totalKeys,
    memoryUsageBytes: l2.figures.memoryUsageBytes,
    expiredKeys: l2.figures.expiredKeys,
    evictedKeys: l2.figures.evictedKeys,
    averageTtlSeconds: l2.figures.averageTtlSeconds,
    mostAccessedKeys: l1.figures.mostAccessedKeys,
    ...(coherence === undefined ? {} : { coherence }),
    tiers: { l1: tierStats(l1), l2: tierStats(l2) },
  };
}

function tierStats({ name, figures, hits, misses, staleHits }: TierReads): TierStats {
  const { tiers: _, coherence: __, ...own } = figures;
  return { backend: name, ...own, hits, misses, staleHits, ...lookupRates(hits, misses) };
}
