/** A Keyv TTL that has already run out: the write deletes the key instead of storing it. */
export const EXPIRED = Symbol('expired');

/**
 * Keyv's TTL (milliseconds) as tiercache's (seconds): `undefined` for no TTL, or {@link EXPIRED}.
 *
 * - Whole milliseconds convert exactly (`1500` → `1.5`); a fraction of a millisecond rounds up to the next
 *   whole one, so the store never drops a key before the `expires` Keyv wrote beside the value.
 * - Below 1 ms, zero and negative TTLs are expiries already reached (tiercache, like Redis's `PX`, stores
 *   nothing shorter than a millisecond). Keyv itself turns a TTL of `0` into "no TTL" before calling the
 *   adapter, so only a direct caller meets this with `0`.
 * - No TTL where Keyv's own envelope says "never expires": `undefined`, anything not a number, `NaN` and
 *   `Infinity` (Keyv writes their `expires` as `null`).
 */
export function fromKeyvTtl(ttl: unknown): number | undefined | typeof EXPIRED {
  if (typeof ttl !== 'number' || Number.isNaN(ttl) || ttl === Number.POSITIVE_INFINITY) return undefined;
  if (ttl < 1) return EXPIRED;
  return Math.ceil(ttl) / 1000;
}
