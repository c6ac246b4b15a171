import type { CacheBackend, ChangeFeed } from '@tiercache/core';
import { backendFixture, listenToChanges } from '@tiercache/core/testing';
import { eventually, type RedisServer, startRedisServer } from '@tiercache/redis-harness';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisBackend, type RedisBackendOptions } from '../src/index.js';

/*
 * The change feed on real redis-servers: writes by other clients, other backends, redis-cli, expiry and
 * FLUSHDB reach a subscribed backend; its own writes do not; and every way of losing the feed (a killed
 * connection, a dead server, a frozen one) is reported as `lost`, then `armed` once it hears again.
 */

const HEARTBEAT_MS = 100;
const TIMEOUT_MS = 200;

let shared: RedisServer;
const backends = backendFixture();
const clients: Redis[] = [];

beforeAll(async () => {
  shared = await startRedisServer();
});
afterAll(() => shared.stop());

afterEach(async () => {
  await backends.closeAll();
  for (const client of clients.splice(0)) client.disconnect();
});

function backend(server: RedisServer, options: Partial<RedisBackendOptions> = {}): CacheBackend {
  return backends.track(
    createRedisBackend({
      url: server.url,
      commandTimeout: TIMEOUT_MS,
      reconnect: { minDelayMs: 10, maxDelayMs: 100 },
      changeFeed: { heartbeatMs: HEARTBEAT_MS },
      ...options,
    }),
  );
}

/** A plain ioredis client: a writer from outside tiercache. */
function outsider(server: RedisServer): Redis {
  const client = new Redis(server.url);
  // It reconnects by itself after a restart; its errors meanwhile are expected.
  client.on('error', () => {});
  clients.push(client);
  return client;
}

function feedOf(cache: CacheBackend): ChangeFeed {
  if (!cache.changes) throw new Error('the Redis backend should have a change feed');
  return cache.changes;
}

/** Subscribes to the backend's feed and keeps every event (see `listenToChanges`), with two views of them. */
function listen(cache: CacheBackend) {
  const heard = listenToChanges(feedOf(cache));
  return {
    ...heard,
    types: () => heard.events().map((event) => event.type),
    /** The `lost` and `armed` events, by type. */
    states: () =>
      heard
        .events()
        .flatMap((event) => (event.type === 'lost' || event.type === 'armed' ? [event.type] : []))
        .join(),
  };
}

async function armed(...caches: CacheBackend[]): Promise<void> {
  await eventually('the feed to be armed', () => caches.every((cache) => feedOf(cache).armed));
}

/** The names of the feed connections the server has open. */
async function feedConnections(server: RedisServer): Promise<string[]> {
  const list = await server.cli('CLIENT', 'LIST');
  return list.match(/name=tiercache-changes-\S+/g) ?? [];
}

