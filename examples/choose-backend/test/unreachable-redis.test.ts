import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'main.ts');

/** Runs the demo as `npm run demo` does, in a child process, with the given environment additions. */
async function demo(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const args = ['--import', 'tsx', '--conditions=@tiercache/source', main];
  const childEnv = { ...process.env, CACHE_URL: '', REDIS_URL: '', ...env };
  try {
    const { stdout, stderr } = await run(process.execPath, args, { env: childEnv, timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

describe('the demo with a Redis that is not there', () => {
  it('says which Redis is unreachable and exits non-zero, without a tour of nulls', async () => {
    const { code, stdout, stderr } = await demo({ REDIS_URL: 'redis://127.0.0.1:1' });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('Cannot run the demo: Redis at redis://127.0.0.1:1 is unreachable.');
    expect(stderr).toContain('ECONNREFUSED 127.0.0.1:1');
  });

  it('does not print the password of the URL it names', async () => {
    const { code, stderr } = await demo({ CACHE_URL: 'tiered+redis://:hunter2@127.0.0.1:1/0' });
    expect(code).toBe(1);
    expect(stderr).toContain('Redis at tiered+redis://:***@127.0.0.1:1/0 is unreachable');
    expect(stderr).not.toContain('hunter2');
  });
});
