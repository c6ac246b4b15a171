import {
  CacheError,
  checkPattern,
  invalid,
  type KeyChange,
  type OperationName,
  readKeys,
} from '@tiercache/core';
import { NAME } from './redis-errors.js';

/**
 * What travels on a feed's channel, as JSON text:
 * `{"origin":"<feed id>","type":"keys","keys":["a","b"]}`, `{"origin":…,"type":"pattern","pattern":"user:*"}`,
 * `{"origin":…,"type":"all"}`, and the feed's own heartbeat `{"origin":…,"type":"heartbeat","seq":7}`.
 * Keys and patterns are named without the key prefix: the channel is specific to the prefix.
 */
export type ChannelMessage = { origin: string; change: KeyChange } | { origin: string; heartbeat: number };

/** The channel on which the feeds of one key prefix announce changes to each other. */
export function changeChannel(keyPrefix: string): string {
  return `tiercache:changes:${keyPrefix}`;
}

export function encodeChange(origin: string, change: KeyChange): string {
  switch (change.type) {
    case 'keys':
      return JSON.stringify({ origin, type: 'keys', keys: change.keys });
    case 'pattern':
      return JSON.stringify({ origin, type: 'pattern', pattern: change.pattern });
    case 'all':
      return JSON.stringify({ origin, type: 'all' });
  }
}

export function encodeHeartbeat(origin: string, seq: number): string {
  return JSON.stringify({ origin, type: 'heartbeat', seq });
}

/** The message in `text`, or `undefined` for anything that is not one (another program's message). */
export function decodeMessage(text: string): ChannelMessage | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const { origin, type, keys, pattern, seq } = parsed as Record<string, unknown>;
  if (typeof origin !== 'string') return undefined;
  switch (type) {
    case 'keys':
      if (!Array.isArray(keys) || !keys.every((key) => typeof key === 'string')) return undefined;
      return { origin, change: { type: 'keys', keys: keys as string[] } };
    case 'pattern':
      return typeof pattern === 'string' ? { origin, change: { type: 'pattern', pattern } } : undefined;
    case 'all':
      return { origin, change: { type: 'all' } };
    case 'heartbeat':
      return typeof seq === 'number' ? { origin, heartbeat: seq } : undefined;
    default:
      return undefined;
  }
}

/** The operation `announce` errors are reported under. */
export const ANNOUNCE: OperationName = 'announce';

/** The change as it will be sent (its keys copied, each once), or why it cannot be. */
export function checkChange(change: unknown): KeyChange | CacheError {
  const type =
    change !== null && typeof change === 'object' ? (change as { type?: unknown }).type : undefined;
  switch (type) {
    case 'keys': {
      const keys = readKeys(NAME, ANNOUNCE, (change as { keys?: unknown }).keys);
      return keys instanceof CacheError ? keys : { type: 'keys', keys };
    }
    case 'pattern': {
      const pattern = (change as { pattern?: unknown }).pattern;
      return checkPattern(NAME, ANNOUNCE, pattern) ?? { type: 'pattern', pattern: pattern as string };
    }
    case 'all':
      return { type: 'all' };
    default:
      return invalid(
        NAME,
        ANNOUNCE,
        undefined,
        "change must be { type: 'keys', keys }, { type: 'pattern', pattern } or { type: 'all' }",
      );
  }
}
