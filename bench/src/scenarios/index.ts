import type { Scenario } from '../scenario.js';
import { coherence } from './coherence.js';
import { getOrSetStampede } from './getorset-stampede.js';
import { memoryGetHit } from './memory-get-hit.js';
import { memoryPerEntry } from './memory-per-entry.js';
import { otelL1Hit } from './otel-l1-hit.js';
import { outage } from './outage.js';
import { outageWarm } from './outage-warm.js';
import { redisGet64 } from './redis-get-64.js';
import { redisGetMany100 } from './redis-getmany-100.js';
import { redisSetTtl64 } from './redis-set-ttl-64.js';
import { tieredL1Hit } from './tiered-l1-hit.js';

/** Every scenario, in the order a full run takes them. A new scenario is a new file here and one line below. */
export const SCENARIOS: readonly Scenario[] = [
  memoryGetHit,
  memoryPerEntry,
  redisGet64,
  redisSetTtl64,
  redisGetMany100,
  tieredL1Hit,
  otelL1Hit,
  outage,
  outageWarm,
  getOrSetStampede,
  coherence,
];

export function findScenario(name: string): Scenario {
  const scenario = SCENARIOS.find((candidate) => candidate.name === name);
  if (!scenario) {
    const known = SCENARIOS.map((candidate) => candidate.name).join(', ');
    throw new Error(`no scenario ${JSON.stringify(name)}; known: ${known}`);
  }
  return scenario;
}
