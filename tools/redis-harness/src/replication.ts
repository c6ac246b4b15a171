import { pollUntil } from './poll.js';
import { parseInfo } from './redis-info.js';
import type { RedisServer } from './redis-server.js';

/**
 * Resolves once every replica of `master` has acknowledged everything the master has written so far, so a
 * failover right after cannot lose those writes. (`WAIT` would not do from `cli()`: it waits only for the
 * writes of the connection it is sent on, and redis-cli's connection wrote nothing.)
 */
export async function waitForReplication(master: RedisServer, timeoutMs = 10_000): Promise<void> {
  await pollUntil({ timeoutMs, description: `the replicas of ${master.port} to catch up` }, async () => {
    const info = parseInfo(await master.cli('INFO', 'replication'));
    const target = info.get('master_repl_offset');
    const replicas = [...info].filter(([field]) => /^slave\d+$/.test(field)).map(([, value]) => value);
    if (target === undefined || replicas.length === 0) return undefined;
    return replicas.every(
      (replica) => /(?:^|,)state=online(?:,|$)/.test(replica) && replica.includes(`offset=${target},`),
    )
      ? true
      : undefined;
  });
}
