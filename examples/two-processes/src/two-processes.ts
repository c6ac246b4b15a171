import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createRedisBackend } from '@tiercache/backend-redis';
import { createTieredBackend } from '@tiercache/backend-tiered';
import { Redis } from 'ioredis';

/**
 * Reads a key into this process's L1, has another process (and then a plain Redis client) change it, and
 * measures how long until this process reads the new value. Returns one line per step.
 */
export async function demonstrate(redisUrl: string, log: (line: string) => void): Promise<number[]> {
  const keyPrefix = `two-processes:${process.pid}:`;
  const reader = createTieredBackend({ l2: createRedisBackend({ url: redisUrl, keyPrefix }), l1Ttl: 300 });
  const writer = await startWriter(redisUrl, keyPrefix);
  const plainClient = new Redis(redisUrl);
  const delays: number[] = [];
  try {
    await writer.write('price', '100');
    log(`reader sees price = ${(await reader.get('price')).unwrapOr('?')} (now in its L1 for up to 300 s)`);
    await waitUntilArmed(reader);

    const [viaTiercache, afterTiercache] = await timeUntilSeen(reader, 'price', '120', () =>
      writer.write('price', '120'),
    );
    delays.push(viaTiercache);
    log(`the other process wrote 120: the reader saw ${afterTiercache} after ${viaTiercache.toFixed(2)} ms`);

    const [viaRedis, afterRedis] = await timeUntilSeen(reader, 'price', '130', () =>
      plainClient.set(`${keyPrefix}price`, '130'),
    );
    delays.push(viaRedis);
    log(`a plain Redis client wrote 130: the reader saw ${afterRedis} after ${viaRedis.toFixed(2)} ms`);
  } finally {
    await reader.flush();
    await reader.close();
    plainClient.disconnect();
    writer.stop();
  }
  return delays;
}

/** Writes, then polls the reader until it answers `expected`; how long that took, and what it saw. */
async function timeUntilSeen(
  reader: ReturnType<typeof createTieredBackend>,
  key: string,
  expected: string,
  write: () => Promise<unknown>,
): Promise<[number, string]> {
  const started = performance.now();
  await write();
  for (;;) {
    const seen = (await reader.get(key)).unwrapOr(null);
    if (seen === expected) return [performance.now() - started, seen];
    if (performance.now() - started > 5000) return [Number.POSITIVE_INFINITY, String(seen)];
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The reader's L1 fills only once its invalidation feed hears Redis; wait for that before measuring. */
async function waitUntilArmed(reader: ReturnType<typeof createTieredBackend>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const stats = (await reader.stats()).unwrap();
    if ((stats.tiers?.l1?.totalKeys ?? 0) > 0) return;
    await reader.get('price');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function startWriter(redisUrl: string, keyPrefix: string) {
  const script = fileURLToPath(new URL('./writer.ts', import.meta.url));
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@tiercache/source', script],
    {
      env: { ...process.env, REDIS_URL: redisUrl, PREFIX: keyPrefix },
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
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
    new Promise<string>((resolve) => {
      const line = lines.shift();
      if (line !== undefined) resolve(line);
      else waiters.push(resolve);
    });
  const ready = await Promise.race([nextLine(), once(child, 'exit').then(() => 'exited')]);
  if (ready !== 'ready') throw new Error(`the writer process did not start (${ready})`);
  return {
    async write(key: string, value: string) {
      child.stdin?.write(`${key} ${value}\n`);
      const answer = await nextLine();
      if (answer !== 'ok') throw new Error(`the writer failed: ${answer}`);
    },
    stop() {
      child.stdin?.end();
    },
  };
}
