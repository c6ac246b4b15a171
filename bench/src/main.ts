/*
 * pnpm bench [--quick | --smoke] [--scenario <name>]... [--json <path>]
 *
 * Runs every subject of every chosen scenario in its own child process, one after another (or, for the Redis
 * call scenarios, all of a pass at once, taking turns: see turns.ts), prints a table per scenario with the
 * ratios the issues ask for, and writes the results as JSON and as an SVG bar chart.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { provideSharedRedis, REDIS_URL_ENV } from './bench-redis.js';
import { runInChild } from './child-run.js';
import {
  describeEnvironment,
  installedPackage,
  packageAsSeenBy,
  packageLabels,
  recordedVersion,
} from './environment.js';
import { median } from './measure.js';
import {
  formatTable,
  formatVerdict,
  type RunReport,
  renderSvg,
  type ScenarioResult,
  type SubjectResult,
  writeJson,
  writeSvg,
} from './report.js';
import type { Metrics, ProfileName, Scenario } from './scenario.js';
import { findScenario, SCENARIOS } from './scenarios/index.js';
import { TurnRotation } from './turns.js';
import { SPREAD_KEY, spreadOfValues } from './verdict-rule.js';

const USAGE = `usage: pnpm bench [--quick | --smoke] [--scenario <name>]... [--json <path>]

  --quick            fewer passes and shorter rounds: the whole run in under 2 minutes
  --smoke            tiny counts, to prove everything runs; the figures mean nothing
  --scenario <name>  run only this scenario (repeatable): ${SCENARIOS.map((scenario) => scenario.name).join(', ')}
  --json <path>      where to write the JSON (the SVG goes beside it); by default
                     bench/results/latest.json for a full run of every scenario, and
                     bench/results/<profile>.json otherwise, which git ignores`;

const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

const { values: options } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    smoke: { type: 'boolean', default: false },
    scenario: { type: 'string', multiple: true },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (options.help) {
  console.log(USAGE);
  process.exit(0);
}
if (options.quick && options.smoke) {
  console.error(`--quick and --smoke cannot be combined\n\n${USAGE}`);
  process.exit(2);
}

const profile: ProfileName = options.smoke ? 'smoke' : options.quick ? 'quick' : 'full';
const scenarios = options.scenario ? options.scenario.map(findScenario) : SCENARIOS;
// Only a full run of everything replaces the committed results; anything less goes to an ignored file.
const complete = profile === 'full' && scenarios.length === SCENARIOS.length;
const jsonPath = options.json ?? join(RESULTS_DIR, complete ? 'latest.json' : `${profile}.json`);
const svgPath = jsonPath.replace(/(\.json)?$/, '.svg');

const started = process.hrtime.bigint();
const environment = describeEnvironment();
const packageNames = [
  ...new Set(scenarios.flatMap((scenario) => scenario.subjects.flatMap((s) => s.packages))),
];
const packages = Object.fromEntries(packageNames.map((spec) => [spec, recordedVersion(spec)]));

/** Children measured at once. Only a smoke run, whose figures mean nothing, runs several, to stay short. */
const CHILDREN_AT_ONCE: Record<ProfileName, number> = { full: 1, quick: 1, smoke: 4 };

const method = [
  'Each subject runs in its own Node process (node --expose-gc, TypeScript sources via tsx), one process at a ' +
    'time; the parent only waits. Per scenario, subjects run in passes, the order reversed on every other ' +
    'pass; each figure is the median over the passes. In the Redis call scenarios the processes of a pass run ' +
    'interleaved: all started together, they take turns, one at a time, each timed round in a turn of its own, ' +
    'so the figures of a ratio are measured in the same cycles of turns.',
];
const sharedRedis = scenarios.some((scenario) => scenario.needsRedis)
  ? await provideSharedRedis()
  : undefined;
const childEnv: Record<string, string> = sharedRedis ? { [REDIS_URL_ENV]: sharedRedis.url } : {};
if (sharedRedis) {
  method.push(
    `Redis: ${sharedRedis.origin}; every child keeps its keys under a prefix of its own and deletes them when ` +
      'it ends. The outage scenario starts a redis-server of its own in each child, to stop and kill it.',
  );
}
if (profile === 'smoke') method.push(`Smoke run: up to ${CHILDREN_AT_ONCE.smoke} children at once.`);
const ourLru = installedPackage('lru-cache');
const theirLru = packageAsSeenBy('lru-cache', '@tiercache/backend-memory');
method.push(
  ourLru.dir === theirLru.dir
    ? `The raw lru-cache subjects load the same lru-cache copy as @tiercache/backend-memory (${ourLru.version}).`
    : `WARNING: the raw lru-cache subjects load lru-cache ${ourLru.version}, but @tiercache/backend-memory loads ${theirLru.version}.`,
);

const out = (line = '') => process.stdout.write(`${line}\n`);
const progress = (text: string) => process.stderr.write(text);

