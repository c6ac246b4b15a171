import {
  applyOperation,
  type CacheOperation,
  cacheOperationArbitrary,
} from '@tiercache/core/testing/operations';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createManualClock, createMemoryBackend } from '../src/index.js';

type Op = CacheOperation;

/*
 * The memory backend against a reference model written from Redis's documentation, independently of the
 * implementation: a plain Map with expiry times. Random sequences of operations must give the same answers
 * (values, or error codes) on both.
 */

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

/**
 * Enough of glob for the generated patterns. Redis matches bytes: '?' never matches the two bytes of 'é', while
 * '[^a]*' does (the class takes the first byte, the star the second), as a character class followed by '.*' does.
 */
function globToRegex(pattern: string): string {
  let regex = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\') regex += `\\${pattern[++i]}`;
    else if (c === '*') regex += '.*';
    else if (c === '?') regex += '[\\x00-\\x7f]';
    else if (c === '[') {
      const close = pattern.indexOf(']', i);
      regex += pattern.slice(i, close + 1);
      i = close;
    } else regex += c.replace(/[.+^${}()|\]]/g, '\\$&');
  }
  return regex;
}

describe('memory backend against a reference model of Redis', () => {
  it('gives the same answers for random sequences of operations', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(cacheOperationArbitrary({ timeTravel: true }), { minLength: 1, maxLength: 60 }),
        async (ops) => {
          const clock = createManualClock();
          const cache = createMemoryBackend({ clock });
          const model = new ReferenceModel(() => clock.now());
          for (const [step, op] of ops.entries()) {
            const expected = model.apply(op);
            const actual = await applyOperation(cache, op, (ms) => clock.advance(ms));
            expect(actual, `step ${step}: ${JSON.stringify(op)}`).toEqual(expected);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
