import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { CacheBackend } from '@tiercache/core';
import { createAppCache } from './app-cache.js';

/** What the run showed, for the test to check. */
export interface DemoOutcome {
  /** How often process A's loader ran: once at first, once more after B deleted the key. */
  loaderCalls: number;
  /** The second `wrap()`: L1 hits and L2 (Redis) reads it caused. */
  secondWrap: { l1Hits: number; l2Reads: number };
  /** Milliseconds from B's `set` returning until A's `wrap()` answered B's value. */
  seenSetAfterMs: number;
  /** Milliseconds from B's `del` returning until A's `wrap()` called its loader again. */
  seenDeleteAfterMs: number;
}

const KEY = 'price';
const WRAP_TTL_MS = 60_000;

/**
 * Process A wraps a price with cache-manager; process B, with the same setup, changes and deletes it; A sees
 * each change at once, while its reads in between are answered by its L1. Logs one line per step.
 */
export async function demonstrate(redisUrl: string, log: (line: string) => void): Promise<DemoOutcome> {
  const keyPrefix = `cache-manager-keyv:${process.pid}:`;
  const other = await startOtherProcess(redisUrl, keyPrefix);
  const { cache, backend } = createAppCache(redisUrl, keyPrefix);
  let loaderCalls = 0;
  const wrapPrice = () =>
    cache.wrap(
      KEY,
      async () => {
        loaderCalls += 1;
        return 100; // the "database" price
      },
      WRAP_TTL_MS,
    );
  try {
    log(`A: wrap("${KEY}") = ${await wrapPrice()}, from its loader (loader calls: ${loaderCalls})`);
    await untilInL1(backend, wrapPrice);

    const before = await tierReads(backend);
    const second = await wrapPrice();
    const after = await tierReads(backend);
    const secondWrap = { l1Hits: after.l1Hits - before.l1Hits, l2Reads: after.l2Reads - before.l2Reads };
    log(
      `A: wrap("${KEY}") = ${second}, from L1 (L1 hits +${secondWrap.l1Hits}, Redis reads +${secondWrap.l2Reads}, loader calls: ${loaderCalls})`,
    );

    const seenSetAfterMs = await timeUntil(
      () => other.send(`set ${KEY} 120`),
      async () => (await wrapPrice()) === 120,
    );
    log(
      `B: set("${KEY}", 120): A's wrap answered 120 after ${seenSetAfterMs.toFixed(2)} ms (loader calls: ${loaderCalls})`,
    );

    const calledBefore = loaderCalls;
    const seenDeleteAfterMs = await timeUntil(
      () => other.send(`del ${KEY}`),
      async () => {
        await wrapPrice();
        return loaderCalls > calledBefore;
      },
    );
    log(
      `B: del("${KEY}"): A's wrap called its loader again after ${seenDeleteAfterMs.toFixed(2)} ms (loader calls: ${loaderCalls})`,
    );
    return { loaderCalls, secondWrap, seenSetAfterMs, seenDeleteAfterMs };
  } finally {
    await cache.clear();
    await cache.disconnect();
    await other.stop();
  }
}

/** L1 hits and L2 lookups (hits and misses) so far. */
async function tierReads(backend: CacheBackend): Promise<{ l1Hits: number; l2Reads: number }> {
  const { tiers } = (await backend.stats()).unwrap();
  return { l1Hits: tiers?.l1?.hits ?? 0, l2Reads: (tiers?.l2?.hits ?? 0) + (tiers?.l2?.misses ?? 0) };
}

/** The L1 fills once the tiered cache's invalidation feed hears Redis; until then reads go to Redis. */
async function untilInL1(backend: CacheBackend, read: () => Promise<unknown>): Promise<void> {
  const started = performance.now();
  for (;;) {
    const { tiers } = (await backend.stats()).unwrap();
    if ((tiers?.l1?.totalKeys ?? 0) > 0) return;
    if (performance.now() - started > 10_000)
      throw new Error('the L1 never filled: is the change feed armed?');
    await read();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Runs `act`, then polls `seen` until it says yes; the milliseconds that took (at most 5 s, else Infinity). */
async function timeUntil(act: () => Promise<void>, seen: () => Promise<boolean>): Promise<number> {
  await act();
  const started = performance.now();
  for (;;) {
    if (await seen()) return performance.now() - started;
    if (performance.now() - started > 5000) return Number.POSITIVE_INFINITY;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Starts process B (other-process.ts) and gives a way to send it one command and wait for its answer. */
async function startOtherProcess(redisUrl: string, keyPrefix: string) {
  const script = fileURLToPath(new URL('./other-process.ts', import.meta.url));
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@tiercache/source', script],
    { env: { ...process.env, REDIS_URL: redisUrl, PREFIX: keyPrefix }, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const exited = once(child, 'exit');
  child.stdout?.setEncoding('utf8');
  const lines: string[] = [];
  const waiters: Array<(line: string) => void> = [];
  child.stdout?.on('data', (chunk: string) => {
    for (const line of chunk.split('\n').filter(Boolean)) {
      const waiter = waiters.shift();
      if (waiter) waiter(line);
      else lines.push(line);
    }
  });
  const nextLine = () =>
    Promise.race([
      new Promise<string>((resolve) => {
        const line = lines.shift();
        if (line !== undefined) resolve(line);
        else waiters.push(resolve);
      }),
      exited.then(() => 'exited'),
    ]);
  const ready = await nextLine();
  if (ready !== 'ready') {
    child.kill('SIGKILL');
    throw new Error(`process B did not start (${ready})`);
  }
  return {
    async send(command: string) {
      child.stdin?.write(`${command}\n`);
      const answer = await nextLine();
      if (answer !== 'ok') throw new Error(`process B failed "${command}": ${answer}`);
    },
    /** Ends B's input, so it disconnects and exits; one that has not within 5 s is killed. */
    async stop() {
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
