import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../src/report.js';

// Runs the real CLI with --smoke: every scenario and subject, each in its child process, with tiny counts.
// It proves the benchmark still runs and reports what it should; it times nothing worth reading.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

let dir: string;
let report: RunReport;
let svg: string;
let stdout: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tiercache-bench-'));
  const jsonPath = join(dir, 'smoke.json');
  const args = [
    '--import',
    'tsx',
    '--conditions=@tiercache/source',
    'bench/src/main.ts',
    '--smoke',
    '--json',
    jsonPath,
  ];
  ({ stdout } = await run(process.execPath, args, { cwd: ROOT }));
  report = JSON.parse(await readFile(jsonPath, 'utf8')) as RunReport;
  svg = await readFile(join(dir, 'smoke.svg'), 'utf8');
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function scenario(name: string) {
  const found = report.scenarios.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no scenario ${name} in the report`);
  return found;
}

function expectPositive(metrics: Record<string, number>, keys: readonly string[]): void {
  for (const key of keys) {
    expect(metrics[key], key).toBeTypeOf('number');
    expect(Number.isFinite(metrics[key]) && (metrics[key] as number) > 0, `${key} = ${metrics[key]}`).toBe(
      true,
    );
  }
}

describe('pnpm bench --smoke', () => {
  it('records the machine and the version of every package it measures', () => {
    expect(report.profile).toBe('smoke');
    expect(report.environment.node).toBe(process.version);
    expect(report.environment.cpuModel.length).toBeGreaterThan(0);
    expect(report.environment.cores).toBeGreaterThan(0);
    for (const name of [
      'lru-cache',
      '@tiercache/backend-memory',
      'bentocache',
      'cache-manager',
      'cacheable',
    ]) {
      expect(report.packages[name], name).toMatch(/^\d+\.\d+\.\d+/);
    }
  });

  it('runs every scenario with every subject', () => {
    expect(report.scenarios.map((result) => result.name)).toEqual(['memory-get-hit', 'memory-per-entry']);
    expect(scenario('memory-get-hit').subjects.map((subject) => subject.name)).toEqual([
      'lru-cache (sync)',
      'lru-cache (await)',
      'tiercache memory',
      'bentocache',
      'cache-manager',
      'cacheable',
      'cacheable (defaults)',
    ]);
    expect(scenario('memory-per-entry').subjects.map((subject) => subject.name)).toEqual([
      'lru-cache',
      'tiercache memory',
      'bentocache',
      'cache-manager',
      'cacheable',
    ]);
  });

  it('reports throughput, latency and the ratio to the floor for each get-hit subject', () => {
    const result = scenario('memory-get-hit');
    for (const subject of result.subjects) {
      expectPositive(subject.metrics, ['opsPerSec', 'p50Ns', 'p99Ns', 'ratioToFloor']);
      expect(subject.passes).toHaveLength(result.passes);
    }
    expect(result.subjects.find((subject) => subject.role === 'floor')?.metrics.ratioToFloor).toBe(1);
    const [toFloor, toPeer] = result.verdicts;
    expect(toFloor?.text).toMatch(/^tiercache memory get hit: \d+\.\d\d × floor \(target ≥ 0\.50\)$/);
    expect(toFloor?.target).toEqual({ op: '>=', value: 0.5 });
    expect(toFloor?.value).toBeGreaterThan(0);
    expect(toPeer?.text).toMatch(/× best peer/);
    expect(toPeer?.value).toBeGreaterThan(0);
  });

  it('reports heap bytes per entry, with and without the strings, and the ratio to raw lru-cache', () => {
    const result = scenario('memory-per-entry');
    for (const subject of result.subjects) {
      expectPositive(subject.metrics, [
        'bytesPerEntry',
        'structureBytesPerEntry',
        'ratioToRaw',
        'structureRatioToRaw',
      ]);
    }
    const [total, structure] = result.verdicts;
    expect(total?.text).toMatch(/^memory per entry: \d+\.\d\d × raw lru-cache \(target ≤ 1\.25\)/);
    expect(total?.target).toEqual({ op: '<=', value: 1.25 });
    expect(total?.value).toBeGreaterThan(0);
    expect(structure?.value).toBeGreaterThan(0);
  });

  it('prints the ratios and draws every subject in the chart', () => {
    expect(stdout).toContain('× floor (target ≥ 0.50)');
    expect(stdout).toContain('× raw lru-cache (target ≤ 1.25)');
    expect(svg.startsWith('<svg')).toBe(true);
    for (const result of report.scenarios) {
      for (const subject of result.subjects) expect(svg).toContain(`>${subject.name}</text>`);
    }
  });
});
