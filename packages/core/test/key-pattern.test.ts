import { describe, expect, it } from 'vitest';
import { compileKeyPattern, escapeKeyPattern } from '../src/key-pattern.js';

const matches = (pattern: string, key: string) => compileKeyPattern(pattern)(key);

describe('compileKeyPattern matches as Redis stringmatchlen does', () => {
  it.each([
    ['*', 'anything', true],
    ['user:*', 'user:', true],
    ['user:*', 'use', false],
    ['h?llo', 'hello', true],
    ['h?llo', 'hllo', false],
    ['h*llo', 'hllo', true],
    ['h*llo', 'heeeello', true],
    ['h[ae]llo', 'hallo', true],
    ['h[ae]llo', 'hillo', false],
    ['h[^e]llo', 'hello', false],
    ['h[^e]llo', 'hbllo', true],
    ['h[a-b]llo', 'hbllo', true],
    ['h[b-a]llo', 'hallo', true], // a reversed range is read forwards
    ['h[a-b]llo', 'hcllo', false],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['[\\]]', ']', true],
    ['[a-]', ']', true], // Redis reads "a-]" as the range a..] and leaves the class unclosed
    ['ab[', 'ab', false], // an unclosed empty class needs a byte it can never match
    ['ab[cd', 'abd', true], // an unclosed class runs to the end of the pattern
    ['a\\', 'a\\', true], // a trailing backslash is a literal backslash
    ['**a', 'xa', true],
    ['*a*b*c', 'xxaxxbxxc', true],
    ['*a*b*c', 'xxaxxcxxb', false],
  ])('%j against %j is %s', (pattern, key, expected) => {
    expect(matches(pattern, key)).toBe(expected);
  });

  it('matches UTF-8 bytes as Redis does, so one ? does not match a two-byte character', () => {
    expect(matches('caf?', 'café')).toBe(false);
    expect(matches('caf??', 'café')).toBe(true);
    expect(matches('🔑*', '🔑:x')).toBe(true);
  });

  it('never matches an empty key, not even with *', () => {
    expect(matches('*', '')).toBe(false);
  });

  it('stays fast on patterns that make a naive matcher exponential', () => {
    const key = 'a'.repeat(5_000);
    const started = performance.now();
    expect(matches(`${'*a'.repeat(30)}b`, key)).toBe(false);
    // A backtracking matcher would take longer than the universe; this one is linear in practice.
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('escapeKeyPattern', () => {
  it('makes every glob character literal', () => {
    const literal = 'we*ird?[key]\\';
    const pattern = escapeKeyPattern(literal);
    expect(pattern).toBe('we\\*ird\\?\\[key\\]\\\\');
    expect(matches(pattern, literal)).toBe(true);
    expect(matches(`${pattern}*`, `${literal}:suffix`)).toBe(true);
    expect(matches(pattern, 'weXirdY[key]\\')).toBe(false);
  });
});