out(`tiercache benchmarks (${profile} run)`);
out(`date      ${environment.date}`);
out(`node      ${environment.node} (V8 ${environment.v8}, ${environment.platform} ${environment.arch})`);
out(
  `cpu       ${environment.cpuModel}, ${environment.cores} cores (load average ${environment.loadAverageAtStart} at start)`,
);
out(`packages  ${packageLabels(packages).join(', ')}`);
for (const line of method) out(`method    ${line}`);
if (profile === 'smoke') out('SMOKE RUN: tiny counts to prove the benchmark runs; the figures mean nothing.');

function combine(passes: readonly Metrics[], spreadKey: string): Metrics {
  const combined: Metrics = {};
  for (const key of Object.keys(passes[0] ?? {})) {
    combined[key] = median(passes.map((metrics) => metrics[key] as number));
  }
  // One pass has no spread: absent, not 0, so that no verdict takes a single process for a steady figure.
  if (passes.length < 2) return combined;
  combined[SPREAD_KEY] = spreadOfValues(passes.map((metrics) => metrics[spreadKey] as number)) as number;
  return combined;
}

async function runScenario(scenario: Scenario): Promise<ScenarioResult> {
  const passCount = scenario.passes[profile];
  out();
  out(`${scenario.name}: ${scenario.title}`);
  const runs = new Map<string, Metrics[]>(scenario.subjects.map((subject) => [subject.name, []]));
  for (let pass = 0; pass < passCount; pass++) {
    // Alternating the order keeps any drift of the machine from always favouring the same subjects.
    const order = pass % 2 === 0 ? scenario.subjects : [...scenario.subjects].reverse();
    const label = `  pass ${pass + 1}/${passCount}`;
    // Interleaved: every child of the pass at once, taking turns; otherwise one after another.
    const rotation = scenario.interleaved
      ? new TurnRotation(order.map((subject) => subject.name))
      : undefined;
    const oneAtATime = rotation === undefined && CHILDREN_AT_ONCE[profile] === 1;
    const measure = async (subject: (typeof order)[number]) => {
      if (oneAtATime) progress(`${label}  ${subject.name} … `);
      const childStarted = process.hrtime.bigint();
      const metrics = await runInChild(scenario.name, subject.name, profile, childEnv, rotation);
      const seconds = Number(process.hrtime.bigint() - childStarted) / 1e9;
      runs.get(subject.name)?.push(metrics);
      const value = metrics[scenario.chart.key];
      const shown = `${value === undefined ? '' : scenario.chart.format(value)} (${seconds.toFixed(1)} s)`;
      progress(oneAtATime ? `${shown}\n` : `${label}  ${subject.name} … ${shown}\n`);
    };
    await runAtMost(rotation ? order.length : CHILDREN_AT_ONCE[profile], order, measure);
  }
  const medians = Object.fromEntries(
    scenario.subjects.map((subject) => [
      subject.name,
      combine(runs.get(subject.name) ?? [], scenario.chart.key),
    ]),
  );
  const summary = scenario.summarize(medians, Object.fromEntries(runs));
  const subjects: SubjectResult[] = scenario.subjects.map((subject) => ({
    name: subject.name,
    role: subject.role,
    packages: subject.packages,
    setup: subject.setup,
    metrics: { ...medians[subject.name], ...summary.derived[subject.name] },
    passes: runs.get(subject.name) ?? [],
  }));
  const result: ScenarioResult = {
    name: scenario.name,
    title: scenario.title,
    settings: scenario.settings(profile),
    passes: passCount,
    notes: [...scenario.notes, ...summary.notes],
    subjects,
    verdicts: summary.verdicts,
  };
  out();
  out(formatTable(scenario, result));
  out();
  for (const verdict of result.verdicts) out(formatVerdict(verdict));
  out();
  for (const note of result.notes) out(`  · ${note}`);
  return result;
}

/**
 * Runs `task` on every item, at most `limit` at a time. A failure stops new tasks, and is thrown once the
 * tasks already running have ended, so no child is still using the run's Redis when it is stopped.
 */
async function runAtMost<T>(
  limit: number,
  items: readonly T[],
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < items.length) {
      try {
        await task(items[next++] as T);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const lanes = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, lane));
  const failure = lanes.find((lane): lane is PromiseRejectedResult => lane.status === 'rejected');
  if (failure) throw failure.reason;
}

const results: ScenarioResult[] = [];
try {
  for (const scenario of scenarios) results.push(await runScenario(scenario));
} finally {
  await sharedRedis?.stop();
}

const durationSeconds = Number(process.hrtime.bigint() - started) / 1e9;
const report: RunReport = {
  schema: 1,
  profile,
  environment,
  packages,
  method,
  durationSeconds: Math.round(durationSeconds * 10) / 10,
  scenarios: results,
};
writeJson(jsonPath, report);
writeSvg(svgPath, renderSvg(report, scenarios));
out();
out(`wrote ${jsonPath} and ${svgPath} (${durationSeconds.toFixed(1)} s in all)`);
