import type { CacheEntry, EntryReply } from '@tiercache/core';
import type { Cluster } from 'ioredis';
import { bySlot } from './cluster-slots.js';
import { wrongTypeOf } from './redis-errors.js';
import type { Client } from './redis-options.js';

/*
 * The commands over several keys: MGET, the writes of setMany and the reads of getEntries. In a Cluster each
 * is split by hash slot (a multi-key command, a transaction and a Cluster pipeline must stay in one slot), all
 * parts sent at once.
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
 * The entries of distinct keys (without the prefix), in the order asked: `null` for a miss, a WRONG_TYPE
 * DriverError for a key holding another Redis type (as MGET answers such a key with nil, the other keys are
 * answered all the same). One pipeline per hash slot (a single one outside a Cluster), all sent at once: one
 * round trip.
 */
export async function readEntries(
  client: Client,
  keyPrefix: string,
  keys: readonly string[],
): Promise<EntryReply[]> {
  const groups = bySlot(
    client,
    keys.map((key, index) => ({ key, index })),
    (item) => keyPrefix + item.key,
  );
  const entries = new Array<EntryReply>(keys.length).fill(null);
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

/**
 * GET and PTTL of each key in a pipeline, not a transaction: Redis refuses a whole MULTI once it is out of
 * memory under `noeviction`, reads included, and reads should go on while only writes are refused.
 *
 * The race this tolerates: another client's command may run between a key's GET and its PTTL. Then the TTL
 * may be that of what replaced the value — longer or shorter than the value had, or none — or the key may be
 * gone (PTTL -2), which is answered as a value expiring now (`ttl: 0`). The value itself is always one the
 * key held. A tiered cache keeps no such copy past the change, because the change's invalidation makes the
 * fill stale (see FillGuard), and a copy never outlives `l1Ttl`.
 */
async function readGroup(client: Client, keyPrefix: string, keys: string[]): Promise<EntryReply[]> {
  const pipeline = client.pipeline();
  for (const key of keys) pipeline.get(keyPrefix + key).pttl(keyPrefix + key);
  const results = await pipeline.exec();
  const readAt = Date.now();
  if (results === null) throw new Error('pipeline was aborted');
  return keys.map((key, i) => {
    const [getError, value] = results[2 * i] ?? [null, null];
    const [pttlError, ttlMs] = results[2 * i + 1] ?? [null, -2];
    if (getError) {
      // A key of another type spoils only its own answer; anything else (a lost connection) fails the read.
      const wrongType = wrongTypeOf(getError);
      if (wrongType) return wrongType;
      throw getError;
    }
    if (pttlError) throw pttlError;
    return value === null ? null : toEntry(key, value as string, ttlMs as number, readAt);
  });
}

/** What `getEntry` and `getEntries` answer for a key found with `value` and a PTTL of `ttlMs` at `readAt`. */
function toEntry(key: string, value: string, pttl: number, readAt: number): CacheEntry {
  // PTTL answers -1 for a key without a TTL, and -2 for one gone since its GET: it expires now.
  const hasTtl = pttl !== -1;
  const ttlMs = Math.max(pttl, 0);
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
