import { backendFixture, describeConformance, listenToChanges } from '@tiercache/core/testing';
import {
  eventually,
  type RedisCluster,
  type RedisServer,
  startRedisCluster,
  startRedisServer,
} from '@tiercache/redis-harness';
import { Cluster as Cluster6, Redis as Redis6 } from 'ioredis-6';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisBackend } from '../src/index.js';

/*
 * The backend is built on ioredis 5; a caller may hand it an ioredis 6 client of their own. Its classes are not
 * the backend's (`instanceof` fails), it speaks RESP3 by default, and its types are not assignable to ioredis 5's:
 * the whole protocol must hold over it all the same, standalone and in a Cluster. These clients are created as
 * a caller would, with ioredis 6's defaults (an offline queue, no command timeout unless given).
 */

let server: RedisServer;
let cluster: RedisCluster;
beforeAll(async () => {
  [server, cluster] = await Promise.all([startRedisServer(), startRedisCluster({ masters: 3 })]);
}, 90_000);
afterAll(async () => {
  await Promise.all([server?.stop(), cluster?.stop()]);
});

const backends = backendFixture();
afterEach(backends.closeAll);

describeConformance({
  name: "redis, on a caller's ioredis 6 Redis",
  create: ({ keyPrefix }) =>
    createRedisBackend({ client: new Redis6(server.url), closeClient: true, keyPrefix }),
  capabilities: { changeFeed: true },
});

describeConformance({
  name: "redis cluster, on a caller's ioredis 6 Cluster",
  create: ({ keyPrefix }) =>
    createRedisBackend({
      client: new Cluster6(cluster.startupNodes, { redisOptions: { commandTimeout: 1000 } }),
      closeClient: true,
      keyPrefix,
      changeFeed: { heartbeatMs: 200 },
    }),
  capabilities: { changeFeed: true },
});

describe("a caller's ioredis 6 client", () => {
  it('is told apart as a Cluster by its isCluster flag: one MGET per hash slot, answered in order', async () => {
    const client = new Cluster6(cluster.startupNodes);
    const cache = backends.track(createRedisBackend({ client, closeClient: true, keyPrefix: 'slots:' }));
    // Keys of many slots: an MGET naming them all would be refused with CROSSSLOT.
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
    expect((await cache.setMany(new Map(keys.map((key) => [key, `v-${key}`])))).isOk()).toBe(true);
    const values = (await cache.getMany([...keys, 'absent'])).unwrap();
    expect([...values.values()]).toEqual([...keys.map((key) => `v-${key}`), null]);
  });

  it("that maps replies the RESP3 way (replyMapping: 'resp3') still reads entries, counts and hears changes", async () => {
    const client = new Redis6(server.url, { replyMapping: 'resp3' });
    const cache = backends.track(
      createRedisBackend({
        client,
        closeClient: false,
        keyPrefix: 'resp3:',
        changeFeed: { heartbeatMs: 200 },
      }),
    );
    const heard = listenToChanges(cache.changes);
    await eventually('the feed is armed', () => cache.changes?.armed === true);
    expect(cache.changes?.hears).toBe('all');
    expect((await cache.set('k', 'v', 60)).isOk()).toBe(true);
    const entry = (await cache.getEntry('k')).unwrap();
    expect(entry?.value).toBe('v');
    expect(entry?.ttl).toBeGreaterThan(50);
    expect((await cache.increment('n', 2)).unwrap()).toBe(2);
    expect((await cache.stats()).unwrap().memoryUsageBytes).toBeGreaterThan(0);
    // A write by another client reaches the feed through tracking's redirect to the RESP2 subscriber.
    await server.cli('SET', 'resp3:other', 'x');
    await eventually('the change is heard', () => heard.keys().includes('other'));
    await cache.close();
    // closeClient: false: the caller's client is still theirs, and works.
    expect(await client.get('resp3:k')).toBe('v');
    client.disconnect();
  });
});
