import { errorMessage } from '@tiercache/core';

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