describe('keys changed by others', () => {
  it('reports writes by another client and by redis-cli under the prefix, and nothing outside it', async () => {
    const cache = backend(shared, { keyPrefix: 'app:' });
    const heard = listen(cache);
    await armed(cache);
    const other = outsider(shared);
    await other.set('elsewhere:k', 'v');
    await other.set('app:k', 'v');
    await eventually('the write of app:k', () => heard.keys().length > 0);
    expect(heard.changes()).toEqual([{ type: 'keys', keys: ['k'] }]);
    await shared.cli('SET', 'app:from-cli', 'v');
    await other.set('appendix', 'v');
    await other.set('app:a,b', 'v');
    await eventually('the later writes', () => heard.keys().length >= 3);
    // A key with a comma stays one key (ioredis's `message` event would join the keys with commas).
    expect(heard.keys()).toEqual(['k', 'from-cli', 'a,b']);
    expect(heard.types()[0]).toBe('armed');
  });

  it("does not report this backend's own writes (NOLOOP), but reports another backend's", async () => {
    const mine = backend(shared, { keyPrefix: 'loop:' });
    const theirs = backend(shared, { keyPrefix: 'loop:' });
    const heard = listen(mine);
    await armed(mine);
    expect((await mine.set('own', 'v')).isOk()).toBe(true);
    expect((await mine.setMany({ a: '1', b: '2' }, 10)).isOk()).toBe(true);
    expect((await mine.expire('a', 60)).isOk()).toBe(true);
    expect((await mine.delete('own')).isOk()).toBe(true);
    expect((await mine.flush()).isOk()).toBe(true);
    // Written after all of the above: had any of them been reported, it would have come first.
    expect((await theirs.set('foreign', 'v')).isOk()).toBe(true);
    await eventually("the other backend's write", () => heard.keys().length > 0);
    expect(heard.keys()).toEqual(['foreign']);
  });

  it('reports its own increments: Redis does not apply NOLOOP to writes made by a Lua script', async () => {
    const cache = backend(shared, { keyPrefix: 'script:' });
    const heard = listen(cache);
    await armed(cache);
    expect((await cache.increment('counter')).isOk()).toBe(true);
    // Redis credits a script's writes to its script client, not to the connection that sent EVAL.
    await eventually('the increment', () => heard.keys().length > 0);
    expect(heard.keys()).toEqual(['counter']);
  });

  it('reports a key that expires in Redis, and FLUSHDB as all', async () => {
    const cache = backend(shared, { keyPrefix: 'ttl:' });
    const heard = listen(cache);
    await armed(cache);
    await outsider(shared).set('ttl:short', 'v', 'PX', 50);
    // Once for the SET, once more when Redis expires it.
    await eventually('the expiry', () => heard.keys().filter((key) => key === 'short').length === 2);
    expect(await shared.cli('EXISTS', 'ttl:short')).toBe('0');
    await shared.cli('FLUSHDB');
    await eventually('the flush', () => heard.events().some((event) => event.type === 'all'));
    expect(heard.changes().at(-1)).toEqual({ type: 'all' });
  });

  it('with tracking off, hears announcements but not writes by other clients', async () => {
    const cache = backend(shared, { keyPrefix: 'quiet:', changeFeed: { tracking: false, heartbeatMs: 100 } });
    const other = backend(shared, { keyPrefix: 'quiet:' });
    const heard = listen(cache);
    await armed(cache);
    await outsider(shared).set('quiet:unheard', 'v');
    expect((await other.changes?.announce({ type: 'keys', keys: ['announced'] }))?.isOk()).toBe(true);
    await eventually('the announcement', () => heard.keys().length > 0);
    expect(heard.keys()).toEqual(['announced']);
    expect(await shared.cli('CLIENT', 'LIST')).not.toMatch(/flags=\S*t\S* /);
  });
});

describe('announce', () => {
  it("reaches the other backends of the same prefix intact, and not the announcer's own listeners", async () => {
    const a = backend(shared, { keyPrefix: 'news:' });
    const b = backend(shared, { keyPrefix: 'news:' });
    const stranger = backend(shared, { keyPrefix: 'other:' });
    const [heardA, heardB, heardStranger] = [listen(a), listen(b), listen(stranger)];
    await armed(a, b, stranger);
    const feedA = feedOf(a);
    expect((await feedA.announce({ type: 'keys', keys: ['x', 'y'] })).isOk()).toBe(true);
    expect((await feedA.announce({ type: 'pattern', pattern: 'user:[0-9]*' })).isOk()).toBe(true);
    expect((await feedA.announce({ type: 'all' })).isOk()).toBe(true);
    await eventually('the three announcements', () => heardB.changes().length === 3);
    expect(heardB.changes()).toEqual([
      { type: 'keys', keys: ['x', 'y'] },
      { type: 'pattern', pattern: 'user:[0-9]*' },
      { type: 'all' },
    ]);
    expect((await feedOf(b).announce({ type: 'keys', keys: ['back'] })).isOk()).toBe(true);
    await eventually("b's announcement", () => heardA.changes().length > 0);
    // A hears B's announcement, which was sent after its own three: it never heard those.
    expect(heardA.changes()).toEqual([{ type: 'keys', keys: ['back'] }]);
    expect(heardStranger.changes()).toEqual([]);
  });

  it('refuses malformed changes, and answers CLOSED once the backend is closed', async () => {
    const cache = backend(shared);
    const feed = feedOf(cache);
    const empty = await feed.announce({ type: 'keys', keys: [''] });
    expect(empty.isErr() && empty.error.code).toBe('INVALID_ARGUMENT');
    const unknown = await feed.announce({ type: 'nothing' } as never);
    expect(unknown.isErr() && unknown.error.message).toContain("change must be { type: 'keys', keys }");
    expect((await feed.announce({ type: 'keys', keys: [] })).isOk()).toBe(true);
    await cache.close();
    const closed = await feed.announce({ type: 'all' });
    expect(closed.isErr() && closed.error.code).toBe('CLOSED');
  });

  it('does not hang on a frozen server: it answers TIMEOUT within the command timeout', async () => {
    const server = await startRedisServer();
    try {
      const cache = backend(server);
      expect((await cache.ping()).isOk()).toBe(true);
      server.pause();
      const started = performance.now();
      const result = await feedOf(cache).announce({ type: 'all' });
      expect(result.isErr() && result.error.code).toBe('TIMEOUT');
      expect(performance.now() - started).toBeLessThan(TIMEOUT_MS + 150);
      server.resume();
    } finally {
      await server.stop();
    }
  });
});

