/*
 * Counter arithmetic with Redis's rules, so that increment answers here exactly as INCRBY answers there:
 * a stored value counts only if it is a base-10 integer in the 64-bit range, written without sign '+',
 * leading zeros or spaces ("01", " 1", "1.0" and "" are not integers to Redis).
 */

const REDIS_INTEGER = /^(?:0|-?[1-9][0-9]{0,18})$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export type CounterFailure = 'not-an-integer' | 'out-of-range';

/** Adds a safe-integer `delta` to a stored counter; the result must be a safe integer too. */
export function addToCounter(stored: string, delta: number): number | CounterFailure {
  if (!REDIS_INTEGER.test(stored)) return 'not-an-integer';
  if (stored.length <= 15) {
    // Fifteen digits or fewer are always a safe integer, so plain numbers add exactly (or show they cannot).
    const sum = Number(stored) + delta;
    return Number.isSafeInteger(sum) ? sum : 'out-of-range';
  }
  const exact = BigInt(stored);
  if (exact < INT64_MIN || exact > INT64_MAX) return 'not-an-integer';
  const sum = exact + BigInt(delta);
  return sum >= BigInt(Number.MIN_SAFE_INTEGER) && sum <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(sum)
    : 'out-of-range';
}
