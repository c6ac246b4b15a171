/*
 * Keys and values for the scenarios, the same on every run. Each string is made by decoding a buffer, so V8
 * holds it as one flat sequential string: a concatenation would leave a cons string (a pair of pointers) that
 * V8 flattens later, at a moment that depends on who reads it first, and that would blur both time and heap.
 */

export interface Entries {
  keys: string[];
  values: string[];
}

export interface EntriesOptions {
  count: number;
  keyBytes: number;
  valueBytes: number;
  /** Same seed, same strings. */
  seed?: number;
}

// 64 printable ASCII characters: one UTF-8 byte each, and 6 random bits pick one.
const ALPHABET = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', 'latin1');

/** mulberry32: small, fast, and good enough to spread keys over hash buckets. */
function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

function randomString(random: () => number, buffer: Buffer): string {
  for (let i = 0; i < buffer.length; i++) buffer[i] = ALPHABET[random() & 63] as number;
  return buffer.toString('latin1');
}

/** `count` distinct keys, each with its own value. */
export function generateEntries(options: EntriesOptions): Entries {
  const { count, keyBytes, valueBytes, seed = 1 } = options;
  const random = createRandom(seed);
  const keyBuffer = Buffer.alloc(keyBytes);
  const valueBuffer = Buffer.alloc(valueBytes);
  const seen = new Set<string>();
  const keys: string[] = [];
  const values: string[] = [];
  while (keys.length < count) {
    const key = randomString(random, keyBuffer);
    if (seen.has(key)) continue;
    seen.add(key);
    keys.push(key);
    values.push(randomString(random, valueBuffer));
  }
  return { keys, values };
}

/**
 * Equal strings that are not the same objects. A caller usually builds its key per request, so a lookup
 * compares characters rather than finding the very string it stored; reading with copies keeps that cost in.
 */
export function copyStrings(strings: readonly string[]): string[] {
  return strings.map((text) => Buffer.from(text, 'latin1').toString('latin1'));
}
