import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type RedisServer, startRedisServer } from '@tiercache/redis-harness';
import { afterEach, describe, expect, it } from 'vitest';

/*
 * close() must leave nothing that keeps the event loop alive: a process that closes its caches exits by
 * itself, at once, whether Redis answers, is frozen (SIGSTOP) or is gone (SIGKILL). Measured in a child
 * process (fixtures/close-and-exit.ts) that uses a Redis backend and a tiered cache over it, closes both, and
 * then does nothing.
 */

const CHILD = fileURLToPath(new URL('./fixtures/close-and-exit.ts', import.meta.url));
/** From the child's `closed` line to its exit: a process with nothing left to do ends within a few ms. */
const EXIT_BOUND_MS = 500;
/** close() with commandTimeout 200 ms: a QUIT and a close that each wait at most that long, and a little more. */
const CLOSE_BOUND_MS = 1500;

let server: RedisServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

interface ChildRun {
  closeMs: number;
  exitAfterClosedMs: number;
  code: number | null;
}

/** Runs the child against `url`; `beforeClose` runs once it is ready, before it is told to close. */
function runChild(url: string, beforeClose: () => Promise<void> | void): Promise<ChildRun> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@tiercache/source', CHILD, url, `close-exits:${process.pid}:`],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let output = '';
    let errors = '';
    let closeMs: number | undefined;
    let closedAt: number | undefined;
    const giveUp = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the child did not exit within 20 s; stdout: ${output}; stderr: ${errors}`));
    }, 20_000);
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      errors += text;
    });
    child.stdout.setEncoding('utf8').on('data', async (text: string) => {
      output += text;
      if (text.includes('ready')) {
        await beforeClose();
        child.stdin.end('close\n');
      }
      const closed = /closed (\d+)/.exec(text);
      if (closed) {
        closedAt = performance.now();
        closeMs = Number(closed[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(giveUp);
      const exitedAt = performance.now();
      if (closeMs === undefined || closedAt === undefined) {
        reject(new Error(`the child never closed (exit ${code}); stdout: ${output}; stderr: ${errors}`));
        return;
      }
      resolve({ closeMs, exitAfterClosedMs: exitedAt - closedAt, code });
    });
  });
}

describe('close() lets the process exit', () => {
  it('a process exits at once after close() while Redis answers', async () => {
    server = await startRedisServer();
    const run = await runChild(server.url, () => {});
    expect(run.code).toBe(0);
    expect(run.exitAfterClosedMs).toBeLessThan(EXIT_BOUND_MS);
    expect(run.closeMs).toBeLessThan(CLOSE_BOUND_MS);
  });

  it('a process exits at once after close() when Redis was killed, and close() answers within its bound', async () => {
    const killed = await startRedisServer();
    server = killed;
    const run = await runChild(killed.url, () => killed.kill());
    expect(run.code).toBe(0);
    expect(run.exitAfterClosedMs).toBeLessThan(EXIT_BOUND_MS);
    expect(run.closeMs).toBeLessThan(CLOSE_BOUND_MS);
  });

  it('a process exits at once after close() when Redis is frozen, and close() answers within its bound', async () => {
    const frozen = await startRedisServer();
    server = frozen;
    const run = await runChild(frozen.url, () => frozen.pause());
    expect(run.code).toBe(0);
    expect(run.exitAfterClosedMs).toBeLessThan(EXIT_BOUND_MS);
    expect(run.closeMs).toBeLessThan(CLOSE_BOUND_MS);
  });
});
