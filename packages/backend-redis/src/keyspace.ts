import type { Redis } from 'ioredis';
import { bySlot, masters } from './cluster-slots.js';
import { transactionReplies } from './multi-key.js';
import type { Client } from './redis-options.js';

/*
 * Walks over the keys under a pattern on every server that holds keys: to delete them (flush, deletePattern)
 * and to count them (stats). Always SCAN, never KEYS, never FLUSHDB: other keys may share the database.
 */

const SCAN_COUNT = 1000;

/** Walks one server's keyspace with SCAN, handing each non-empty page to `onBatch`. */
export async function scanKeys(
  node: Redis,
  match: string,
  onBatch: (keys: string[]) => Promise<void>,
): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT);
    cursor = next;
    if (keys.length > 0) await onBatch(keys);
  } while (cursor !== '0');
}

/** SCANs every master for keys matching `match` (a glob over full keys), UNLINKs them; answers how many. */
export async function deleteMatching(client: Client, match: string): Promise<number> {
  let deleted = 0;
  await Promise.all(
    masters(client).map((node) =>
      scanKeys(node, match, async (batch) => {
        // In a Cluster one UNLINK may only name keys of one slot.
        for (const group of bySlot(client, batch, (key) => key)) {
          // Await first, then add: `deleted += await …` would read `deleted` before other masters add to it.
          const removed = await node.unlink(...group);
          deleted += removed;
        }
      }),
    ),
  );
  return deleted;
}

/** What `stats()` reports of the servers: keys under the prefix, their TTLs, and the servers' figures. */
export interface ServerFigures {
  totalKeys: number;
  keysWithTtl: number;
  ttlSumMs: number;
  usedMemory: number;
  evictedKeys: number;
  expiredKeys: number;
}

/** Keys matching `match` (with their TTLs) and the servers' own memory and eviction figures, all masters. */
export async function serverFigures(client: Client, match: string): Promise<ServerFigures> {
  const figures: ServerFigures = {
    totalKeys: 0,
    keysWithTtl: 0,
    ttlSumMs: 0,
    usedMemory: 0,
    evictedKeys: 0,
    expiredKeys: 0,
  };
  await Promise.all(
    masters(client).map(async (node) => {
      await scanKeys(node, match, async (batch) => {
        const pipeline = node.pipeline();
        for (const key of batch) pipeline.pttl(key);
        for (const ms of transactionReplies(await pipeline.exec()) as number[]) {
          if (ms === -2) continue; // gone since the scan saw it
          figures.totalKeys++;
          if (ms >= 0) {
            figures.keysWithTtl++;
            figures.ttlSumMs += ms;
          }
        }
      });
      const info = parseInfo(await node.info());
      figures.usedMemory += info.used_memory ?? 0;
      figures.evictedKeys += info.evicted_keys ?? 0;
      figures.expiredKeys += info.expired_keys ?? 0;
    }),
  );
  return figures;
}

/** The numeric fields of an INFO reply. */
function parseInfo(text: string): Record<string, number> {
  const figures: Record<string, number> = {};
  for (const line of text.split('\r\n')) {
    const [name, value] = line.split(':');
    if (name && value && /^\d+$/.test(value)) figures[name] = Number(value);
  }
  return figures;
}
