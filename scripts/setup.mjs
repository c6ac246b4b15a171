// Makes a fresh clone ready to run: installs the workspace's dependencies with pnpm when they are missing or
// older than the lockfile. `npm run demo` and `npm test` call it first, so a newcomer needs only Node.js (^20.19.0 or >=22.12.0).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The packages are ESM only, and CommonJS callers require() them: Node.js 20.19 and 22.12 are the first of
// their lines that can (the packaging test proves it), hence the same range as the packages' `engines`.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19) || (major === 22 && minor < 12) || major === 21) {
  console.error(`tiercache needs Node.js ^20.19.0 or >=22.12.0; this is ${process.version}.`);
  process.exit(1);
}

const installed = join(root, 'node_modules', '.modules.yaml');
const lockfile = join(root, 'pnpm-lock.yaml');
const upToDate = existsSync(installed) && statSync(installed).mtimeMs >= statSync(lockfile).mtimeMs;
if (!upToDate) {
  // pnpm is fetched from the npm registry when it is not installed (corepack is not relied on).
  const hasPnpm = spawnSync('pnpm', ['--version'], { stdio: 'ignore' }).status === 0;
  const [command, args] = hasPnpm ? ['pnpm', []] : ['npx', ['--yes', 'pnpm@10']];
  console.log(`Installing dependencies with ${hasPnpm ? 'pnpm' : 'npx pnpm@10'}…`);
  execFileSync(command, [...args, 'install', '--frozen-lockfile'], { cwd: root, stdio: 'inherit' });
}
