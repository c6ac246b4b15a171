import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The workspace's root directory. */
export const workspaceRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** A package of `packages/` that is published: one whose package.json is not `private`. */
export interface PublishedPackage {
  name: string;
  version: string;
  dir: string;
}

/** Every package under `packages/` that is not private: a new package is packed and checked without a list. */
export async function publishedPackages(root = workspaceRoot): Promise<PublishedPackage[]> {
  const packages: PublishedPackage[] = [];
  for (const entry of await readdir(join(root, 'packages'), { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = join(root, 'packages', entry.name);
    let manifest: { name: string; version: string; private?: boolean };
    try {
      manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
    } catch {
      continue; // A folder without a package.json (left over from another branch) is not a package.
    }
    if (manifest.private !== true) packages.push({ name: manifest.name, version: manifest.version, dir });
  }
  return packages.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Builds every published package once (`tsc -b tsconfig.build.json` at the root), then packs each with
 * `pnpm pack` into `destination`, as `changeset publish` does (pnpm runs each package's `prepack`, rewrites
 * `workspace:*` to the version and applies `publishConfig`). Resolves with the tarballs' paths by package name.
 */
export async function packAll(destination: string, root = workspaceRoot): Promise<Map<string, string>> {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  await run(process.execPath, [tsc, '-b', 'tsconfig.build.json'], { cwd: root });
  const [pnpm = 'pnpm', ...pnpmArgs] = await pnpmCommand();
  const tarballs = new Map<string, string>();
  for (const pkg of await publishedPackages(root)) {
    const args = [...pnpmArgs, 'pack', '--json', '--pack-destination', destination];
    const { stdout } = await run(pnpm, args, { cwd: pkg.dir });
    // pnpm prints the prepack script's output first; the JSON report is the last thing it prints.
    const packed: { filename: string } = JSON.parse(stdout.slice(stdout.lastIndexOf('\n{') + 1));
    tarballs.set(
      pkg.name,
      packed.filename.startsWith('/') ? packed.filename : join(destination, packed.filename),
    );
  }
  return tarballs;
}

/**
 * pnpm as scripts/setup.mjs finds it: the one on PATH, else `npx --yes pnpm@10` (a fresh machine has only
 * Node, and setup.mjs installed the workspace that way).
 */
async function pnpmCommand(): Promise<string[]> {
  try {
    await run('pnpm', ['--version']);
    return ['pnpm'];
  } catch {
    return ['npx', '--yes', 'pnpm@10'];
  }
}

/** What one checker said about one tarball; `ok` is false when it reported a problem. */
export interface ShapeReport {
  tool: 'publint' | 'attw';
  tarball: string;
  ok: boolean;
  output: string;
}

/**
 * Runs the ecosystem's package-shape checkers over a tarball: publint (`--strict`: warnings fail too) and
 * are-the-types-wrong with the `esm-only` profile (the packages are ESM only by choice, so the `node10` and
 * CommonJS-`node16` resolutions, which cannot load ESM types, are not asked for).
 */
export async function checkShape(tarball: string, root = workspaceRoot): Promise<ShapeReport[]> {
  const bin = (name: string) => join(root, 'node_modules', '.bin', name);
  const checks: Array<[ShapeReport['tool'], string, string[]]> = [
    ['publint', bin('publint'), ['run', tarball, '--strict']],
    [
      'attw',
      bin('attw'),
      [tarball, '--profile', 'esm-only', '--format', 'ascii', '--no-color', '--no-emoji'],
    ],
  ];
  return Promise.all(
    checks.map(async ([tool, command, args]): Promise<ShapeReport> => {
      try {
        const { stdout, stderr } = await run(command, args, {
          cwd: root,
          env: { ...process.env, NO_COLOR: '1' },
        });
        return { tool, tarball, ok: true, output: `${stdout}${stderr}` };
      } catch (error) {
        const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
        return { tool, tarball, ok: false, output: `${stdout}${stderr}` || String(error) };
      }
    }),
  );
}
