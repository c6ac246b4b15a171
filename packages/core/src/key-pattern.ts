/*
 * Redis glob patterns, matched exactly as Redis's stringmatchlen matches them, so that deletePattern deletes
 * the same keys on every backend. Like Redis, matching is over UTF-8 bytes: `?` is one byte, not one character.
 */

type Token =
  | { kind: 'star' }
  | { kind: 'any' }
  | { kind: 'byte'; byte: number }
  | { kind: 'class'; negated: boolean; ranges: number[] };

const BACKSLASH = 0x5c;
const CLOSE_BRACKET = 0x5d;
const DASH = 0x2d;
const CARET = 0x5e;

const encoder = new TextEncoder();

/** Compiles a Redis glob pattern into a predicate over keys. */
export function compileKeyPattern(pattern: string): (key: string) => boolean {
  const tokens = tokenize(encoder.encode(pattern));
  return (key) => matchTokens(tokens, encoder.encode(key));
}

/** Escapes every glob character in `literal`, so that it matches only itself (for prefixes in SCAN MATCH). */
export function escapeKeyPattern(literal: string): string {
  return literal.replace(/[*?[\]\\]/g, '\\$&');
}

/** Splits a pattern into tokens with Redis's reading of escapes, classes and unclosed brackets. */
function tokenize(p: Uint8Array): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < p.length) {
    const c = p[i] as number;
    if (c === 0x2a) {
      // A run of stars is one star.
      if (tokens.at(-1)?.kind !== 'star') tokens.push({ kind: 'star' });
      i++;
    } else if (c === 0x3f) {
      tokens.push({ kind: 'any' });
      i++;
    } else if (c === 0x5b) {
      i++;
      const negated = p[i] === CARET;
      if (negated) i++;
      const ranges: number[] = [];
      // As in Redis, a class that is never closed runs to the end of the pattern.
      while (i < p.length && p[i] !== CLOSE_BRACKET) {
        if (p[i] === BACKSLASH && i + 1 < p.length) {
          const literal = p[i + 1] as number;
          ranges.push(literal, literal);
          i += 2;
        } else if (i + 2 < p.length && p[i + 1] === DASH) {
          const start = p[i] as number;
          const end = p[i + 2] as number;
          ranges.push(Math.min(start, end), Math.max(start, end));
          i += 3;
        } else {
          ranges.push(p[i] as number, p[i] as number);
          i++;
        }
      }
      i++; // past the closing bracket, or past the end
      tokens.push({ kind: 'class', negated, ranges });
    } else if (c === BACKSLASH && i + 1 < p.length) {
      tokens.push({ kind: 'byte', byte: p[i + 1] as number });
      i += 2;
    } else {
      tokens.push({ kind: 'byte', byte: c });
      i++;
    }
  }
  return tokens;
}

function matchesByte(token: Token, byte: number): boolean {
  switch (token.kind) {
    case 'any':
      return true;
    case 'byte':
      return token.byte === byte;
    case 'class': {
      let inside = false;
      for (let r = 0; r < token.ranges.length; r += 2) {
        if (byte >= (token.ranges[r] as number) && byte <= (token.ranges[r + 1] as number)) {
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
