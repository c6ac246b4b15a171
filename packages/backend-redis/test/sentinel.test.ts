import { type RedisSentinelSetup, startRedisSentinel } from '@tiercache/redis-harness';
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
    await setup.master.cli('WAIT', '1', '2000');
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
