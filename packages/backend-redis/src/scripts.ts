import { createHash } from 'node:crypto';
import { errorMessage } from '@tiercache/core';
import type { Cluster, Redis } from 'ioredis';

/*
 * The server-side scripts of the driver. getOrSet's lock, fenced store and release are each one atomic script
 * over a value key and its companions, which share the value's hash slot (see companionKey in @tiercache/core).
 */

/** A server-side script, sent by its SHA once the server knows it. */
export interface Script {
  source: string;
  sha: string;
}

export function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * KEYS: lock, fence, value. ARGV: token, lock ms, fence ms. Answers {0, 0} when the value is there already (a
 * holder just stored it: nothing to load, nothing to wait for); takes the lock if free and answers {1, fencing
 * number}; answers {0, the holder's remaining ms} otherwise. The fencing number grows with every grant and
 * outlives the lock, so a holder whose lock expired is told apart from the one that took over.
 */
export const LOCK = script(`
if redis.call('EXISTS', KEYS[3]) == 1 then return {0, 0} end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local fence = redis.call('INCR', KEYS[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  return {1, fence}
end
return {0, redis.call('PTTL', KEYS[1])}
`);

/**
 * KEYS: value, grace, fence. ARGV: fencing number, value, ttl ms ('' for none), grace copy ('' for none), grace
 * copy's ttl ms ('' for none). Stores nothing and answers 0 when a newer lock was granted since.
 */
export const STORE_LOADED = script(`
if redis.call('GET', KEYS[3]) ~= ARGV[1] then return 0 end
if ARGV[3] == '' then redis.call('SET', KEYS[1], ARGV[2]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
if ARGV[4] ~= '' then
  if ARGV[5] == '' then redis.call('SET', KEYS[2], ARGV[4]) else redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[5]) end
end
return 1
`);

/** KEYS: lock. ARGV: token. Deletes the lock only if it is still the caller's (never a plain DEL). */
export const UNLOCK = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

/**
 * Runs `script`: EVALSHA first, EVAL when the server answers NOSCRIPT (first use, or after a restart or a
 * failover). In a Cluster, the first key routes the call.
 */
export async function runScript(
  client: Redis | Cluster,
  { source, sha }: Script,
  keys: readonly string[],
  args: ReadonlyArray<string | number>,
): Promise<unknown> {
  try {
    return await client.evalsha(sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!errorMessage(error).startsWith('NOSCRIPT')) throw error;
    return await client.eval(source, keys.length, ...keys, ...args);
  }
}
