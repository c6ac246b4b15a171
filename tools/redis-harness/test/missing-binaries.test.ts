import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { redisBinaries } from '@tiercache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');

let bin: string;
beforeAll(async () => {
  bin = await mkdtemp(join(tmpdir(), 'tiercache-path-'));
});
afterAll(() => rm(bin, { recursive: true, force: true }));

/**
 * Runs the workspace's vitest in a child process with PATH set to `path` only. The run is limited to one
 * quick test file, so that a check that wrongly passed would not start the whole suite.
 */
async function vitestWithPath(path: string): Promise<{ code: number; output: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST')));
  const args = [vitest, 'run', 'packages/core/test/key-pattern.test.ts'];
  try {
    const { stdout, stderr } = await run(process.execPath, args, {
      cwd: root,
      env: { ...env, PATH: path, NO_COLOR: '1' },
      timeout: 30_000,
    });
    return { code: 0, output: `${stdout}${stderr}` };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, output: `${stdout}${stderr}` };
  }
}

function count(text: string, part: string): number {
  return text.split(part).length - 1;
}

describe('a test run on a machine without the Redis programs', () => {
  it('stops before any test file, saying once what to install', async () => {
    const { code, output } = await vitestWithPath(bin);
    expect(code).toBe(1);
    expect(count(output, 'apt-get install redis-server')).toBe(1);
    expect(output).toContain('redis-server and redis-cli were not found on PATH');
    expect(output).not.toMatch(/Test Files|TypeError/);
  });

  it('names the one program missing when only redis-cli is', async () => {
    await symlink(redisBinaries().server, join(bin, 'redis-server'));
    const { code, output } = await vitestWithPath(bin);
    expect(code).toBe(1);
    expect(count(output, 'apt-get install redis-server')).toBe(1);
    expect(output).toContain('redis-cli was not found on PATH');
  });

  it('runs the tests once both are there', async () => {
    await symlink(redisBinaries().cli, join(bin, 'redis-cli'));
    const { code, output } = await vitestWithPath(bin);
    expect(output).toMatch(/Test Files\s+1 passed/);
    expect(code).toBe(0);
  });
});
