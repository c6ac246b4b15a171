import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../src/report.js';

// Runs the real CLI with --smoke: every scenario and subject, each in its child process, with tiny counts.
// It proves the benchmark still runs and reports what it should; it times nothing worth reading. REDIS_URL is
// removed from its environment, so the run starts (and stops) a redis-server of its own with the harness.

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
  const { REDIS_URL: _ignored, ...env } = process.env;
  ({ stdout } = await run(process.execPath, args, { cwd: ROOT, env }));
  report = JSON.parse(await readFile(jsonPath, 'utf8')) as RunReport;
  svg = await readFile(join(dir, 'smoke.svg'), 'utf8');
  // Eleven scenarios of up to eleven subjects, each a child process: 145 s at a load average of 12 on 2 cores.
}, 300_000);

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
      '@tiercache/backend-redis',
      '@tiercache/backend-tiered',
      'ioredis',
      'keyv',
      '@keyv/redis',
      'bentocache',
      'cache-manager',
      'cacheable',
    ]) {
      expect(report.packages[name], name).toMatch(/^\d+\.\d+\.\d+/);
    }
    // npm aliases and a dependency's own copy are recorded with the real name, and printed by it.
    expect(report.packages).toMatchObject({
      'ioredis-5': expect.stringMatching(/^ioredis@5\.\d+\.\d+/),
      'ioredis-6': expect.stringMatching(/^ioredis@6\.\d+\.\d+/),
      'redis-client-5': expect.stringMatching(/^@redis\/client@5\.\d+\.\d+/),
      'redis-client-6': expect.stringMatching(/^@redis\/client@6\.\d+\.\d+/),
      '@tiercache/backend-redis>ioredis': expect.stringMatching(/^ioredis@\d+\.\d+\.\d+/),
    });
    const header = stdout.split('\n').find((line) => line.startsWith('packages  ')) ?? '';
    for (const label of [
      /ioredis 5\.\d+\.\d+/,
      /ioredis 6\.\d+\.\d+/,
      /@redis\/client 5\./,
      /@redis\/client 6\./,
    ]) {
      expect(header).toMatch(label);
    }
    expect(header).not.toMatch(/ioredis-5|redis-client-5|>/);
  });

  it('runs every scenario with every subject', () => {
    expect(report.scenarios.map((result) => result.name)).toEqual([
      'memory-get-hit',
      'memory-per-entry',
      'redis-get-64',
      'redis-set-ttl-64',
      'redis-getmany-100',
      'tiered-l1-hit',
      'otel-l1-hit',
      'outage',
      'outage-warm',
      'getorset-stampede',
      'coherence',
    ]);
    expect(scenario('memory-get-hit').subjects.map((subject) => subject.name)).toEqual([
      'lru-cache (sync)',
      'lru-cache (await)',
      'tiercache memory',
      'tiercache memory getOrSet',
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

  it("names the run's own redis-server, started and stopped for it", () => {
    expect(report.method.join('\n')).toMatch(
      /redis-server [\d.]+ started for this run on 127\.0\.0\.1:\d+, stopped/,
    );
  });

  it('reports throughput, latency and the ratio to the floor for each get-hit subject', () => {
    const result = scenario('memory-get-hit');
    for (const subject of result.subjects) {
      expectPositive(subject.metrics, ['opsPerSec', 'p50Ns', 'p99Ns', 'ratioToFloor']);
      expect(subject.passes).toHaveLength(result.passes);
    }
    expect(result.subjects.find((subject) => subject.role === 'floor')?.metrics.ratioToFloor).toBe(1);
    const [toFloor, getOrSet, toPeer] = result.verdicts;
    expect(toFloor?.text).toMatch(/^tiercache memory get hit: \d+\.\d\d × floor \(target ≥ 0\.85\)$/);
    expect(getOrSet?.text).toMatch(
      /^tiercache memory getOrSet hit: \d+\.\d\d × its get hit, in pairs in one process \(target ≥ 0\.90\)$/,
    );
    // Measured in the getOrSet subject's own process, against the same cache's get.
    expectPositive(
      result.subjects.find((subject) => subject.name === 'tiercache memory getOrSet')?.metrics ?? {},
      ['getOrSetToGet'],
    );
    expect(toFloor?.target).toEqual({ op: '>=', value: 0.85 });
    // One pass in a smoke run: no spread, so the margin alone decides, and the verdict says so.
    expect(toFloor?.spread).toBeUndefined();
    expect(toFloor?.met).toBe((toFloor?.margin as number) >= 0);
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

  it('reports ops/s, latency and the ratio to the fastest client for the Redis call scenarios', () => {
    const clients = [
      'ioredis 5',
      'ioredis 5 (auto-pipelined)',
      'ioredis 6',
      'ioredis 6 (auto-pipelined)',
      'node-redis 5',
      'node-redis 6',
    ];
    const corked = ['ioredis 5 (corked per tick)', 'ioredis 6 (corked per tick)'];
    const onIoredis6 = "tiercache redis (on a caller's ioredis 6 client)";
    const subjects: Record<string, string[]> = {
      'redis-get-64': [...clients, ...corked, 'tiercache redis', onIoredis6],
      'redis-set-ttl-64': [...clients, ...corked, 'tiercache redis'],
      'redis-getmany-100': [
        ...clients,
        'tiercache redis',
        onIoredis6,
        'ioredis 5 (corked per tick): MGET + SET of the missing',
        'tiercache redis getOrSetMany',
        'cache-manager',
        'cacheable',
      ],
    };
    const client = String.raw`(ioredis [56]( \(auto-pipelined\))? \(ioredis [56]|node-redis [56] \(@redis/client [56])\.\d+\.\d+\)`;
    const targets: Record<string, RegExp> = {
      'redis-get-64': new RegExp(
        String.raw`^tiercache redis get, 64 in flight: \d+\.\d\d × the fastest client, ${client} \(target ≥ 1\.00\)$`,
      ),
      'redis-set-ttl-64': new RegExp(
        String.raw`^tiercache redis set with TTL, 64 in flight: \d+\.\d\d × the fastest client, ${client} \(target ≥ 1\.00\)$`,
      ),
      'redis-getmany-100': new RegExp(
        String.raw`^tiercache redis getMany of 100, 16 in flight: \d+\.\d\d × the fastest client's MGET, ${client} \(target ≥ 0\.90\)$`,
      ),
    };
    for (const [name, expected] of Object.entries(subjects)) {
      const result = scenario(name);
      expect(result.subjects.map((subject) => subject.name)).toEqual(expected);
      for (const subject of result.subjects) {
        expectPositive(subject.metrics, ['opsPerSec', 'p50Ns', 'p99Ns', 'ratioToFloor']);
      }
      // The floor is the fastest of the clients' own configurations, so one of them is exactly 1.
      const floors = result.subjects.filter((subject) => subject.role === 'floor');
      expect(floors.map((subject) => subject.name)).toEqual(clients);
      expect(Math.max(...floors.map((subject) => subject.metrics.ratioToFloor as number))).toBe(1);
      expect(result.verdicts[0]?.text).toMatch(targets[name] as RegExp);
      expect(result.verdicts[0]?.detail).toMatch(/^tiercache redis on ioredis \d+\.\d+\.\d+: .+ vs .+ on .+/);
      if (name !== 'redis-getmany-100') {
        expect(result.verdicts[1]?.text).toMatch(
          /× hand-corked ioredis, ioredis [56] \(corked per tick\) \(ioredis [56]\.\d+\.\d+\) \(target ≥ 0\.95\)$/,
        );
      }
    }
    expect(scenario('redis-get-64').verdicts[2]?.text).toMatch(
      /^tiercache redis get on a caller's ioredis 6 client, 64 in flight: \d+\.\d\d × the fastest client, /,
    );
    const [, onCallers, getOrSetMany, leastVersusFloor, getOrSetManyVersusLeast, toPeer] =
      scenario('redis-getmany-100').verdicts;
    expect(onCallers?.text).toMatch(
      /^tiercache redis getMany of 100 on a caller's ioredis 6 client, 16 in flight: /,
    );
    expect(getOrSetMany?.text).toMatch(
      /^tiercache redis getOrSetMany of 100, 10 missing: \d+\.\d\d × tiercache redis \(ioredis \d+\.\d+\.\d+\) \(target ≥ 0\.80\)$/,
    );
    expect(leastVersusFloor?.text).toMatch(
      /^the least a getOrSetMany of 100 with 10 missing does \(raw MGET \+ SETs\): \d+\.\d\d × the fastest client's MGET, /,
    );
    expect(getOrSetManyVersusLeast?.text).toMatch(
      /^tiercache redis getOrSetMany of 100, 10 missing, against that least: \d+\.\d\d × ioredis 5 \(corked per tick\): MGET \+ SET of the missing /,
    );
    expect(toPeer?.text).toMatch(/× best peer/);
  });

  it('reports tiered L1 hits against the floor and the peers, with Redis idle during the reads', () => {
    const result = scenario('tiered-l1-hit');
    expect(result.subjects.map((subject) => subject.name)).toEqual([
      'lru-cache (await)',
      'tiercache tiered',
      'tiercache tiered getOrSet',
      'bentocache',
      'cacheable',
      'cache-manager',
    ]);
    for (const subject of result.subjects)
      expectPositive(subject.metrics, ['opsPerSec', 'p50Ns', 'ratioToFloor']);
    for (const subject of result.subjects.filter((each) => each.role !== 'floor')) {
      expect(subject.metrics.redisCommandsDuringReads, subject.name).toBeTypeOf('number');
    }
    const [toFloor, getOrSet, toPeer] = result.verdicts;
    expect(toFloor?.text).toMatch(/^tiercache tiered L1 hit: \d+\.\d\d × floor \(target ≥ 0\.70\)$/);
    expect(getOrSet?.text).toMatch(
      /^tiercache tiered getOrSet hit: \d+\.\d\d × its get hit, in pairs in one process \(target ≥ 0\.90\)$/,
    );
    // Measured in the getOrSet subject's own process, against the same cache's get.
    expectPositive(
      result.subjects.find((subject) => subject.name === 'tiercache tiered getOrSet')?.metrics ?? {},
      ['getOrSetToGet'],
    );
    expect(toPeer?.text).toMatch(/^tiercache tiered L1 hit: \d+\.\d\d × best peer, .+ \(target ≥ 10\)$/);
  });

  it('reports the L1 hit with @tiercache/opentelemetry, without an SDK and with metrics, against without it', () => {
    const result = scenario('otel-l1-hit');
    expect(result.subjects.map((subject) => subject.name)).toEqual([
      'tiercache tiered',
      'tiercache tiered + opentelemetry, no SDK',
      'tiercache tiered + opentelemetry, SDK metrics',
    ]);
    for (const subject of result.subjects) {
      expectPositive(subject.metrics, ['opsPerSec', 'p50Ns', 'ratioToWithout']);
      expect(subject.metrics.redisCommandsDuringReads, subject.name).toBeTypeOf('number');
    }
    expect(result.verdicts.map((verdict) => verdict.text)).toEqual([
      expect.stringMatching(
        /^tiercache tiered \+ opentelemetry, no SDK L1 hit: \d+\.\d\d × without the package$/,
      ),
      expect.stringMatching(
        /^tiercache tiered \+ opentelemetry, SDK metrics L1 hit: \d+\.\d\d × without the package$/,
      ),
    ]);
  });

  it('reports the first and later gets of every subject with Redis stopped and killed', () => {
    const result = scenario('outage');
    expect(result.subjects.map((subject) => subject.name)).toEqual([
      'tiercache redis',
      'tiercache redis (timeout 50 ms)',
      'tiercache tiered',
      'ioredis',
      'bentocache',
      'cacheable',
      'cacheable (nonBlocking)',
      'cache-manager',
    ]);
    for (const subject of result.subjects) {
      expectPositive(subject.metrics, [
        'pausedFirstMs',
        'killedFirstMs',
        'pausedLaterMedianMs',
        'killedLaterMedianMs',
      ]);
      for (const phase of ['paused', 'killed']) {
        expect([0, 1, 2, 3]).toContain(subject.metrics[`${phase}FirstAnswer`]);
        // Each get is bounded by the cap (plus the time to notice it).
        expect(subject.metrics[`${phase}FirstMs`]).toBeLessThan((subject.metrics.capMs as number) + 1_000);
      }
    }
    expect(result.verdicts[0]?.text).toMatch(
      /^tiercache tiered, Redis stopped, gets before the breaker opened: slowest .+ \(target ≤ the L2 timeout, 500 ms, \+ 10 ms of timer lateness\)$/,
    );
  });

  it('reports a warm key answered stale with Redis killed, beside the strict Err', () => {
    const result = scenario('outage-warm');
    const [stale, strict] = result.subjects;
    expect(result.subjects.map((subject) => subject.name)).toEqual([
      'tiercache tiered',
      'tiercache tiered (staleIfError: 0)',
    ]);
    expectPositive(stale?.metrics ?? {}, ['medianMs', 'p99Ms', 'values']);
    expect(stale?.metrics).toMatchObject({ errors: 0, checkedStale: 20, checkedError: 0 });
    expect(strict?.metrics).toMatchObject({ values: 0, checkedStale: 0, checkedError: 20 });
    expect(result.verdicts[0]?.text).toMatch(
      /^tiercache tiered, Redis killed, warm key: .+ median, every get answered its stale copy \(target < 1 ms\)$/,
    );
  });

  it('counts loader calls and the time until every caller has a value, in 1 and in 4 processes', () => {
    const result = scenario('getorset-stampede');
    expect(result.subjects.map((subject) => subject.name)).toEqual([
      'floor: raw GET + one load per process + SET',
      'tiercache tiered',
      'tiercache tiered, lock',
      'tiercache redis, lock',
      'tiercache redis',
      'bentocache',
      'cacheable',
      'cache-manager',
    ]);
    for (const subject of result.subjects) {
      expectPositive(subject.metrics, ['soloLoaderCalls', 'soloMs', 'multiLoaderCalls', 'multiMs']);
      // A loader takes 50 ms, so no caller can have a value sooner.
      expect(subject.metrics.soloMs).toBeGreaterThanOrEqual(50);
    }
    for (const name of [
      'floor: raw GET + one load per process + SET',
      'tiercache tiered',
      'tiercache redis',
    ]) {
      expect(result.subjects.find((subject) => subject.name === name)?.metrics.soloLoaderCalls, name).toBe(1);
    }
    // With the lock, one loader run between every process, and a verdict on the wall time.
    for (const name of ['tiercache tiered, lock', 'tiercache redis, lock']) {
      expect(
        result.subjects.find((subject) => subject.name === name)?.metrics.multiLoaderCallsMax,
        name,
      ).toBe(1);
    }
    expect(result.verdicts.map((verdict) => verdict.text)).toEqual([
      expect.stringMatching(/^tiercache tiered, lock: 1 loader run across \d processes \(target 1\)/),
      expect.stringMatching(/^tiercache tiered, lock: every caller answered in \d+\.\d\d × the floor's time/),
      expect.stringMatching(/^tiercache redis, lock: 1 loader run across \d processes \(target 1\)/),
      expect.stringMatching(/^tiercache redis, lock: every caller answered in \d+\.\d\d × the floor's time/),
    ]);
    // Without a lock, the floor's processes load once each at most: a process whose GET comes after another's
    // SET (a child started late on a loaded machine: smoke runs four at once) finds the value and loads nothing.
    const floorLoads = result.subjects.find(
      (subject) => subject.name === 'floor: raw GET + one load per process + SET',
    )?.metrics.multiLoaderCalls;
    expect(floorLoads).toBeGreaterThanOrEqual(1);
    expect(floorLoads).toBeLessThanOrEqual(result.subjects[0]?.metrics.processes as number);
  });

  it('measures how soon process B sees a write made in process A, against the target', () => {
    const result = scenario('coherence');
    expect(result.subjects.map((subject) => subject.name)).toEqual([
      'ioredis GET poll',
      'tiercache tiered (write via tiercache)',
      'tiercache tiered (external SET)',
      'bentocache (write via bentocache)',
      'bentocache (external SET)',
    ]);
    for (const subject of result.subjects) {
      expectPositive(subject.metrics, ['p50Ms', 'p99Ms', 'writes']);
      expect(subject.metrics.notHeldInL1, subject.name).toBe(0);
    }
    expect(result.verdicts.map((verdict) => verdict.target)).toEqual([
      { op: '<=', value: 10 },
      { op: '<=', value: 10 },
    ]);
  });

  it('prints the ratios and draws every subject in the chart', () => {
    expect(stdout).toContain('× floor (target ≥ 0.85)');
    expect(stdout).toContain('× raw lru-cache (target ≤ 1.25)');
    expect(stdout).toContain("× the fastest client's MGET, ");
    expect(stdout).toMatch(
      /(met|NOT MET) \((margin [\d.]+%; one pass, no spread|short of the target by [\d.]+%)\)/,
    );
    expect(stdout).toContain('(target ≤ 10 ms)');
    expect(svg.startsWith('<svg')).toBe(true);
    for (const result of report.scenarios) {
      for (const subject of result.subjects) {
        // As the chart escapes it: "caller's" is written caller&#39;s.
        const escaped = subject.name.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
        expect(svg).toContain(`>${escaped}</text>`);
      }
    }
  });
});
