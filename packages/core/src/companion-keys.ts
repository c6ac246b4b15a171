import type { ChangeFeed } from './cache-backend.js';
import type { GraceCopy } from './driver.js';

/*
 * getOrSet keeps three keys beside a value: its grace copy, its lock and its fencing counter. The value key
 * itself stays a plain value with its real TTL, so other programs still read the truth. In a Redis Cluster a
 * script may only touch keys of one hash slot, so each companion must land in its value's slot, whatever the
 * value's key looks like (with a hash tag of its own, with braces that make none, with none at all).
 *
 * Redis hashes the part between the first `{` and the first `}` after it when that part is not empty, and the
 * whole key otherwise. So a companion is named
 *   - `<prefix>__tiercache:<role>:<key>` when `<prefix><key>` carries a hash tag in `<key>`: the tag stays the
 *     first one, and the slot is the value's;
 *   - `<prefix>__tiercache:<role>{<tag>}:<key>` otherwise, where `<tag>` is a short string chosen to hash to
 *     the value's slot: the companion's first braces are these.
 * Both start with the prefix, so `flush` removes companions with their values. A prefix that holds a `{` is
 * taken as it is: its own tag decides every slot alike when it has one.
 */

export type CompanionRole = 'grace' | 'lock' | 'fence';

const SLOTS = 16384;
let crcTable: Uint16Array | undefined;
let tagsBySlot: string[] | undefined;

/** The name of `role`'s key beside the value at `prefix + key`, in the value's hash slot. */
export function companionKey(prefix: string, key: string, role: CompanionRole): string {
  const fullKey = prefix + key;
  if (prefix.includes('{') || hashTagStart(fullKey) >= prefix.length) {
    return `${prefix}__tiercache:${role}:${key}`;
  }
  return `${prefix}__tiercache:${role}{${tagForSlot(keySlot(fullKey))}}:${key}`;
}

/** Where the hash tag of `key` starts, or -1 when the whole key is hashed. */
function hashTagStart(key: string): number {
  const open = key.indexOf('{');
  if (open === -1) return -1;
  const close = key.indexOf('}', open + 1);
  return close === -1 || close === open + 1 ? -1 : open + 1;
}

/** The Redis Cluster hash slot of `key` (CRC16-CCITT/XMODEM of its UTF-8 bytes, or of its tag's). */
export function keySlot(key: string): number {
  const start = hashTagStart(key);
  const hashed = start === -1 ? key : key.slice(start, key.indexOf('}', start));
  return crc16(Buffer.from(hashed, 'utf8')) % SLOTS;
}

function crc16(bytes: Uint8Array): number {
  crcTable ??= makeCrcTable();
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) ^ (crcTable[((crc >> 8) ^ byte) & 0xff] as number)) & 0xffff;
  return crc;
}

function makeCrcTable(): Uint16Array {
  const table = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let crc = n << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[n] = crc;
  }
  return table;
}

/** A short tag of letters and digits that hashes to `slot`; the table is made once, on first use. */
function tagForSlot(slot: number): string {
  tagsBySlot ??= makeTagTable();
  return tagsBySlot[slot] as string;
}

function makeTagTable(): string[] {
  const alphabet = Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789', 'latin1');
  const tags: string[] = new Array(SLOTS);
  let found = 0;
  // Every slot is reached by some tag of at most four characters; shorter tags are tried first.
  for (let length = 1; length <= 4 && found < SLOTS; length++) {
    const digits = new Uint8Array(length);
    const tag = new Uint8Array(length).fill(alphabet[0] as number);
    for (;;) {
      const tagSlot = crc16(tag) % SLOTS;
      if (tags[tagSlot] === undefined) {
        tags[tagSlot] = Buffer.from(tag).toString('latin1');
        if (++found === SLOTS) break;
      }
      let i = length - 1;
      for (; i >= 0; i--) {
        digits[i] = ((digits[i] as number) + 1) % alphabet.length;
        tag[i] = alphabet[digits[i] as number] as number;
        if (digits[i] !== 0) break;
      }
      if (i < 0) break;
    }
  }
  return tags;
}

/** A grace copy as stored: when it was stored (ms since the epoch), a colon, and the value as it was. */
export function encodeGraceCopy(value: string, storedAt: number): string {
  return `${storedAt}:${value}`;
}

/** A stored grace copy read back; `null` for text that is not one (written by something else). */
export function decodeGraceCopy(text: string | null | undefined): GraceCopy | null {
  if (typeof text !== 'string') return null;
  const colon = text.indexOf(':');
  const storedAt = colon > 0 ? Number(text.slice(0, colon)) : Number.NaN;
  return Number.isSafeInteger(storedAt) ? { value: text.slice(colon + 1), storedAt } : null;
}

/**
 * A driver's `watch` over its change feed: `onChange` on any change that may touch `key` (the key itself, a
 * pattern, a flush) and when the feed is armed again (changes may have been missed while it was not).
 */
export function watchKey(feed: ChangeFeed | null, key: string, onChange: () => void): (() => void) | null {
  if (feed === null) return null;
  return feed.subscribe((event) => {
    if (event.type === 'keys' ? event.keys.includes(key) : event.type !== 'lost') onChange();
  });
}
