/*
 * A worker process: runs one role of a scenario (a writer, one of several callers) for the child that measures
 * a subject, and talks to it over IPC. Started by startWorker in worker-process.ts; prints nothing on stdout.
 */
import { findScenario } from './scenarios/index.js';
import { parentChannel } from './worker-process.js';

const [scenarioName = '', role = '', argsJson = '{}'] = process.argv.slice(2);
const work = findScenario(scenarioName).workers?.[role];
if (!work) throw new Error(`scenario ${scenarioName} has no worker role ${JSON.stringify(role)}`);
// A worker never outlives the process that started it.
process.once('disconnect', () => process.exit(1));
await work(parentChannel(), JSON.parse(argsJson) as unknown);
// Exit explicitly: a library under test may hold a timer or a connection that would keep this process alive.
process.exit(0);
