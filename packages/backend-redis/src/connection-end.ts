import { withTimeout } from '@tiercache/core';
import type { Redis } from 'ioredis';

/**
 * How long ioredis lets a server finish closing a connection after `disconnect()` before it destroys the socket
 * (its `disconnectTimeout`, 2 s by default), for the connections the backend makes. Our own close already gave
 * the server a reply's time to answer QUIT; a longer grace only keeps a dead server's socket, and the process
 * with it, alive.
 */
export function disconnectTimeoutFor(commandTimeoutMs: number): number {
  return Math.min(commandTimeoutMs, 100);
}

/**
 * Ends one ioredis connection so that nothing of it keeps the event loop alive, within about two `waitMs` and
 * the client's `disconnectTimeout`, whether the server answers, is frozen or is gone.
 *
 * `disconnect()` alone is not enough: it half-closes the socket (`end()`) and arms a `disconnectTimeout` timer
 * that only the socket's `close` clears. A frozen server never finishes the close, so the socket and the timer
 * live on for the whole grace; and on a socket that already closed (the server died, the client is waiting to
 * reconnect) the timer is armed after the only `close` there will be, so it always runs out.
 *
 * With `quit`, a connection that is up first sends QUIT, so that replies in flight arrive.
 */
export async function endConnection(client: Redis, waitMs: number, quit: boolean): Promise<void> {
  if (hasEnded(client)) return;
  let answered = !quit;
  if (quit && client.status === 'ready') {
    answered = await withTimeout(
      client.quit().then(
        () => true,
        () => false,
      ),
      waitMs,
      () => false,
    );
  }
  // QUIT's reply may have ended it already.
  if (hasEnded(client)) return;
  const ended = new Promise<true>((resolve) => {
    if (hasEnded(client)) resolve(true);
    else client.once('end', () => resolve(true));
  });
  const socket = client.stream as Redis['stream'] | undefined;
  // A client that never connected (lazy, not yet asked) has no socket, and disconnect() arms no timer.
  const neverConnected = socket === undefined || client.status === 'wait';
  const open = socket !== undefined && !socket.destroyed;
  client.disconnect();
  if (neverConnected) return;
  if (!open) {
    // ioredis's timer was armed after the socket's last `close`: nothing clears it, so wait it out here.
    const grace = client.options.disconnectTimeout ?? 2000;
    await new Promise((resolve) => setTimeout(resolve, grace));
    return;
  }
  // A server that answered (or was not asked) closes its side at once; one that did not answer QUIT will not.
  const closed = answered && (await withTimeout(ended, waitMs, () => false));
  if (!closed) {
    // Its `close` ends the client and clears ioredis's timer.
    socket.destroy();
    await withTimeout(ended, waitMs, () => false);
  }
}

function hasEnded(client: Redis): boolean {
  return client.status === 'end';
}
