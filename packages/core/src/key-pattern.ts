/*
 * Redis glob patterns, matched exactly as Redis 7's stringmatchlen (src/util.c) matches them, so that
 * deletePattern deletes the same keys on every backend. Like Redis, matching is over UTF-8 bytes: `?` is one byte,
 * not one character.
 *
 * Two quirks of Redis's matcher are reproduced on purpose:
 *
 * - A range `[a-b]` compares C `char`s, and whether `char` is signed depends on the platform Redis was built
 *   for. This module follows x86-64, where Redis mostly runs and `char` is signed: bytes 0x80..0xFF count as
 *   -128..-1, below every ASCII byte. So in `k[é-z]` (é is the bytes C3 A9, so the range is A9-z) the range
 *   covers 0x00..0x7A and 0xA9..0xFF: it matches `ka`, `k-`, `k]`, `k\0` and `kz`, but not `k{`. On ARM (aarch64)
 *   `char` is unsigned and the same range covers 0x7A..0xA9: it matches `kz` and `k{`, but not `ka`. Only a range
 *   with one end below 0x80 and the other at or above it differs; single bytes and escapes are compared for
 *   equality, which signedness does not change. {@link isPortableKeyPattern} tells which patterns are safe.
 * - Redis matches a `*` followed by more pattern by calling itself, one level deeper per star, and gives up past
 *   1,000 levels, answering "no match". So a pattern whose 1,001st star (a run of stars counts as one) is
 *   followed by anything matches no key at all; a final star matches at once without going deeper, so a
 *   1,001st star that ends the pattern changes nothing.
 */

type Token =
  | { kind: 'star' }
  | { kind: 'any' }
  | { kind: 'byte'; byte: number }
  /** `ranges` holds inclusive pairs of bounds, as signed chars (see {@link asChar}). */
  | { kind: 'class'; negated: boolean; ranges: number[]; highByte: boolean };

const STAR = 0x2a;
const QUESTION_MARK = 0x3f;
const OPEN_BRACKET = 0x5b;
const BACKSLASH = 0x5c;
const CLOSE_BRACKET = 0x5d;
const DASH = 0x2d;
const CARET = 0x5e;
/** How many stars deep Redis's matcher goes before it gives up (`nesting` in stringmatchlen). */
const MAX_STAR_NESTING = 1000;

const encoder = new TextEncoder();

/** Compiles a Redis glob pattern into a predicate over keys. */
export function compileKeyPattern(pattern: string): (key: string) => boolean {
  const tokens = tokenize(encoder.encode(pattern));
  if (nestsTooDeep(tokens)) return () => false;
  return (key) => matchTokens(tokens, encoder.encode(key));
}

/**
 * Whether every Redis server matches `pattern` as {@link compileKeyPattern} does, whatever it runs on and
 * whatever its version. It is not when the pattern has a bracket class holding a byte ≥ 0x80 (a range over such
 * a byte depends on whether the server's `char` is signed, and a future Redis might read classes as characters)
 * or more than 1,000 stars (Redis before 7.0.9 has no nesting limit; a later one might change it). A cache that
 * must drop at least every key the server deleted — a tiered cache's L1 — drops everything for a pattern that
 * is not portable, and only the keys `compileKeyPattern` matches otherwise.
 */
export function isPortableKeyPattern(pattern: string): boolean {
  let stars = 0;
  for (const token of tokenize(encoder.encode(pattern))) {
    if (token.kind === 'class' && token.highByte) return false;
    if (token.kind === 'star' && ++stars > MAX_STAR_NESTING) return false;
  }
  return true;
}

/** Escapes every glob character in `literal`, so that it matches only itself (for prefixes in SCAN MATCH). */
export function escapeKeyPattern(literal: string): string {
  return literal.replace(/[*?[\]\\]/g, '\\$&');
}

