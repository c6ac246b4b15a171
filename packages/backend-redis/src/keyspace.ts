import type { KeyTally } from '@tiercache/core';
import type { Redis } from 'ioredis';
import { bySlot, masters } from './cluster-slots.js';
import { transactionReplies } from './multi-key.js';
import type { Client } from './redis-options.js';

/*
 * Walks over the keys under a pattern on every server that holds keys: to delete them (flush, deletePattern)
 * and to count them (countKeys). Always SCAN, never KEYS, never FLUSHDB: other keys may share the database.
 * `stats` walks nothing: it reads each master's INFO.
 */

const SCAN_COUNT = 1000;

/**
 * Walks one server's keyspace with SCAN, handing each non-empty page to `onBatch`, to the end or until
 * `onBatch` answers `false`.
 */
export async function scanKeys(
  node: Redis,
  match: string,
  onBatch: (keys: string[]) => Promise<unknown>,
): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT);
    cursor = next;
    if (keys.length > 0 && (await onBatch(keys)) === false) return;
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

/**
 * Counts keys matching `match` (a glob over full keys) on every master, with their TTLs: SCAN pages of about
 * 1,000 keys, and one pipelined PTTL per key of a page. Stops once `limit` keys are counted: the rest of a page
 * is dropped, and the first key met beyond the limit makes the tally incomplete. Masters are walked at once and
 * share the limit. A key gone between SCAN and PTTL is not counted (and its share of the limit is spent).
 */
export async function countMatching(client: Client, match: string, limit: number): Promise<KeyTally> {
  const tally: KeyTally = { keys: 0, keysWithTtl: 0, ttlSumMs: 0, complete: true };
  let left = limit;
  await Promise.all(
    masters(client).map((node) =>
      scanKeys(node, match, async (page) => {
        if (left === 0) {
          tally.complete = false;
          return false;
        }
        // Taken before the await, so that masters walking at once never count more than `limit` between them.
        const batch = page.length > left ? page.slice(0, left) : page;
        if (batch.length < page.length) tally.complete = false;
        left -= batch.length;
        const pipeline = node.pipeline();
        for (const key of batch) pipeline.pttl(key);
        for (const ms of transactionReplies(await pipeline.exec()) as number[]) {
          if (ms === -2) continue; // gone since the scan saw it
          tally.keys++;
          if (ms >= 0) {
            tally.keysWithTtl++;
            tally.ttlSumMs += ms;
          }
        }
        return tally.complete;
      }),
    ),
  );
  return tally;
}

/** What `stats()` reports of the servers: their own memory, eviction and expiry figures. */
export interface ServerFigures {
  usedMemory: number;
  evictedKeys: number;
  expiredKeys: number;
}

/** The servers' own memory, eviction and expiry figures, summed over the masters: one INFO each, no walk. */
export async function serverFigures(client: Client): Promise<ServerFigures> {
  const figures: ServerFigures = { usedMemory: 0, evictedKeys: 0, expiredKeys: 0 };
  await Promise.all(
    masters(client).map(async (node) => {
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
