import type { KeyChange, OperationName } from '@tiercache/core';

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
