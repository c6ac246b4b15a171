import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkShape, packAll, publishedPackages, workspaceRoot } from '../src/index.js';

const run = promisify(execFile);
const consumerDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'consumer');
const tsc = join(workspaceRoot, 'node_modules', 'typescript', 'bin', 'tsc');

// What a user does: pnpm packs (as `changeset publish` does), npm installs the tarballs into a project of its own.
let packDir: string;
let scratch: string;
let tarballs: Map<string, string>;
let typeChecks: Record<Resolution, Promise<string>>;
beforeAll(async () => {
  packDir = await mkdtemp(join(tmpdir(), 'tiercache-pack-'));
  scratch = await mkdtemp(join(tmpdir(), 'tiercache-scratch-'));
  tarballs = await packAll(packDir);
  await writeFile(
    join(scratch, 'package.json'),
    JSON.stringify({ name: 'tiercache-scratch', private: true, type: 'module' }),
  );
  for (const file of await readdir(consumerDir)) await copyFile(join(consumerDir, file), join(scratch, file));
  // The tarballs come from disk; their own dependencies (ts-results-es, lru-cache, ioredis) from the registry.
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballs.values()], {
    cwd: scratch,
  });
  // Both compilations run at once; each test below reads its own result.
  typeChecks = { node16: typeCheck('node16'), bundler: typeCheck('bundler') };
  await Promise.allSettled(Object.values(typeChecks));
}, 240_000);
afterAll(async () => {
  await Promise.all([packDir, scratch].map((dir) => dir && rm(dir, { recursive: true, force: true })));
});

type Resolution = 'node16' | 'bundler';

/**
 * Compiles the consumer under one `moduleResolution` and resolves with what tsc printed ('' when clean).
 * Under node16 the published declarations are checked too (`skipLibCheck: false`: a declaration importing
 * something the package does not depend on fails there) and the program is emitted to run; under bundler the
 * check stops at the consumer's own code, as most projects set it, which keeps the two runs short.
 */
async function typeCheck(resolution: Resolution): Promise<string> {
  const compilerOptions = {
    strict: true,
    target: 'ES2022',
    module: resolution === 'node16' ? 'node16' : 'preserve',
    moduleResolution: resolution,
    types: ['node'],
    typeRoots: [join(workspaceRoot, 'node_modules', '@types')],
    skipLibCheck: resolution !== 'node16',
    ...(resolution === 'node16' ? { outDir: 'out-node16' } : { noEmit: true }),
  };
  const config = `tsconfig.${resolution}.json`;
  await writeFile(join(scratch, config), JSON.stringify({ compilerOptions, files: ['consumer.ts'] }));
  const result = await run(process.execPath, [tsc, '-p', config], { cwd: scratch }).catch((error) => error);
  return `${result.stdout ?? ''}${result.stderr ?? ''}`;
}

async function packed(
  name: string,
): Promise<Record<string, unknown> & { dependencies?: Record<string, string> }> {
  return JSON.parse(await readFile(join(scratch, 'node_modules', name, 'package.json'), 'utf8'));
}

