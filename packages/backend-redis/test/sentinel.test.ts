import { listenToChanges } from '@tiercache/core/testing';
import {
  eventually,
  type RedisSentinelSetup,
  startRedisSentinel,
  waitForReplication,
} from '@tiercache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisBackend } from '../src/index.js';

/* A master, its replica and a Sentinel, all real processes: the backend follows the master through a failover. */
let setup: RedisSentinelSetup;
beforeAll(async () => {
  setup = await startRedisSentinel();
}, 60_000);
afterAll(() => setup.stop());

describe('redis through Sentinel', () => {
  it('keeps serving after a failover, with the data written before it', async () => {
    const cache = createRedisBackend({
      redis: { sentinels: setup.sentinels, name: setup.masterName },
      keyPrefix: 'sentinel:',
      commandTimeout: 500,
      reconnect: { minDelayMs: 20, maxDelayMs: 200 },
    });
    expect((await cache.set('before', 'failover')).isOk()).toBe(true);
    await waitForReplication(setup.master);
    const oldMasterPort = setup.master.port;
    await setup.failover();
    expect(setup.master.port).not.toBe(oldMasterPort);

    // Until the client hears of the failover, calls may fail, or even reach the old master (which still calls
    // itself master for a while: Sentinel's known window). Within seconds, writes land on the new master.
    const deadline = Date.now() + 20_000;
    let attempt = 0;
    let onNewMaster = false;
    while (Date.now() < deadline && !onNewMaster) {
      const value = `after-${++attempt}`;
      if ((await cache.set('after', value)).isOk()) {
        onNewMaster = (await setup.master.cli('GET', 'sentinel:after')) === value;
      }
      if (!onNewMaster) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(onNewMaster).toBe(true);
    expect((await cache.get('before')).unwrap()).toBe('failover');
    await cache.close();
  }, 60_000);
});

describe('the change feed through Sentinel', () => {
  let own: RedisSentinelSetup;
  beforeAll(async () => {
    own = await startRedisSentinel();
  }, 60_000);
  afterAll(() => own.stop());

  it('reports lost at the failover, re-arms on the new master and hears writes made there', async () => {
    const cache = createRedisBackend({
      redis: { sentinels: own.sentinels, name: own.masterName },
      keyPrefix: 'feed:',
      commandTimeout: 500,
      reconnect: { minDelayMs: 20, maxDelayMs: 200 },
      changeFeed: { heartbeatMs: 200 },
    });
    const heard = listenToChanges(cache.changes);
    const heardKeys = () => heard.keys();
    await eventually('armed', () => cache.changes?.armed === true, 20_000);
    await own.master.cli('SET', 'feed:before', 'v');
    await eventually('the write before the failover', () => heardKeys().includes('before'), 20_000);
    await own.failover();
    await eventually('lost', () => heard.events().some((event) => event.type === 'lost'), 20_000);
    // Write on the new master until the feed, re-armed there, hears it.
    let attempt = 0;
    await eventually(
      'a write on the new master',
      async () => {
        const key = `after-${++attempt}`;
        await own.master.cli('SET', `feed:${key}`, 'v');
        await new Promise((resolve) => setTimeout(resolve, 100));
        return heardKeys().includes(key);
      },
      20_000,
    );
    expect(cache.changes?.armed).toBe(true);
    await cache.close();
  }, 60_000);
});