/** A byte as x86-64 Redis compares it in a range: a signed char, so 0x80..0xFF are -128..-1. */
function asChar(byte: number): number {
  return byte < 0x80 ? byte : byte - 0x100;
}

/** Splits a pattern into tokens with Redis's reading of escapes, classes and unclosed brackets. */
function tokenize(p: Uint8Array): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < p.length) {
    const c = p[i] as number;
    if (c === STAR) {
      // A run of stars is one star.
      if (tokens.at(-1)?.kind !== 'star') tokens.push({ kind: 'star' });
      i++;
    } else if (c === QUESTION_MARK) {
      tokens.push({ kind: 'any' });
      i++;
    } else if (c === OPEN_BRACKET) {
      i++;
      const negated = p[i] === CARET;
      if (negated) i++;
      const ranges: number[] = [];
      let highByte = false;
      const add = (from: number, to: number) => {
        if (from >= 0x80 || to >= 0x80) highByte = true;
        const [low, high] = [asChar(from), asChar(to)];
        // A reversed range is read forwards, the order being that of signed chars.
        ranges.push(Math.min(low, high), Math.max(low, high));
      };
      // As in Redis, a class that is never closed runs to the end of the pattern.
      while (i < p.length && p[i] !== CLOSE_BRACKET) {
        if (p[i] === BACKSLASH && i + 1 < p.length) {
          add(p[i + 1] as number, p[i + 1] as number);
          i += 2;
        } else if (i + 2 < p.length && p[i + 1] === DASH) {
          // The end of a range may be `]`: Redis reads `[a-]` as the range a..] in a class left unclosed.
          add(p[i] as number, p[i + 2] as number);
          i += 3;
        } else {
          add(p[i] as number, p[i] as number);
          i++;
        }
      }
      i++; // past the closing bracket, or past the end
      tokens.push({ kind: 'class', negated, ranges, highByte });
    } else if (c === BACKSLASH && i + 1 < p.length) {
      tokens.push({ kind: 'byte', byte: p[i + 1] as number });
      i += 2;
    } else {
      // A trailing backslash is a literal backslash.
      tokens.push({ kind: 'byte', byte: c });
      i++;
    }
  }
  return tokens;
}

/** Whether Redis would give up on these tokens: a star past the nesting limit with more pattern after it. */
function nestsTooDeep(tokens: Token[]): boolean {
  let stars = 0;
  for (let t = 0; t < tokens.length - 1; t++) {
    if (tokens[t]?.kind === 'star' && ++stars > MAX_STAR_NESTING) return true;
  }
  return false;
}

function matchesByte(token: Token, byte: number): boolean {
  switch (token.kind) {
    case 'any':
      return true;
    case 'byte':
      return token.byte === byte;
    case 'class': {
      const c = asChar(byte);
      let inside = false;
      for (let r = 0; r < token.ranges.length; r += 2) {
        if (c >= (token.ranges[r] as number) && c <= (token.ranges[r + 1] as number)) {
          inside = true;
          break;
        }
      }
      return inside !== token.negated;
    }
    case 'star':
      return false;
  }
}

/**
 * Every token but `*` consumes exactly one byte, so backtracking to the last star is enough: linear in
 * practice and never exponential, unlike a naive recursive matcher.
 */
function matchTokens(tokens: Token[], s: Uint8Array): boolean {
  // Redis never matches an empty string, not even with `*`.
  if (s.length === 0) return tokens.length === 0;
  let t = 0;
  let i = 0;
  let starToken = -1;
  let starInput = 0;
  while (i < s.length) {
    const token = tokens[t];
    if (token?.kind === 'star') {
      starToken = t++;
      starInput = i;
      continue;
    }
    if (token !== undefined && matchesByte(token, s[i] as number)) {
      t++;
      i++;
      continue;
    }
    if (starToken < 0) return false;
    t = starToken + 1;
    i = ++starInput;
  }
  while (tokens[t]?.kind === 'star') t++;
  return t === tokens.length;
}
