import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createManualClock, createMemoryBackend } from '../src/index.js';

/*
 * The memory backend against a reference model written from Redis's documentation, independently of the
 * implementation: a plain Map with expiry times. Random sequences of operations must give the same answers
 * (values, or error codes) on both.
 */

type Op =
  | { op: 'set'; key: string; value: string; ttl: number | undefined }
  | { op: 'get' | 'delete' | 'exists' | 'ttl'; key: string }
  | { op: 'increment'; key: string; amount: number }
  | { op: 'expire'; key: string; seconds: number }
  | { op: 'getMany'; keys: string[] }
  | { op: 'setMany'; entries: Array<[string, string]>; ttl: number | undefined }
  | { op: 'deletePattern'; pattern: string }
  | { op: 'flush' }
  | { op: 'advance'; ms: number };

const keyArb = fc.constantFrom('a', 'b', 'ab', 'a*', 'x:1', 'x:22', 'é');
const valueArb = fc.constantFrom('', 'v', '0', '7', '-3', '01', 'abc', '9007199254740990', '1.5');
const ttlArb = fc.constantFrom(undefined, 0.001, 0.5, 1, 2.5);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), key: keyArb, value: valueArb, ttl: ttlArb }),
  fc.record({
    op: fc.constantFrom('get' as const, 'delete' as const, 'exists' as const, 'ttl' as const),
    key: keyArb,
  }),
  fc.record({ op: fc.constant('increment' as const), key: keyArb, amount: fc.constantFrom(1, -1, 5, 100) }),
  fc.record({ op: fc.constant('expire' as const), key: keyArb, seconds: fc.constantFrom(0.001, 1, 3) }),
  fc.record({ op: fc.constant('getMany' as const), keys: fc.array(keyArb, { maxLength: 4 }) }),
  fc.record({
    op: fc.constant('setMany' as const),
    entries: fc.array(fc.tuple(keyArb, valueArb), { maxLength: 3 }),
    ttl: ttlArb,
  }),
  fc.record({
    op: fc.constant('deletePattern' as const),
    pattern: fc.constantFrom('*', 'a*', '?', '[ab]', 'x:*', 'a\\*'),
  }),
  fc.constant({ op: 'flush' as const }),
  fc.record({ op: fc.constant('advance' as const), ms: fc.constantFrom(1, 499, 500, 1000, 2500) }),
);

/** Redis's documented behaviour, kept as simple as possible. */
class ReferenceModel {
  readonly #data = new Map<string, { value: string; expiresAt: number | null }>();
  constructor(readonly now: () => number) {}

  #live(key: string) {
    const entry = this.#data.get(key);
    if (entry && entry.expiresAt !== null && this.now() > entry.expiresAt) {
      this.#data.delete(key);
      return undefined;
    }
    return entry;
  }

  apply(op: Op): unknown {
    switch (op.op) {
      case 'set':
        this.#data.set(op.key, {
          value: op.value,
          expiresAt: op.ttl === undefined ? null : this.now() + op.ttl * 1000,
        });
        return undefined;
      case 'get':
        return this.#live(op.key)?.value ?? null;
      case 'delete':
        return this.#live(op.key) !== undefined && this.#data.delete(op.key);
      case 'exists':
        return this.#live(op.key) !== undefined;
      case 'ttl': {
        const entry = this.#live(op.key);
        return entry?.expiresAt == null ? null : (entry.expiresAt - this.now()) / 1000;
      }
      case 'increment': {
        const entry = this.#live(op.key);
        const text = entry?.value ?? '0';
        // Redis: an optional minus, then digits with no leading zero (or a lone 0), within 64 bits.
        if (!/^(0|-?[1-9]\d*)$/.test(text) || BigInt(text) > 2n ** 63n - 1n || BigInt(text) < -(2n ** 63n)) {
          return { error: 'WRONG_TYPE' };
        }
        const next = BigInt(text) + BigInt(op.amount);
        if (next > BigInt(Number.MAX_SAFE_INTEGER) || next < BigInt(Number.MIN_SAFE_INTEGER)) {
          return { error: 'OUT_OF_RANGE' };
        }
        this.#data.set(op.key, { value: String(next), expiresAt: entry?.expiresAt ?? null });
        return Number(next);
      }
      case 'expire': {
        const entry = this.#live(op.key);
        if (!entry) return false;
        entry.expiresAt = this.now() + op.seconds * 1000;
        return true;
      }
      case 'getMany':
        return [...new Set(op.keys)].map((key) => [key, this.#live(key)?.value ?? null]);
      case 'setMany':
        for (const [key, value] of op.entries) this.apply({ op: 'set', key, value, ttl: op.ttl });
        return undefined;
      case 'deletePattern': {
        const regex = new RegExp(`^${globToRegex(op.pattern)}$`, 'u');
        let deleted = 0;
        for (const key of [...this.#data.keys()]) {
          if (this.#live(key) && regex.test(key)) deleted += this.#data.delete(key) ? 1 : 0;
        }
        return deleted;
      }
      case 'flush':
        this.#data.clear();
        return undefined;
      case 'advance':
        return undefined;
    }
  }
}

/** Enough of glob for the patterns generated above; '?' is one byte, so it never matches 'é'. */
function globToRegex(pattern: string): string {
  return pattern
    .replace(/\\\*/g, '\u0000')
    .replace(/[.+^${}()|]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '[\\x00-\\x7f]')
    .replace(/\u0000/g, '\\*');
}

async function applyToBackend(
  cache: ReturnType<typeof createMemoryBackend>,
  op: Op,
  advance: (ms: number) => void,
): Promise<unknown> {
  const settle = async (pending: Promise<{ isOk(): boolean; unwrap(): unknown; error?: unknown }>) => {
    const result = await pending;
    return result.isOk() ? result.unwrap() : { error: (result.error as { code: string }).code };
  };
  switch (op.op) {
    case 'set':
      return settle(cache.set(op.key, op.value, op.ttl));
    case 'get':
      return settle(cache.get(op.key));
    case 'delete':
      return settle(cache.delete(op.key));
    case 'exists':
      return settle(cache.exists(op.key));
    case 'ttl':
      return settle(cache.ttl(op.key));
    case 'increment':
      return settle(cache.increment(op.key, op.amount));
    case 'expire':
      return settle(cache.expire(op.key, op.seconds));
    case 'getMany': {
      const result = await settle(cache.getMany(op.keys));
      return result instanceof Map ? [...result] : result;
    }
    case 'setMany':
      return settle(cache.setMany(new Map(op.entries), op.ttl));
    case 'deletePattern':
      return settle(cache.deletePattern(op.pattern));
    case 'flush':
      return settle(cache.flush());
    case 'advance':
      advance(op.ms);
      return undefined;
  }
}

describe('memory backend against a reference model of Redis', () => {
  it('gives the same answers for random sequences of operations', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 60 }), async (ops) => {
        const clock = createManualClock();
        const cache = createMemoryBackend({ clock });
        const model = new ReferenceModel(() => clock.now());
        for (const [step, op] of ops.entries()) {
          const expected = model.apply(op);
          const actual = await applyToBackend(cache, op, (ms) => clock.advance(ms));
          expect(actual, `step ${step}: ${JSON.stringify(op)}`).toEqual(expected);
        }
      }),
      { numRuns: 300 },
    );
  });
});
