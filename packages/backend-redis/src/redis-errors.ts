import { type CacheErrorCode, DriverError, errorMessage } from '@tiercache/core';

export const NAME = 'redis';

/**
 * Turns what ioredis rejects with into a DriverError with a stable code and a reason; the cause is kept.
 * ioredis has no error classes for most of these, so the reply text is what we have to go on; Redis keeps these
 * prefixes stable across versions.
 */
export function classify(cause: unknown, commandTimeoutMs: number): DriverError {
  // A transaction that Redis refused (EXECABORT) carries the errors of the commands that caused it.
  const underlying = (cause as { previousErrors?: unknown[] } | undefined)?.previousErrors?.[0] ?? cause;
  const [code, reason] = codeAndReason(errorMessage(underlying), commandTimeoutMs);
  return new DriverError(code, reason, cause);
}

/** A WRONG_TYPE DriverError when `cause` is Redis's WRONGTYPE reply, for a read that answers per key. */
export function wrongTypeOf(cause: unknown): DriverError | undefined {
  const [code, reason] = codeAndReason(errorMessage(cause), 0);
  return code === 'WRONG_TYPE' ? new DriverError(code, reason, cause) : undefined;
}

/**
 * Whether `cause` says Redis refused the credentials: a wrong password or user (WRONGPASS, or "invalid
 * password" before Redis 6), or none given to a server that wants one (NOAUTH). ioredis reports these as
 * `error` events while it keeps reconnecting, never as a command's failure.
 */
export function refusesCredentials(cause: unknown): boolean {
  const text = errorMessage(cause);
  return (
    text.startsWith('WRONGPASS') ||
    text.startsWith('NOAUTH') ||
    text.includes('invalid password') ||
    text.includes('invalid username-password pair')
  );
}

/**
 * Redis's refusal of the credentials in an `error` event of the client: the error itself, or — from a Cluster,
 * which wraps what its nodes said in a ClusterAllFailedError — its `lastNodeError`.
 */
export function credentialsRefusalIn(error: Error): Error | undefined {
  if (refusesCredentials(error)) return error;
  const node = (error as { lastNodeError?: unknown }).lastNodeError;
  return node instanceof Error && refusesCredentials(node) ? node : undefined;
}

function codeAndReason(text: string, commandTimeoutMs: number): [CacheErrorCode, string] {
  if (text === 'Command timed out') return ['TIMEOUT', `timed out after ${commandTimeoutMs} ms`];
  if (text.startsWith('WRONGTYPE')) return ['WRONG_TYPE', 'the key holds a Redis type other than a string'];
  if (text.includes('not an integer or out of range')) {
    return ['WRONG_TYPE', 'value is not an integer (or is out of the 64-bit range)'];
  }
  if (text.includes('OUT_OF_RANGE') || text.includes('would overflow')) {
    return [
      'OUT_OF_RANGE',
      'result would be outside ±(2^53 - 1), the range a JavaScript number holds exactly',
    ];
  }
  if (text.startsWith('OOM')) return ['CAPACITY', `Redis is out of memory and refuses writes (${text})`];
  if (text.startsWith('READONLY')) return ['BACKEND', `Redis refuses writes: ${text}`];
  if (text.startsWith('NOPERM')) {
    return ['BACKEND', `Redis's ACL does not permit this to the backend's user (${text})`];
  }
  if (refusesCredentials(text)) return ['CONNECTION', `Redis refused the credentials (${text})`];
  if (isConnectionFailure(text)) return ['CONNECTION', `Redis is unreachable (${text})`];
  return ['BACKEND', `Redis answered with an error: ${text}`];
}

function isConnectionFailure(text: string): boolean {
  return (
    text.includes('Connection is closed') ||
    text.includes("Stream isn't writeable") ||
    text.includes('ECONNREFUSED') ||
    text.includes('ECONNRESET') ||
    text.includes('EPIPE') ||
    text.includes('ETIMEDOUT') ||
    // ioredis rejects commands in flight when the connection drops with this (maxRetriesPerRequest is 0).
    text.includes('max retries per request') ||
    text.includes('CLUSTERDOWN') ||
    text.includes('None of startup nodes is available') ||
    text.includes('TRYAGAIN')
  );
}
