import { type CacheBackend, companionKey } from '@tiercache/core';
import { backendFixture, describeConformance, listenToChanges } from '@tiercache/core/testing';
import {
  eventually as eventuallyWithin,
  type RedisCluster,
  type RedisServer,
  startRedisCluster,
  waitForReplication,
} from '@tiercache/redis-harness';
import calculateSlot from 'cluster-key-slot';
import { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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

/** Backends a test made, closed after it whether it passed or not (closing twice is harmless). */
const backends = backendFixture();
afterEach(backends.closeAll);

function clusterBackend(keyPrefix: string): CacheBackend {
  return backends.track(
    createRedisBackend({
      cluster: { nodes: cluster.startupNodes },
      keyPrefix,
      commandTimeout: 1000,
      changeFeed: { heartbeatMs: 200 },
    }),
  );
}

/** Subscribes to the backend's feed and keeps every event. */
const listen = (cache: CacheBackend) => listenToChanges(cache.changes);

/** Cluster failovers take seconds: a longer default wait. */
const eventually = (what: string, check: () => boolean | Promise<boolean>, withinMs = 20_000) =>
  eventuallyWithin(what, check, withinMs);

/** The master that holds `fullKey`, asked of the nodes themselves (a non-owner answers MOVED). */
async function ownerOf(fullKey: string): Promise<RedisServer | undefined> {
  for (const node of await cluster.masters()) {
    const answer = await node.cli('EXISTS', fullKey).catch(() => 'moved');
    if (answer === '1') return node;
  }
  return undefined;
}

/**
 * Moves one hash slot and its keys from one master to another, as `redis-cli --cluster reshard` does: mark it
 * importing and migrating, MIGRATE its keys, then give it to the new master on every master.
 */
async function moveSlot(slot: number, from: RedisServer, to: RedisServer): Promise<void> {
  const [fromId, toId] = await Promise.all([from.cli('CLUSTER', 'MYID'), to.cli('CLUSTER', 'MYID')]);
  await to.cli('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', fromId);
  await from.cli('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', toId);
  for (;;) {
    const keys = (await from.cli('CLUSTER', 'GETKEYSINSLOT', String(slot), '100'))
      .split('\n')
      .filter(Boolean);
    if (keys.length === 0) break;
    await from.cli('MIGRATE', to.host, String(to.port), '', '0', '5000', 'KEYS', ...keys);
  }
  for (const node of await cluster.masters())
    await node.cli('CLUSTER', 'SETSLOT', String(slot), 'NODE', toId);
}

describeConformance({
  name: 'redis cluster',
  create: ({ keyPrefix }) => clusterBackend(keyPrefix),
  capabilities: { changeFeed: true },
});

describe('redis cluster specifics', () => {
  it('getOrSet keeps grace copies, locks and fences in each key’s own slot, whatever braces the key holds', async () => {
    const cache = clusterBackend('companions:');
    const keys = ['plain', '{user:1}:profile', 'a}b', '{}x', 'x{', '{a}{b}'];
    for (const key of keys) {
      for (const role of ['grace', 'lock', 'fence'] as const) {
        expect(calculateSlot(companionKey('companions:', key, role)), `${role} of ${key}`).toBe(
          calculateSlot(`companions:${key}`),
        );
      }
      const options = { ttl: 0.2, grace: 60, lock: true };
      expect((await cache.getOrSet(key, () => `value of ${key}`, options)).unwrap()).toBe(`value of ${key}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const key of keys) {
      const failing = () => Promise.reject(new Error('down'));
      expect((await cache.getOrSet(key, failing, { grace: 60, lock: true })).unwrap()).toBe(
        `value of ${key}`,
      );
    }
  });

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
  });

  it('sends the calls started in one tick to each master as one write', async () => {
    const cache = clusterBackend('batched:');
    expect((await cache.ping()).isOk()).toBe(true);
    const masters = await cluster.masters();
    const readsProcessed = async () => {
      const infos = await Promise.all(masters.map((node) => node.cli('INFO', 'stats')));
      return infos.reduce((sum, info) => sum + Number(/^total_reads_processed:(\d+)/m.exec(info)?.[1]), 0);
    };
    const keys = Array.from({ length: 300 }, (_, i) => `k${i}`);
    const before = await readsProcessed();
    const writes = await Promise.all(keys.map((key) => cache.set(key, key)));
    expect(writes.every((result) => result.isOk())).toBe(true);
    // One write per master, plus an INFO per master before and after, and slack for the client's own slot
    // refreshes; a write per command would be about 300.
    expect((await readsProcessed()) - before).toBeLessThanOrEqual(3 * masters.length + 6);
  });

  it('deletePattern and flush reach keys on every master', async () => {
    const cache = clusterBackend('everywhere:');
    const keys = Array.from({ length: 60 }, (_, i) => `item:${i}`);
    await cache.setMany(Object.fromEntries(keys.map((key) => [key, 'v'])));
    const masters = await cluster.masters();
    const holders = await Promise.all(masters.map((node) => node.cli('--scan', '--pattern', 'everywhere:*')));
    expect(holders.filter((output) => output.length > 0)).toHaveLength(3);
    expect((await cache.deletePattern('item:1*')).unwrap()).toBe(11);
    expect((await cache.countKeys()).unwrap()).toMatchObject({ keys: 49, complete: true });
    await cache.flush();
    expect((await cache.countKeys()).unwrap()).toMatchObject({ keys: 0, complete: true });
  });

  it('getEntries reads keys of many slots in the order asked, with their TTLs', async () => {
    const cache = clusterBackend('entries:');
    const keys = Array.from({ length: 40 }, (_, i) => `key-${i}`);
    expect((await cache.setMany(Object.fromEntries(keys.map((key) => [key, `v-${key}`])), 60)).isOk()).toBe(
      true,
    );
    const asked = ['missing', ...[...keys].reverse(), 'key-3'];
    const found = (await cache.getEntries?.(asked))?.unwrap();
    expect([...(found?.keys() ?? [])]).toEqual(asked.slice(0, -1));
    expect(found?.get('missing')).toBeNull();
    for (const key of keys) {
      const entry = found?.get(key);
      expect(entry?.value).toBe(`v-${key}`);
      expect(entry?.ttl).toBeGreaterThan(59);
      expect(entry?.ttl).toBeLessThanOrEqual(60);
    }
  });

  it('the change feed hears writes by others on every master, not its own, and announcements', async () => {
    const cache = clusterBackend('feed:');
    const other = clusterBackend('feed:');
    const outside = new Cluster(cluster.startupNodes);
    try {
      const heard = listen(cache);
      await eventually('armed', () => cache.changes?.armed === true);
      expect((await cache.setMany({ 'mine-1': 'v', 'mine-2': 'v', 'mine-3': 'v' })).isOk()).toBe(true);
      const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
      for (const key of keys) await outside.set(`feed:${key}`, 'v');
      const masters = await cluster.masters();
      const holders = await Promise.all(masters.map((node) => node.cli('--scan', '--pattern', 'feed:k*')));
      expect(holders.filter((output) => output.length > 0)).toHaveLength(3);
      await eventually('every write', () => heard.keys().length >= keys.length);
      expect(heard.keys().sort()).toEqual([...keys].sort());
      expect((await other.changes?.announce({ type: 'pattern', pattern: 'k*' }))?.isOk()).toBe(true);
      await eventually('the announcement', () => heard.changes().some((event) => event.type === 'pattern'));
      expect(heard.changes().at(-1)).toEqual({ type: 'pattern', pattern: 'k*' });
    } finally {
      outside.disconnect();
    }
  });

  it('follows a slot moved to another master (MOVED), and its feed hears the keys there', async () => {
    const cache = clusterBackend('moved:');
    const heard = listen(cache);
    await eventually('armed', () => cache.changes?.armed === true);
    // One hash tag puts every key in one slot; `elsewhere` stays where it is.
    const keys = ['{t}a', '{t}b', '{t}c'];
    const slot = calculateSlot('moved:{t}a');
    expect(
      (await cache.setMany({ ...Object.fromEntries(keys.map((k) => [k, `v-${k}`])), elsewhere: 'e' })).isOk(),
    ).toBe(true);
    const from = await ownerOf('moved:{t}a');
    const to = (await cluster.masters()).find((node) => node !== from);
    if (!from || !to) throw new Error('need the owner of the slot and another master');
    await moveSlot(slot, from, to);
    expect(await ownerOf('moved:{t}a')).toBe(to);
    // The client still maps the slot to its old master: each call must follow the MOVED answer.
    expect((await cache.get('{t}a')).unwrap()).toBe('v-{t}a');
    expect((await cache.set('{t}b', 'new')).isOk()).toBe(true);
    const found = (await cache.getMany(['elsewhere', '{t}c', '{t}b'])).unwrap();
    expect([...found.entries()]).toEqual([
      ['elsewhere', 'e'],
      ['{t}c', 'v-{t}c'],
      ['{t}b', 'new'],
    ]);
    const outside = new Cluster(cluster.startupNodes);
    try {
      await outside.set('moved:{t}a', 'from outside');
      await eventually('the write on the new master', () => heard.keys().includes('{t}a'));
    } finally {
      outside.disconnect();
    }
    expect((await cache.get('{t}a')).unwrap()).toBe('from outside');
  });

  it('a master added to the Cluster is tracked once the client learns of it, and its keys are heard', async () => {
    const cache = clusterBackend('grown:');
    const heard = listen(cache);
    await eventually('armed', () => cache.changes?.armed === true);
    expect((await cache.set('{g}k', 'before')).isOk()).toBe(true);
    const added = await cluster.addMaster();
    const from = await ownerOf('grown:{g}k');
    if (!from) throw new Error('no master holds the key');
    await moveSlot(calculateSlot('grown:{g}k'), from, added);
    // The next call on the key meets MOVED to a master the client did not know: the feed is lost, then
    // re-armed with a link to the new master too.
    expect((await cache.get('{g}k')).unwrap()).toBe('before');
    await eventually('lost', () => heard.events().some((event) => event.type === 'lost'));
    await eventually('armed again', () => cache.changes?.armed === true);
    const outside = new Cluster(cluster.startupNodes);
    try {
      const seen = heard.keys().length;
      await outside.set('grown:{g}k', 'after');
      await eventually('the write on the added master', () => heard.keys().slice(seen).includes('{g}k'));
    } finally {
      outside.disconnect();
    }
    expect((await cache.get('{g}k')).unwrap()).toBe('after');
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
    await waitForReplication(owner);
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
  }, 60_000);
});

describe('redis cluster change feed through a failover', () => {
  it('reports lost when a master fails, and re-arms on the replica that takes over', async () => {
    const cache = clusterBackend('feedover:');
    const outside = new Cluster(cluster.startupNodes);
    outside.on('error', () => {});
    try {
      const heard = listen(cache);
      await eventually('armed', () => cache.changes?.armed === true);
      // A key on a master that still has a replica: when the whole file runs, the test above failed one over.
      let victim: RedisServer | undefined;
      let key = '';
      for (let i = 0; victim === undefined && i < 50; i++) {
        key = `k${i}`;
        await outside.set(`feedover:${key}`, 'v');
        const owner = await ownerOf(`feedover:${key}`);
        const replication = owner ? await owner.cli('INFO', 'replication') : '';
        if (/connected_slaves:[1-9]/.test(replication)) victim = owner;
      }
      if (!victim) throw new Error('no master with a replica holds a key');
      await eventually('the first write', () => heard.keys().includes(key));
      await waitForReplication(victim);
      await victim.kill();
      await eventually('lost', () => heard.events().some((event) => event.type === 'lost'));
      await eventually('armed again', () => cache.changes?.armed === true, 30_000);
      // Write the victim's key again until it is heard: the client may take a moment to route it to the new master.
      const before = heard.keys().length;
      await eventually('a write heard after the failover', async () => {
        await outside.set(`feedover:${key}`, 'again').catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 100));
        return heard.keys().length > before;
      });
      expect(heard.keys().slice(before)).toContain(key);
      expect(
        heard
          .events()
          .filter((event) => event.type === 'lost' || event.type === 'armed')
          .at(-1),
      ).toEqual({
        type: 'armed',
      });
    } finally {
      outside.disconnect();
    }
  }, 60_000);
});
