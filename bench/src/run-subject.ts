/*
 * The child side: measures one subject of one scenario and prints its metrics as one JSON line on stdout.
 * Started by main.ts (see child-run.ts) with --expose-gc; nothing else is measured in this process.
 */
import type { ProfileName } from './scenario.js';
import { findScenario } from './scenarios/index.js';
import { OWN_TURNS, turnsFromParent } from './turns.js';

const PROFILES: readonly ProfileName[] = ['full', 'quick', 'smoke'];

const [scenarioName = '', subjectName = '', profile = '', mode] = process.argv.slice(2);
if (!PROFILES.includes(profile as ProfileName) || (mode !== undefined && mode !== 'interleaved')) {
  throw new Error(`usage: run-subject.ts <scenario> <subject> <${PROFILES.join('|')}> [interleaved]`);
}
const turns = mode === 'interleaved' ? turnsFromParent() : OWN_TURNS;
const metrics = await findScenario(scenarioName).measure(subjectName, profile as ProfileName, turns);
// Exit explicitly: a library under test may hold a timer that would keep this process alive.
process.stdout.write(`${JSON.stringify(metrics)}\n`, () => process.exit(0));
