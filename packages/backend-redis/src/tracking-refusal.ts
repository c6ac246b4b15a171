import { errorMessage, withTimeout } from '@tiercache/core';
import type { Redis } from 'ioredis';

/**
 * Whether a failure to switch key tracking on (or to ask for the client id it needs) is the server's lasting
 * answer — asking again changes nothing — or a passing one, worth retrying with back-off.
 *
 * Permanent: an ACL refusal (`NOPERM`, Redis Cloud's "command 'client|tracking' is not allowed"), a command
 * or subcommand the server lacks or that was renamed away ("unknown command", ElastiCache's "unknown
 * subcommand"), and what a server that tracks differently answers (Dragonfly: a syntax error, or "not
 * supported for RESP2"). Everything else (a dropped connection, a timeout, LOADING, BUSY) is transient.
 */
export function classifyTrackingFailure(error: unknown): 'permanent' | 'transient' {
  return PERMANENT.test(errorMessage(error)) ? 'permanent' : 'transient';
}

const PERMANENT =
  /NOPERM|unknown command|unknown subcommand|syntax error|is not allowed|not supported|wrong number of arguments/i;

/** While tracking is refused, the feed asks again every this many heartbeats (30 s with the default 1 s). */
export const ASK_TRACKING_AGAIN_EVERY = 30;

/**
 * Whether the server would now let `data` use `CLIENT TRACKING`, asked without side effects: `CLIENT TRACKING
 * OFF` on a connection that does not track changes nothing, and is refused exactly as `ON` is by an ACL or a
 * server without the command. Any other failure (a timeout, a dropped connection) answers `false`: the next
 * question will tell.
 */
export async function trackingAllowedNow(data: Redis, timeoutMs: number): Promise<boolean> {
  try {
    await withTimeout(data.call('CLIENT', 'TRACKING', 'OFF'), timeoutMs, () => {
      throw new Error(`no answer within ${timeoutMs} ms`);
    });
    return true;
  } catch {
    return false;
  }
}
