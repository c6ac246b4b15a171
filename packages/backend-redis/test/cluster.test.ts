import type { CacheBackend } from '@tiercache/core';
import { describeConformance } from '@tiercache/core/testing';
import { type RedisCluster, startRedisCluster } from '@tiercache/redis-harness';
import calculateSlot from 'cluster-key-slot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisBackend } from '../src/index.js';

/*
 * A real Redis Cluster: three masters, each with a replica, made by `redis-cli --cluster create` from local
 * redis-server processes. The whole protocol must hold across slots and masters, and survive a failover.
 */
let cluster: RedisCluster;
beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
}, 90_000);
afterAll(() => cluster.stop());

function clusterBackend(keyPrefix: string): CacheBackend {
  return createRedisBackend({ cluster: { nodes: cluster.startupNodes }, keyPrefix, commandTimeout: 1000 });
}

describeConformance({ name: 'redis cluster', create: ({ keyPrefix }) => clusterBackend(keyPrefix) });

describe('redis cluster specifics', () => {
  it('getMany and setMany span many slots and masters, answering in the order asked', async () => {
    const cache = clusterBackend('spread:');
    const keys = Array.from({ length: 100 }, (_, i) => `key-${i}`);
    const slots = new Set(keys.map((key) => calculateSlot(`spread:${key}`)));
    expect(slots.size).toBeGreaterThan(50);
    expect(
      (await cache.setMany(Object.fromEntries(keys.map((key) => [key, `value-${key}`])), 60)).isOk(),
    ).toBe(true);
    const found = (await cache.getMany([...keys].reverse())).unwrap();
    expect([...found.keys()]).toEqual([...keys].reverse());
    expect([...found.values()]).toEqual([...keys].reverse().map((key) => `value-${key}`));
    const ttl = (await cache.ttl('key-7')).unwrap();
    expect(ttl).toBeGreaterThan(59);
    await cache.close();
  });

  it('deletePattern and flush reach keys on every master', async () => {
    const cache = clusterBackend('everywhere:');
    const keys = Array.from({ length: 60 }, (_, i) => `item:${i}`);
    await cache.setMany(Object.fromEntries(keys.map((key) => [key, 'v'])));
    const masters = await cluster.masters();
    const holders = await Promise.all(masters.map((node) => node.cli('--scan', '--pattern', 'everywhere:*')));
    expect(holders.filter((output) => output.length > 0)).toHaveLength(3);
    expect((await cache.deletePattern('item:1*')).unwrap()).toBe(11);
    expect((await cache.stats()).unwrap().totalKeys).toBe(49);
    await cache.flush();
    expect((await cache.stats()).unwrap().totalKeys).toBe(0);
    await cache.close();
  });

  it('keeps serving after a master fails and its replica takes over', async () => {
    const cache = clusterBackend('failover:');
    expect((await cache.set('survivor', 'still here')).isOk()).toBe(true);
    const slot = calculateSlot('failover:survivor');
    const masters = await cluster.masters();
    const owners = await Promise.all(
      masters.map(async (node) => ({
        node,
        owns: (await node.cli('CLUSTER', 'COUNTKEYSINSLOT', String(slot))) !== '0',
      })),
    );
    const owner = owners.find((candidate) => candidate.owns)?.node;
    if (!owner) throw new Error('no master holds the key');
    // Wait until the replica has the write, then kill the master it lives on.
    await owner.cli('WAIT', '1', '2000');
    await owner.kill();
    const deadline = Date.now() + 30_000;
    let value: string | null = null;
    while (Date.now() < deadline) {
      const result = await cache.get('survivor');
      if (result.isOk()) {
        value = result.value;
        break;
      }
      expect(['CONNECTION', 'TIMEOUT', 'BACKEND']).toContain(result.error.code);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(value).toBe('still here');
    expect((await cache.set('after', 'failover')).isOk()).toBe(true);
    await cache.close();
  }, 60_000);
});
