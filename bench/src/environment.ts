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
