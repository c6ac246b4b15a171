import type { CacheBackend, ChangeEvent } from '@tiercache/core';
import { backendFixture, listenToChanges } from '@tiercache/core/testing';
import {
  connectedClients,
  eventually,
  type RedisServer,
  startRedisServer,
  TRACKING_REFUSING_SERVERS,
} from '@tiercache/redis-harness';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisBackend } from '../src/index.js';
import { classifyTrackingFailure } from '../src/tracking-refusal.js';

/*
 * Servers that refuse CLIENT TRACKING — an ACL user without `client|tracking`, one without `CLIENT` at all,
 * `CLIENT` renamed away — and one that allows it: the feed arms on its channel alone (`hears: 'announced'`),
 * says why, hears what other backends announce, and does not reconnect in a loop.
 */

const HEARTBEAT_MS = 100;
const backends = backendFixture();
const clients: Redis[] = [];
afterEach(async () => {
  await backends.closeAll();
  for (const client of clients.splice(0)) client.disconnect();
});

function backend(url: string, keyPrefix: string): CacheBackend {
  return backends.track(
    createRedisBackend({
      url,
      keyPrefix,
      commandTimeout: 300,
      reconnect: { minDelayMs: 10, maxDelayMs: 200 },
      changeFeed: { heartbeatMs: HEARTBEAT_MS },
    }),
  );
}

describe.each(TRACKING_REFUSING_SERVERS)('a server that refuses tracking: $name', (setup) => {
  let server: RedisServer;
  let url: string;
  beforeAll(async () => {
    ({ server, url } = await setup.start());
  });
  afterAll(() => server.stop());

  it('arms on the channel alone, says why, hears announced changes, and keeps its connections flat', async () => {
    const listener = backend(url, 'refused:');
    const writer = backend(url, 'refused:');
    const feed = listener.changes;
    if (!feed) throw new Error('the Redis backend has a change feed');
    const heard = listenToChanges(feed);
    await eventually('the feed to be armed', () => feed.armed);
    expect(feed.hears).toBe('announced');
    const armed = heard.events().find((event) => event.type === 'armed') as Extract<
      ChangeEvent,
      { type: 'armed' }
    >;
    expect(armed.reason).toMatch(setup.answer);

    (await writer.set('k', 'v')).unwrap();
    (await writer.changes?.announce({ type: 'keys', keys: ['k'] }))?.unwrap();
    await eventually('the announced change', () =>
      heard.events().some((event) => event.type === 'keys' && event.keys.includes('k')),
    );

    // No reconnect storm: the same connections for two seconds (it used to reconnect ~19 times a second).
    const before = await connectedClients(server);
    const firstStats = await server.cli('INFO', 'stats');
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(await connectedClients(server)).toBe(before);
    const connections = (stats: string) => Number(/total_connections_received:(\d+)/.exec(stats)?.[1]);
    // Two more: the redis-cli runs that asked for INFO since.
    expect(connections(await server.cli('INFO', 'stats'))).toBe(connections(firstStats) + 2);
    expect(feed.armed).toBe(true);
    expect(heard.events().filter((event) => event.type === 'lost')).toEqual([]);
  });

  it('asks again every 30 heartbeats, and while still refused reports no loss and keeps its connections', async () => {
    const listener = backend(url, 'asked-again:');
    const feed = listener.changes;
    if (!feed) throw new Error('the Redis backend has a change feed');
    const heard = listenToChanges(feed);
    await eventually('the feed to be armed', () => feed.armed);
    const errorReplies = async () =>
      Number(/total_error_replies:(\d+)/.exec(await server.cli('INFO', 'stats'))?.[1]);
    const before = { clients: await connectedClients(server), errors: await errorReplies() };
    // Every 30 heartbeats a question, refused (an error reply) like the first.
    await eventually(
      'the feed to ask again',
      async () => (await errorReplies()) > before.errors,
      60 * HEARTBEAT_MS,
    );
    expect(await connectedClients(server)).toBe(before.clients);
    expect(feed.armed).toBe(true);
    expect(feed.hears).toBe('announced');
    expect(heard.events().filter((event) => event.type === 'lost')).toEqual([]);
  });
});

describe('a server that allows tracking', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(() => server.stop());

  it('a subscriber that asks for announced changes only never switches tracking on', async () => {
    const cache = backend(server.url, 'declined:');
    const feed = cache.changes;
    if (!feed) throw new Error('the Redis backend has a change feed');
    listenToChanges(feed);
    feed.subscribe(() => {}, { hears: 'announced' });
    await eventually('the feed to be armed', () => feed.armed);
    expect(feed.hears).toBe('announced');
    await new Promise((resolve) => setTimeout(resolve, 3 * HEARTBEAT_MS));
    // CLIENT LIST flags: `t` is a tracking client.
    const list = await server.cli('CLIENT', 'LIST');
    expect(list.split('\n').filter((line) => /flags=\S*t/.test(line))).toEqual([]);
    (await cache.set('k', 'v')).unwrap();
  });

  it('hears everything by default', async () => {
    const cache = backend(server.url, 'tracked:');
    const feed = cache.changes;
    if (!feed) throw new Error('the Redis backend has a change feed');
    listenToChanges(feed);
    await eventually('the feed to be armed', () => feed.armed);
    expect(feed.hears).toBe('all');
  });
});

describe('classifyTrackingFailure', () => {
  it.each([
    // Redis 7, ACL user without client|tracking or without CLIENT (as these servers answer, see above).
    ["NOPERM User app has no permissions to run the 'client|tracking' command", 'permanent'],
    ["NOPERM User app has no permissions to run the 'client|id' command", 'permanent'],
    // Redis 6.0 ACL wording.
    ["NOPERM this user has no permissions to run the 'client' command or its subcommand", 'permanent'],
    // CLIENT renamed away.
    ["ERR unknown command 'CLIENT', with args beginning with: 'ID' ", 'permanent'],
    // ElastiCache Redis OSS 7.1, Memorystore.
    ["ERR unknown subcommand 'tracking'. Try CLIENT HELP.", 'permanent'],
    ["ERR Unknown subcommand or wrong number of arguments for 'tracking'. Try CLIENT HELP", 'permanent'],
    // Redis Cloud / Redis Software before 7.4.
    ["ERR command 'client|tracking' is not allowed", 'permanent'],
    // Dragonfly.
    ['ERR syntax error', 'permanent'],
    ['ERR Client tracking is currently not supported for RESP2', 'permanent'],
    // Passing failures.
    ['Connection is closed.', 'transient'],
    ['no answer within 300 ms', 'transient'],
    ['LOADING Redis is loading the dataset in memory', 'transient'],
    ['BUSY Redis is busy running a script.', 'transient'],
    ['ERR The client ID you want redirect to does not exist', 'transient'],
    ["READONLY You can't write against a read only replica.", 'transient'],
  ] as const)('%s → %s', (message, kind) => {
    expect(classifyTrackingFailure(new Error(message))).toBe(kind);
  });

  it.each(TRACKING_REFUSING_SERVERS)(
    '$name: the real answer to CLIENT TRACKING ON … BCAST is permanent',
    async (setup) => {
      const { server, url } = await setup.start();
      const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
      client.on('error', () => {});
      clients.push(client);
      try {
        await client.connect();
        const answer = await client.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', '1', 'BCAST', 'NOLOOP').then(
          () => 'accepted',
          (error: Error) => error.message,
        );
        expect(answer).toMatch(setup.answer);
        expect(classifyTrackingFailure(new Error(answer))).toBe('permanent');
      } finally {
        client.disconnect();
        await server.stop();
      }
    },
  );
});