describe('losing and re-arming', () => {
  it('starts nothing before the first subscribe, and tracks the data connection once armed', async () => {
    const server = await startRedisServer();
    try {
      const cache = backend(server, { keyPrefix: 'lazy:' });
      expect((await cache.set('k', 'v')).isOk()).toBe(true);
      expect(feedOf(cache).armed).toBe(false);
      expect(await feedConnections(server)).toEqual([]);
      expect(await server.cli('CLIENT', 'LIST')).not.toMatch(/flags=\S*t\S* /);
      listen(cache);
      await armed(cache);
      expect(await feedConnections(server)).toHaveLength(1);
      // The data connection tracks in broadcast mode (t = tracking, B = broadcast).
      expect(await server.cli('CLIENT', 'LIST')).toMatch(/flags=\S*t\S* /);
    } finally {
      await server.stop();
    }
  });

  it('a killed invalidation connection reports lost, then armed, and changes are heard again', async () => {
    const cache = backend(shared, { keyPrefix: 'kill:' });
    const heard = listen(cache);
    await armed(cache);
    await shared.cli('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await eventually('lost then armed', () => heard.states() === 'armed,lost,armed');
    expect(heard.events()[1]).toEqual({ type: 'lost', reason: 'the invalidation connection closed' });
    await outsider(shared).set('kill:after', 'v');
    await eventually('the write after re-arming', () => heard.keys().includes('after'));
  });

  it('a server killed and restarted reports lost, then armed, and changes are heard again', async () => {
    const server = await startRedisServer();
    try {
      const cache = backend(server, { keyPrefix: 'crash:' });
      const heard = listen(cache);
      await armed(cache);
      await server.kill();
      await eventually('lost', () => heard.types().includes('lost'));
      expect(feedOf(cache).armed).toBe(false);
      await server.restart();
      await eventually('armed again', () => heard.states() === 'armed,lost,armed', 10_000);
      await outsider(server).set('crash:after', 'v');
      await eventually('the write after the restart', () => heard.keys().includes('after'));
      // Another restart: the new connections are re-armed in turn, without a listener left behind.
      await server.restart();
      await eventually('armed a third time', () => heard.states() === 'armed,lost,armed,lost,armed', 10_000);
      await outsider(server).set('crash:again', 'v');
      await eventually('the write after the second restart', () => heard.keys().includes('again'));
    } finally {
      await server.stop();
    }
  });

  it("adds no listeners to the backend's client over many reconnects, and removes its own on close", async () => {
    const server = await startRedisServer();
    try {
      const client = new Redis(server.url, { commandTimeout: TIMEOUT_MS, retryStrategy: () => 10 });
      const listeners = () =>
        client.eventNames().map((name) => `${String(name)}:${client.listenerCount(name)}`);
      const cache = createRedisBackend({
        client,
        closeClient: false,
        changeFeed: { heartbeatMs: HEARTBEAT_MS },
      });
      backends.track(cache);
      expect((await cache.ping()).isOk()).toBe(true);
      const beforeFeed = listeners();
      const heard = listen(cache);
      await armed(cache);
      const armedOnce = listeners();
      expect(armedOnce).not.toEqual(beforeFeed);
      for (let round = 1; round <= 3; round++) {
        await server.kill();
        await server.restart();
        await eventually(
          `armed after restart ${round}`,
          () => heard.states().split('armed').length - 1 === round + 1,
        );
      }
      expect(listeners()).toEqual(armedOnce);
      await cache.close();
      client.disconnect();
      // The backend drops its own 'error' listener too; the feed's 'close' and 'ready' listeners are gone.
      expect(listeners().filter((entry) => !entry.startsWith('error:'))).toEqual(
        beforeFeed.filter((entry) => !entry.startsWith('error:')),
      );
    } finally {
      await server.stop();
    }
  });

  it('a frozen server (SIGSTOP) is noticed by the heartbeat within three beats, and re-armed on SIGCONT', async () => {
    const server = await startRedisServer();
    try {
      const cache = backend(server, { keyPrefix: 'frozen:' });
      const heard = listen(cache);
      await armed(cache);
      server.pause();
      const pausedAt = performance.now();
      await eventually('lost', () => heard.types().includes('lost'), 3_000);
      const noticedAfter = performance.now() - pausedAt;
      expect(noticedAfter).toBeLessThan(3 * HEARTBEAT_MS + 300);
      const loss = heard.events()[1];
      expect(loss?.type === 'lost' && loss.reason).toMatch(/heartbeat|PING/);
      server.resume();
      await eventually('armed again', () => heard.states() === 'armed,lost,armed');
      await outsider(server).set('frozen:after', 'v');
      await eventually('the write after SIGCONT', () => heard.keys().includes('after'));
    } finally {
      await server.stop();
    }
  });

  it('close() reports a last lost, stops all events and closes the feed connections', async () => {
    const server = await startRedisServer();
    try {
      const cache = backend(server, { keyPrefix: 'end:' });
      const heard = listen(cache);
      await armed(cache);
      expect(await feedConnections(server)).toHaveLength(1);
      await cache.close();
      expect(heard.types()).toEqual(['armed', 'lost']);
      expect(feedOf(cache).armed).toBe(false);
      await eventually(
        'the feed connection to close',
        async () => (await feedConnections(server)).length === 0,
      );
      const other = outsider(server);
      await other.set('end:after', 'v');
      await other.publish('tiercache:changes:end:', JSON.stringify({ origin: 'x', type: 'all' }));
      await new Promise((resolve) => setTimeout(resolve, 3 * HEARTBEAT_MS));
      expect(heard.types()).toEqual(['armed', 'lost']);
      expect(await server.cli('CLIENT', 'LIST')).not.toMatch(/name=tiercache/);
    } finally {
      await server.stop();
    }
  });

  it("switches tracking off on a caller's client that stays open", async () => {
    const client = new Redis(shared.url);
    clients.push(client);
    const cache = createRedisBackend({ client, closeClient: false, keyPrefix: 'kept:' });
    listen(cache);
    await armed(cache);
    const id = String(await client.client('ID'));
    expect(await shared.cli('CLIENT', 'LIST', 'ID', id)).toMatch(/flags=\S*t/);
    await cache.close();
    expect(await client.call('CLIENT', 'TRACKINGINFO')).toEqual([
      'flags',
      ['off'],
      'redirect',
      -1,
      'prefixes',
      [],
    ]);
  });

  it('a listener that throws stops neither the feed nor the other listeners', async () => {
    const cache = backend(shared, { keyPrefix: 'throw:' });
    feedOf(cache).subscribe(() => {
      throw new Error('listener failure');
    });
    const heard = listen(cache);
    await armed(cache);
    await outsider(shared).set('throw:k', 'v');
    await eventually('the write', () => heard.keys().includes('k'));
    heard.stop();
    const after = listen(cache);
    await outsider(shared).set('throw:later', 'v');
    await eventually('the later write', () => after.keys().includes('later'));
    expect(heard.keys()).toEqual(['k']);
  });
});

describe('options', () => {
  it('refuses invalid changeFeed options at construction, saying how to fix them', () => {
    const url = shared.url;
    expect(() => createRedisBackend({ url, changeFeed: { heartbeatMs: 0 } })).toThrow(
      /changeFeed.heartbeatMs must be a whole number of milliseconds, at least 10, got 0/,
    );
    expect(() => createRedisBackend({ url, changeFeed: { heartbeatMs: 1.5 } })).toThrow(/heartbeatMs/);
    expect(() => createRedisBackend({ url, changeFeed: { tracking: 'yes' as never } })).toThrow(
      /changeFeed.tracking must be true or false, got string/,
    );
  });
});
