import { execFile } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createMemoryBackend } from '@tiercache/backend-memory';
import { createRedisBackend } from '@tiercache/backend-redis';
import { type BackendEvent, type CacheLogger, EVENT_CHANNEL } from '@tiercache/core';
import { backendFixture } from '@tiercache/core/testing';
import {
  commandCalls,
  connectedClients,
  eventually,
  type RedisServer,
  startRedisServer,
  startRedisWithAclUser,
  TRACKING_REFUSING_SERVERS,
} from '@tiercache/redis-harness';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTieredBackend, type TieredBackendOptions } from '../src/index.js';

/*
 * A tiered cache over a Redis that refuses CLIENT TRACKING (an ACL user without `client|tracking`, one without
 * `CLIENT`, `CLIENT` renamed away): it falls back to announce mode and says so; L1 fills; a write through
 * another tiered cache reaches it within about a heartbeat; a write by a plain client shows once L1's copy is
 * l1Ttl old; and the connections stay flat. Required `tracking` fails visibly; required `announce` never
 * switches tracking on.
 */

const L1_TTL = 0.5;
const backends = backendFixture();
const plainClients: Redis[] = [];
afterEach(async () => {
  await backends.closeAll();
  for (const client of plainClients.splice(0)) client.disconnect();
});

let run = 0;
const writer = fileURLToPath(new URL('./fixtures/write-through-tiered.ts', import.meta.url));
const runProcess = promisify(execFile);

function tiered(url: string, keyPrefix: string, options: Partial<TieredBackendOptions> = {}) {
  const l1 = createMemoryBackend({ maxEntries: 100 });
  const l2 = createRedisBackend({
    url,
    keyPrefix,
    commandTimeout: 500,
    reconnect: { minDelayMs: 10, maxDelayMs: 200 },
    changeFeed: { heartbeatMs: 100 },
  });
  const cache = backends.track(createTieredBackend({ l1, l2, l1Ttl: L1_TTL, ...options }));
  return { cache, l1 };
}

function plain(url: string): Redis {
  const client = new Redis(url);
  client.on('error', () => {});
  plainClients.push(client);
  return client;
}

/** The logger's lines, kept. */
function recordingLogger() {
  const lines: Array<{ level: 'warn' | 'info'; obj: object; msg: string }> = [];
  const logger: CacheLogger = {
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
  };
  return { logger, lines };
}

/** The `coherence` events published while this runs. */
function coherenceEvents() {
  const events: Array<Extract<BackendEvent, { type: 'coherence' }>> = [];
  const onEvent = (message: unknown) => {
    const event = message as BackendEvent;
    if (event.type === 'coherence') events.push(event);
  };
  subscribe(EVENT_CHANNEL, onEvent);
  return { events, stop: () => unsubscribe(EVENT_CHANNEL, onEvent) };
}

/** Calls of GET-like commands L2 received (the reads a tiered cache sends: a script or GET and PTTL). */
async function l2Reads(server: RedisServer): Promise<number> {
  const reads = /^(get|mget|pttl|evalsha|eval|evalsha_ro|eval_ro|fcall|fcall_ro|multi|exec)$/;
  let calls = 0;
  for (const [name, count] of Object.entries(await commandCalls(server)))
    if (reads.test(name)) calls += count;
  return calls;
}

describe.each(TRACKING_REFUSING_SERVERS)('tiered over a Redis that refuses tracking: $name', (setup) => {
  let server: RedisServer;
  let url: string;
  beforeAll(async () => {
    ({ server, url } = await setup.start());
  });
  afterAll(() => server.stop());

  it('falls back to announce mode, says so once, and fills its L1', async () => {
    const seen = coherenceEvents();
    const { logger, lines } = recordingLogger();
    try {
      const keyPrefix = `refused:${++run}:`;
      const { cache, l1 } = tiered(url, keyPrefix, { logger });
      await plain(url).set(`${keyPrefix}k`, 'v1');
      await eventually('L1 to fill', async () => {
        expect((await cache.get('k')).unwrap()).toBe('v1');
        return (await l1.exists('k')).unwrap();
      });
      expect((await cache.stats()).unwrap().coherence).toBe('announce');
      // A second get is an L1 hit: L2 receives no read for it.
      const before = await l2Reads(server);
      expect((await cache.get('k')).unwrap()).toBe('v1');
      expect(await l2Reads(server)).toBe(before);

      const mine = seen.events.filter((event) => event.backend === 'tiered');
      expect(mine.map((event) => event.mode)).toContain('announce');
      expect(mine.find((event) => event.mode === 'announce')?.reason).toMatch(setup.answer);
      const logged = lines.filter((line) => /coherence|l1Ttl|L1/.test(line.msg));
      expect(logged).toHaveLength(1);
      expect(logged[0]?.level).toBe('warn');
      expect(logged[0]?.obj).toMatchObject({ coherence: 'announce' });
    } finally {
      seen.stop();
    }
  });

  it('sees a write through another tiered cache within 2 s, an outside write only after l1Ttl, and keeps its connections flat', async () => {
    const keyPrefix = `refused:${++run}:`;
    const { cache, l1 } = tiered(url, keyPrefix);
    const other = tiered(url, keyPrefix).cache;
    (await other.set('k', 'v1')).unwrap();
    await eventually('L1 to fill', async () => {
      await cache.get('k');
      return (await l1.exists('k')).unwrap();
    });
    await eventually('the first process to be armed too', async () => {
      return (await other.stats()).unwrap().coherence === 'announce';
    });

    (await other.set('k', 'v2')).unwrap();
    await eventually(
      'the write through tiercache',
      async () => (await cache.get('k')).unwrap() === 'v2',
      2000,
    );

    await eventually('L1 to fill again', async () => {
      await cache.get('k');
      return (await l1.exists('k')).unwrap();
    });
    const written = Date.now();
    await plain(url).set(`${keyPrefix}k`, 'v3');
    const early = (await cache.get('k')).unwrap();
    if (Date.now() - written < L1_TTL * 1000 - 100) expect(early).toBe('v2');
    await eventually(
      'the outside write, once L1 has let its copy go',
      async () => (await cache.get('k')).unwrap() === 'v3',
      L1_TTL * 1000 + 1000,
    );

    const clients = await connectedClients(server);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(await connectedClients(server)).toBe(clients);
  });

  it('sees a write through tiercache in another process within 2 s', async () => {
    const keyPrefix = `refused:${++run}:`;
    // An L1 copy that lives 30 s: only the announcement can bring the new value within 2 s.
    const { cache, l1 } = tiered(url, keyPrefix, { l1Ttl: 30 });
    await plain(url).set(`${keyPrefix}price`, '100');
    await eventually('L1 to fill', async () => {
      await cache.get('price');
      return (await l1.exists('price')).unwrap() && (await cache.stats()).unwrap().coherence === 'announce';
    });
    await runProcess(process.execPath, [
      '--import',
      'tsx',
      '--conditions=@tiercache/source',
      writer,
      url,
      keyPrefix,
      'price',
      '120',
    ]);
    await eventually(
      'the write of the other process',
      async () => (await cache.get('price')).unwrap() === '120',
      2000,
    );
  }, 30_000);

  it("with coherence: 'tracking' required, every call answers Err naming the mode and Redis's answer", async () => {
    const { logger, lines } = recordingLogger();
    const { cache } = tiered(url, `refused:${++run}:`, { coherence: 'tracking', logger });
    await eventually('the refusal to be known', async () => (await cache.ping()).isErr());
    for (const answer of [await cache.ping(), await cache.get('k'), await cache.set('k', 'v')]) {
      expect(answer.isErr()).toBe(true);
      if (answer.isErr()) {
        expect(answer.error.code).toBe('BACKEND');
        expect(answer.error.message).toMatch(/coherence 'tracking' is required/);
        expect(answer.error.message).toMatch(setup.answer);
      }
    }
    expect(lines.filter((line) => line.level === 'warn')).toHaveLength(1);
  });
});

