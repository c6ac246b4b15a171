import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type RedisForTests, useRedisForTests } from '@tiercache/redis-harness';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const CALLER = fileURLToPath(new URL('./fixtures/lock-caller.ts', import.meta.url));

/** A lock-caller child process, and the lines it prints, as they come. */
interface Caller {
  child: ChildProcess;
  /** Resolves with the next line printed that starts with `start`. */
  line(start: string, timeoutMs?: number): Promise<string>;
  /** Every line printed so far. */
  lines: string[];
}

let redis: RedisForTests;
const children: ChildProcess[] = [];

beforeAll(async () => {
  redis = await useRedisForTests();
});
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});
afterAll(() => redis.stop());

function startCaller(env: Record<string, string>): Caller {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@tiercache/source', CALLER], {
    env: { ...process.env, REDIS_URL: redis.url, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines: string[] = [];
  const waiting: Array<{ start: string; resolve: (line: string) => void }> = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    lines.push(line);
    const index = waiting.findIndex((waiter) => line.startsWith(waiter.start));
    if (index >= 0) waiting.splice(index, 1)[0]?.resolve(line);
  });
  return {
    child,
    lines,
    line(start, timeoutMs = 20_000) {
      const seen = lines.find((line) => line.startsWith(start));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no "${start}" line within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiting.push({
          start,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
      });
    },
  };
}

const loads = (callers: Caller[]) => callers.flatMap((caller) => caller.lines).filter((l) => l === 'loading');

describe('getOrSet with lock, across processes on one Redis', () => {
  it('4 processes × 250 calls on a cold key run the loader once between them', async () => {
    const env = { PREFIX: `lock-${Date.now()}:`, KEY: 'cold', CALLS: '250', LOADER_MS: '50' };
    const callers = Array.from({ length: 4 }, () => startCaller(env));
    await Promise.all(callers.map((caller) => caller.line('ready')));
    for (const caller of callers) caller.child.stdin?.write('go\n');
    const done = await Promise.all(callers.map((caller) => caller.line('done')));
    expect(loads(callers)).toHaveLength(1);
    // Every call in every process was answered the one loaded value.
    expect(new Set(done)).toHaveProperty('size', 1);
    expect(done[0]).toMatch(/^done loaded by \d+$/);
  });

  it('a holder killed mid-load releases nothing; another process loads once its lock expires', async () => {
    const prefix = `lock-killed-${Date.now()}:`;
    const holder = startCaller({ PREFIX: prefix, KEY: 'k', LOADER_MS: 'never', LOCK_TTL: '1' });
    await holder.line('ready');
    holder.child.stdin?.write('go\n');
    await holder.line('loading');
    const waiter = startCaller({ PREFIX: prefix, KEY: 'k', LOADER_MS: '10', LOCK_TTL: '1' });
    await waiter.line('ready');
    waiter.child.stdin?.write('go\n');
    const killedAt = Date.now();
    holder.child.kill('SIGKILL');
    await waiter.line('loading', 5_000);
    // Within the lock's time (1 s) of the kill, plus the waiter's margin and a loaded machine's delay.
    expect(Date.now() - killedAt).toBeLessThan(2_500);
    expect(await waiter.line('done')).toBe(`done loaded by ${waiter.child.pid}`);
  });
});