describe('the published packages', () => {
  it('are every non-private package of packages/, each packed once', async () => {
    const names = (await publishedPackages()).map((pkg) => pkg.name);
    expect(names).toEqual(expect.arrayContaining(['@tiercache/core', '@tiercache/backend-memory']));
    expect([...tarballs.keys()]).toEqual(names);
  });

  it('pass publint and are-the-types-wrong', { timeout: 120_000 }, async () => {
    const reports = [];
    for (const tarball of tarballs.values()) reports.push(...(await checkShape(tarball)));
    expect(reports.filter((report) => !report.ok)).toEqual([]);
    expect(reports).toHaveLength(tarballs.size * 2);
  });

  it('name real versions of each other, not workspace:, and drop the source condition', async () => {
    for (const name of tarballs.keys()) {
      const manifest = await packed(name);
      expect(JSON.stringify(manifest.dependencies ?? {})).not.toContain('workspace:');
      expect(JSON.stringify(manifest.exports)).not.toContain('@tiercache/source');
      expect(manifest).toMatchObject({
        license: 'MIT',
        engines: { node: '^20.19.0 || >=22.12.0' },
        repository: { directory: expect.stringMatching(/^packages\//) },
      });
    }
  });

  it('are installed from the tarballs alone, one copy of each', async () => {
    const lock = JSON.parse(await readFile(join(scratch, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { resolved?: string }>;
    };
    const ours = Object.entries(lock.packages).filter(([path]) => path.includes('node_modules/@tiercache/'));
    expect(ours.map(([path]) => path).sort()).toEqual(
      [...tarballs.keys()].map((name) => `node_modules/${name}`),
    );
    for (const [, entry] of ours) expect(entry.resolved).toMatch(/^file:.*\.tgz$/);
  });

  it('ship a LICENSE, a CHANGELOG and the sources every source map points at', async () => {
    const license = await readFile(join(workspaceRoot, 'LICENSE'), 'utf8');
    for (const name of tarballs.keys()) {
      const dir = join(scratch, 'node_modules', name);
      expect(await readFile(join(dir, 'LICENSE'), 'utf8')).toBe(license);
      expect(await readFile(join(dir, 'CHANGELOG.md'), 'utf8')).toMatch(new RegExp(`^# ${name}\\n`));
      const maps = (await readdir(join(dir, 'dist'), { recursive: true })).filter((file) =>
        file.endsWith('.map'),
      );
      expect(maps.length).toBeGreaterThan(0);
      for (const map of maps) {
        const { sources } = JSON.parse(await readFile(join(dir, 'dist', map), 'utf8')) as {
          sources: string[];
        };
        for (const source of sources) {
          await expect(readFile(resolve(dirname(join(dir, 'dist', map)), source))).resolves.toBeDefined();
        }
      }
    }
  });
});

describe('a project that installs them', () => {
  for (const resolution of ['node16', 'bundler'] as const) {
    it(`type-checks under moduleResolution ${resolution}`, async () => {
      expect(await typeChecks[resolution]).toBe('');
    });
  }

  it('runs set, get and getOrSet on the memory backend', async () => {
    // Compiled under node16 in beforeAll; run as Node runs it, from node_modules, without a loader.
    expect(await typeChecks.node16).toBe('');
    const { stdout } = await run(process.execPath, ['out-node16/consumer.js'], { cwd: scratch });
    expect(JSON.parse(stdout)).toEqual({
      set: true,
      get: 'hello',
      first: 'loaded once',
      second: 'loaded once',
      loads: 1,
      miss: null,
      invalid: 'INVALID_ARGUMENT',
      made: 1,
      refused: 'refused',
      factories: ['function', 'function'],
    });
  });

  it(`loads them with require() on this Node.js (${process.version})`, async () => {
    const { stdout } = await run(process.execPath, ['--no-warnings', 'require.cjs'], { cwd: scratch });
    expect(JSON.parse(stdout)).toEqual({ get: 'from require', ok: 1, cacheError: 'function' });
  });

  it('imports @tiercache/core/testing without fast-check; only testing/operations needs it', async () => {
    const vitestParent = pathToFileURL(join(workspaceRoot, 'tools', 'pack-test', 'package.json')).href;
    const importEntry = async (entry: string) => {
      const { stdout } = await run(
        process.execPath,
        ['--import', './vitest-from-workspace.mjs', 'testing-entry.mjs', entry],
        { cwd: scratch, env: { ...process.env, VITEST_PARENT: vitestParent } },
      );
      return JSON.parse(stdout);
    };
    expect(await importEntry('@tiercache/core/testing')).toMatchObject({
      exports: expect.arrayContaining(['describeConformance', 'expectOk']),
    });
    expect(await importEntry('@tiercache/core/testing/operations')).toMatchObject({
      error: 'ERR_MODULE_NOT_FOUND',
      message: expect.stringContaining("'fast-check'"),
    });
  });
});
