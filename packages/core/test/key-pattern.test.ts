import { describe, expect, it } from 'vitest';
import { compileKeyPattern, escapeKeyPattern, isPortableKeyPattern } from '../src/key-pattern.js';

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

  it.each([
    // From Redis's own KEYS tests: a prefix, and braces (hash tags), which are plain bytes to the matcher.
    ['foo*', 'foo_a', true],
    ['foo*', 'key_x', false],
    ['{a}*', '{a}x', true],
    ['{a}*', '{b}a', false],
    ['*{b}*', '{b}c', true],
    ['*', 'dlskeriewrioeuwqoirueioqwrueoqwrueqw', true],
    // The class syntax as stringmatchlen reads it.
    ['[]', 'a', false], // `]` right after `[` closes an empty class
    ['[]a]', 'a]', false], // ...so this is the empty class, then "a]"
    ['[^]', 'x', true], // a negated empty class matches any one byte
    ['ab[^', 'abx', true], // an unclosed negated empty class still takes a byte
    ['[\\]', ']', true], // the escape takes the `]`, leaving the class unclosed
    ['[\\-a]', '-', true], // an escaped byte never starts a range
    ['[\\-a]', 'b', false],
    ['[a\\-z]', 'b', false], // nor ends one
    ['[a-\\]', '\\', true], // but an unescaped backslash can end one: a..\ read forwards is \..a
    ['[a-]', 'a', true],
    ['[a-', '-', true], // too short for a range: two literal bytes, unclosed
    ['[z-a]', 'm', true],
    ['[^z-a]', 'm', false],
    ['\\', '\\', true],
    ['a\\b', 'ab', true], // an escaped ordinary byte is that byte
    ['?', '\u0000', true],
  ])('%j against %j is %s', (pattern, key, expected) => {
    expect(matches(pattern, key)).toBe(expected);
  });

  describe('ranges compare signed chars, as Redis on x86-64 does', () => {
    // `k[é-z]` is the bytes k [ C3 A9 - z ]: the literal C3, then the range A9-z. As signed chars A9 is -87, so the
    // range is -87..122: every ASCII byte up to `z`, and every byte from A9 up. (On ARM, whose char is unsigned,
    // it would be 0x7A..0xA9: `z`, `{` to DEL and 0x80..0xA9, but not `a`.)
    it.each(['ka', 'k-', 'k]', 'k^', 'k\u0000', 'kz'])('k[é-z] matches %j', (key) => {
      expect(matches('k[é-z]', key)).toBe(true);
    });
    it.each(['k{', 'k|', 'k~', 'k\u007f'])('k[é-z] does not match %j', (key) => {
      expect(matches('k[é-z]', key)).toBe(false);
    });
    it('reads a range with a byte ≥ 0x80 at either end the same way round', () => {
      expect(matches('k[z-é]', 'ka')).toBe(true);
      expect(matches('k[z-é]', 'k{')).toBe(false);
    });
    it('compares the first byte of a two-byte character as a signed char too', () => {
      // © is C2 A9 and ÿ is C3 BF: C2 (-62) and C3 (-61) lie inside -87..122.
      expect(matches('k[é-z]?', 'k©')).toBe(true);
      expect(matches('k[é-z]?', 'kÿ')).toBe(true);
      // a-é is the range a-C3 (97 to -61, read forwards as -61..97) then A9: C2 (-62) is just outside.
      expect(matches('k[a-é]?', 'k©')).toBe(false);
      expect(matches('k[a-é]?', 'kÿ')).toBe(true);
    });
    it('compares single bytes and escapes for equality, which signedness does not change', () => {
      expect(matches('caf[é]?', 'café')).toBe(true);
      expect(matches('caf?[\\é]', 'café')).toBe(true);
      expect(matches('caf[^é]?', 'café')).toBe(false);
    });
  });

  describe('gives up, as Redis does, past 1,000 nested stars', () => {
    const a = (n: number) => 'a'.repeat(n);
    it('matches with 1,000 stars each followed by more pattern', () => {
      expect(matches('*a'.repeat(1000), a(1000))).toBe(true);
      expect(matches('**a'.repeat(1000), a(1000))).toBe(true); // a run of stars is one
    });
    it('matches nothing when the 1,001st star is followed by more pattern', () => {
      expect(matches('*a'.repeat(1001), a(1001))).toBe(false);
      expect(matches('*a'.repeat(1001), a(5000))).toBe(false);
      expect(matches(`${'a*'.repeat(1001)}a`, a(1002))).toBe(false);
      expect(matches('a*'.repeat(1002), a(1002))).toBe(false);
    });
    it('still matches when the 1,001st star ends the pattern, since a final star needs no nesting', () => {
      expect(matches('a*'.repeat(1001), a(1001))).toBe(true);
      expect(matches(`${'*a'.repeat(1000)}*`, `${a(1000)}b`)).toBe(true);
    });
    it('counts escaped stars and stars inside classes as plain bytes', () => {
      expect(matches(`${'*a'.repeat(1000)}\\*a`, `${a(1000)}*a`)).toBe(true);
      expect(matches(`${'*a'.repeat(1000)}[*]a`, `${a(1000)}*a`)).toBe(true);
    });
    it("answers at once for Redis's regression patterns", () => {
      const started = performance.now();
      expect(matches('*?'.repeat(50_000), a(50_000))).toBe(false);
      expect(matches(`${'a*'.repeat(20)}b`, a(40))).toBe(false);
      expect(performance.now() - started).toBeLessThan(1000);
    });
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

describe('isPortableKeyPattern', () => {
  it.each([
    ['user:*', true],
    ['café:*', true], // bytes ≥ 0x80 outside a class are compared for equality everywhere
    ['caf\\[é]', true], // an escaped bracket opens no class
    ['[a-z]?', true],
    ['k[a-', true],
    ['*a'.repeat(1000), true],
    ['k[é-z]', false], // a signed and an unsigned char read this range differently
    ['k[é]', false],
    ['k[^\\é]', false],
    ['k[é', false],
    ['*a'.repeat(1001), false], // past Redis's nesting limit, which older servers do not have
    ['a*'.repeat(1001), false],
  ])('%j is %s', (pattern, expected) => {
    expect(isPortableKeyPattern(pattern)).toBe(expected);
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