describe('required tracking, refused, then allowed while the process runs', () => {
  let server: RedisServer;
  let url: string;
  beforeAll(async () => {
    ({ server, url } = await startRedisWithAclUser(['-client|tracking']));
  });
  afterAll(() => server.stop());

  it('notices within a few seconds (every 30 heartbeats) that the ACL now allows tracking', async () => {
    // l1Ttl 30 s: an outside write seen within 2 s was heard through tracking, not by L1's copy running out.
    const { cache, l1 } = tiered(url, `allowed-later:${++run}:`, { coherence: 'tracking', l1Ttl: 30 });
    await eventually('the refusal to be known', async () => (await cache.ping()).isErr());
    const refused = await cache.get('k');
    expect(refused.isErr() && refused.error.message).toMatch(/coherence 'tracking' is required.*NOPERM/);

    await server.cli('ACL', 'SETUSER', 'app', '+client|tracking');
    // 30 heartbeats of 100 ms, then a re-arming.
    await eventually('calls to succeed', async () => (await cache.ping()).isOk(), 8000);
    expect((await cache.stats()).unwrap().coherence).toBe('tracking');
    (await cache.set('k', 'v')).unwrap();
    expect((await cache.get('k')).unwrap()).toBe('v');
    expect((await l1.exists('k')).unwrap()).toBe(true);
    // Tracking is on for real: an outside write reaches L1 well before l1Ttl.
    await plain(url).set(`allowed-later:${run}:k`, 'v2');
    await eventually('the outside write', async () => (await cache.get('k')).unwrap() === 'v2', 2000);
  }, 20_000);
});

describe('tiered over a Redis that allows tracking', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(() => server.stop());

  it("coherence: 'announce' never switches tracking on, and fills L1", async () => {
    const { cache, l1 } = tiered(server.url, `allowed:${++run}:`, { coherence: 'announce' });
    (await cache.set('k', 'v')).unwrap();
    await eventually('L1 to fill', async () => {
      await cache.get('k');
      return (await l1.exists('k')).unwrap();
    });
    expect((await cache.stats()).unwrap().coherence).toBe('announce');
    const list = await server.cli('CLIENT', 'LIST');
    expect(list.split('\n').filter((line) => /flags=\S*t/.test(line))).toEqual([]);
  });

  it("coherence: 'auto' (the default) tracks; 'ttl' and false listen to nothing", async () => {
    const auto = tiered(server.url, `allowed:${++run}:`);
    await eventually('the mode to be decided', async () => {
      return (await auto.cache.stats()).unwrap().coherence === 'tracking';
    });
    for (const coherence of ['ttl', false] as const) {
      const { cache, l1 } = tiered(server.url, `allowed:${++run}:`, { coherence });
      expect((await cache.stats()).unwrap().coherence).toBe('ttl');
      (await cache.set('k', 'v')).unwrap();
      expect((await l1.exists('k')).unwrap()).toBe(true);
    }
  });

  it('refuses a coherence option it does not know', () => {
    expect(() =>
      createTieredBackend({
        l2: createMemoryBackend(),
        coherence: 'sometimes' as unknown as 'auto',
      }),
    ).toThrow(/coherence must be/);
  });
});

describe('coherence with a memory L2', () => {
  it('hears everything: tracking', async () => {
    const cache = backends.track(createTieredBackend({ l2: createMemoryBackend() }));
    expect((await cache.stats()).unwrap().coherence).toBe('tracking');
  });
});
