import type { Cluster, Redis } from 'ioredis';
import { runScript, script } from './scripts.js';

/*
 * INCRBY that refuses to leave the safe-integer range, atomically: a result a JavaScript number cannot hold
 * exactly is undone inside the same script, so no other client ever sees it. Redis's own errors (a value that
 * is not an integer, a 64-bit overflow) come through unchanged. The TTL is kept, as INCRBY keeps it.
 *
 * The result comes back as decimal text, not as an integer reply: ioredis's reply parser reads the integer
 * 9007199254740991 as 9007199254740992, while Number() reads the text exactly.
 */
export const BOUNDED_INCREMENT = script(`
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if n > 9007199254740991 or n < -9007199254740991 then
  redis.call('DECRBY', KEYS[1], ARGV[1])
  return redis.error_reply('OUT_OF_RANGE result would leave the safe integer range')
end
return string.format('%d', n)
`);

/** Adds `delta` to the integer at `fullKey` with {@link BOUNDED_INCREMENT} and answers the new value. */
export async function boundedIncrement(
  client: Redis | Cluster,
  fullKey: string,
  delta: number,
): Promise<number> {
  return Number(await runScript(client, BOUNDED_INCREMENT, [fullKey], [String(delta)]));
}
