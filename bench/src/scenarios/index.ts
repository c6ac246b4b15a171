import type { Scenario } from '../scenario.js';
import { memoryGetHit } from './memory-get-hit.js';
import { memoryPerEntry } from './memory-per-entry.js';

/** Every scenario, in the order a full run takes them. A new scenario is a new file here and one line below. */
export const SCENARIOS: readonly Scenario[] = [memoryGetHit, memoryPerEntry];

export function findScenario(name: string): Scenario {
  const scenario = SCENARIOS.find((candidate) => candidate.name === name);
  if (!scenario) {
    const known = SCENARIOS.map((candidate) => candidate.name).join(', ');
    throw new Error(`no scenario ${JSON.stringify(name)}; known: ${known}`);
  }
  return scenario;
}
