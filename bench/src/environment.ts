import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What a reader needs to judge whether a result applies to their machine. */
export interface Environment {
  date: string;
  node: string;
  v8: string;
  platform: string;
  arch: string;
  cpuModel: string;
  cores: number;
  totalMemoryBytes: number;
  /**
   * The 1-minute load average when the run started. Above about 1 on a 2-core machine, something else was busy
   * and the timings are less trustworthy.
   */
  loadAverageAtStart: number;
}

export function describeEnvironment(): Environment {
  const cores = cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    platform: process.platform,
    arch: process.arch,
    cpuModel: cores[0]?.model.trim() ?? 'unknown',
    cores: cores.length,
    totalMemoryBytes: totalmem(),
    loadAverageAtStart: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

interface PackageInfo {
  name: string;
  version: string;
  /** The package's directory with symlinks resolved, to tell whether two importers load the same copy. */
  dir: string;
}

/** Walks up from a module file to the package.json that names `name`. */
function packageOf(name: string, entryFile: string): PackageInfo {
  let dir = dirname(entryFile);
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
      if (parsed.name === name) return { name, version: parsed.version ?? '?', dir: realpathSync(dir) };
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json named ${name} above ${entryFile}`);
    dir = parent;
  }
}

/** The version of `name` that this package loads: the one the subjects import. */
export function installedPackage(name: string): PackageInfo {
  return packageOf(name, fileURLToPath(import.meta.resolve(name)));
}

/** The package `name` as `dependent` (an installed package) resolves it. */
export function packageAsSeenBy(name: string, dependent: string): PackageInfo {
  const require = createRequire(join(installedPackage(dependent).dir, 'package.json'));
  return packageOf(name, require.resolve(name));
}

const BENCH_MANIFEST = fileURLToPath(new URL('../package.json', import.meta.url));

/** This package's npm aliases (`"ioredis-5": "npm:ioredis@^5.11.1"`): alias → the real package's name. */
function aliases(): Record<string, string> {
  const { dependencies = {}, devDependencies = {} } = JSON.parse(readFileSync(BENCH_MANIFEST, 'utf8')) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  const found: Record<string, string> = {};
  for (const [alias, range] of Object.entries({ ...dependencies, ...devDependencies })) {
    const real = /^npm:((?:@[^/@]+\/)?[^@]+)@/.exec(range)?.[1];
    if (real) found[alias] = real;
  }
  return found;
}

/**
 * A package a subject measures, as its `packages` lists it: a package this one depends on (`lru-cache`), an npm
 * alias of one (`ioredis-5`: the ioredis installed under that name), or `dependent>name` (the copy of `name`
 * that `dependent` loads, e.g. `@tiercache/backend-redis>ioredis`). Answers the real name and version, so
 * the report prints `ioredis 5.11.1` whatever name it was installed under.
 */
export function measuredPackage(spec: string): PackageInfo {
  const [dependent, name] = spec.includes('>') ? spec.split('>') : [undefined, spec];
  if (dependent !== undefined && name !== undefined) return packageAsSeenBy(name, dependent);
  const real = aliases()[spec];
  return real ? packageOf(real, fileURLToPath(import.meta.resolve(spec))) : installedPackage(spec);
}

/**
 * What the report's `packages` records for a spec: the version alone when the spec is the package's own name
 * (`lru-cache` → `11.2.0`), otherwise the real name with it (`ioredis-5` → `ioredis@5.11.1`).
 */
export function recordedVersion(spec: string): string {
  const { name, version } = measuredPackage(spec);
  return name === spec ? version : `${name}@${version}`;
}

/** `ioredis 5.11.1`: how the report names a package, from a spec and what `recordedVersion` answered for it. */
export function packageLabel(spec: string, recorded: string): string {
  const at = recorded.lastIndexOf('@');
  return at > 0 ? `${recorded.slice(0, at)} ${recorded.slice(at + 1)}` : `${spec} ${recorded}`;
}

/** One label per package and version, in the order first listed: three specs of ioredis 6.0.0 print once. */
export function packageLabels(packages: Readonly<Record<string, string>>): string[] {
  return [...new Set(Object.entries(packages).map(([spec, recorded]) => packageLabel(spec, recorded)))];
}
