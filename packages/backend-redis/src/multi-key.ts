import type { CacheEntry } from '@tiercache/core';
import type { Cluster } from 'ioredis';
import { bySlot } from './cluster-slots.js';
import type { Client } from './redis-options.js';

/*
 * The commands over several keys: MGET, the writes of setMany and the reads of getEntries. In a Cluster each
 * is split by hash slot (a multi-key command, and a transaction, must stay in one slot), all parts sent at once.
 */

/** MGET of full keys, split by hash slot in a Cluster, answering the values in the order asked. */
export async function mgetBySlot(client: Cluster, fullKeys: string[]): Promise<Array<string | null>> {
  const groups = bySlot(
    client,
    fullKeys.map((fullKey, index) => ({ fullKey, index })),
    (item) => item.fullKey,
  );
  const values = new Array<string | null>(fullKeys.length).fill(null);
  await Promise.all(
    groups.map(async (group) => {
      const replies = await client.mget(group.map((item) => item.fullKey));
      for (const [i, item] of group.entries()) values[item.index] = replies[i] ?? null;
    }),
  );
  return values;
}

/** Writes the pairs (keys without the prefix), all with one TTL rule, one atomic write per hash slot. */
export async function setPairs(
  client: Client,
  keyPrefix: string,
  pairs: ReadonlyArray<readonly [string, string]>,
  ttlMs: number | undefined,
): Promise<void> {
  const groups = bySlot(client, pairs, ([key]) => keyPrefix + key);
  await Promise.all(groups.map((group) => setGroup(client, keyPrefix, group, ttlMs)));
}

/**
 * Writes one slot's entries atomically: MSET when there is no TTL; otherwise SET … PX inside MULTI, so no
 * key is ever visible without its TTL.
 */
async function setGroup(
  client: Client,
  keyPrefix: string,
  group: ReadonlyArray<readonly [string, string]>,
  ttlMs: number | undefined,
): Promise<void> {
  if (ttlMs === undefined) {
    await client.mset(group.flatMap(([key, value]) => [keyPrefix + key, value]));
    return;
  }
  const transaction = client.multi();
  for (const [key, value] of group) transaction.set(keyPrefix + key, value, 'PX', ttlMs);
  transactionReplies(await transaction.exec());
}

/**
 * The entries of distinct keys (without the prefix), in the order asked, `null` for a miss. One transaction
 * per hash slot (a single one outside a Cluster), all sent at once: one round trip.
 */
export async function readEntries(
  client: Client,
  keyPrefix: string,
  keys: readonly string[],
): Promise<Array<CacheEntry | null>> {
  const groups = bySlot(
    client,
    keys.map((key, index) => ({ key, index })),
    (item) => keyPrefix + item.key,
  );
  const entries = new Array<CacheEntry | null>(keys.length).fill(null);
  await Promise.all(
    groups.map(async (group) => {
      const read = await readGroup(
        client,
        keyPrefix,
        group.map((item) => item.key),
      );
      for (const [i, item] of group.entries()) entries[item.index] = read[i] ?? null;
    }),
  );
  return entries;
}

/** GET and PTTL of each key in one MULTI, so each value and its TTL describe the same moment. */
async function readGroup(
  client: Client,
  keyPrefix: string,
  keys: string[],
): Promise<Array<CacheEntry | null>> {
  const transaction = client.multi();
  for (const key of keys) transaction.get(keyPrefix + key).pttl(keyPrefix + key);
  const replies = transactionReplies(await transaction.exec());
  const readAt = Date.now();
  return keys.map((key, i) => {
    const value = replies[2 * i] as string | null;
    return value === null ? null : toEntry(key, value, replies[2 * i + 1] as number, readAt);
  });
}

/** What `getEntry` and `getEntries` answer for a key found with `value` and a PTTL of `ttlMs` at `readAt`. */
function toEntry(key: string, value: string, ttlMs: number, readAt: number): CacheEntry {
  // PTTL answers -1 for a key without a TTL.
  const hasTtl = ttlMs >= 0;
  return {
    key,
    value,
    ttl: hasTtl ? ttlMs / 1000 : null,
    expiresAt: hasTtl ? readAt + ttlMs : null,
    createdAt: null,
    accessCount: null,
    lastAccessedAt: null,
    version: null,
  };
}

/** The replies of a MULTI or pipeline, throwing the first error among them. */
export function transactionReplies(results: Array<[Error | null, unknown]> | null): unknown[] {
  if (results === null) throw new Error('transaction was aborted');
  return results.map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}
