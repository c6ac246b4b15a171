/** Thrown from a poll attempt to stop waiting at once: the condition can no longer come true. */
export class GiveUp extends Error {
  constructor(readonly reason: Error) {
    super(reason.message);
  }
}

export interface PollOptions {
  /** What is awaited, for the timeout message: "the replica to report master_link_status:up". */
  description: string;
  timeoutMs: number;
  /** @default 20 */
  intervalMs?: number;
}

/**
 * Runs `attempt` until it returns something other than `undefined`, and returns that. An attempt that throws
 * counts as "not yet", except for `GiveUp`; on timeout the error names the last failure, if any.
 */
export async function pollUntil<T>(options: PollOptions, attempt: () => Promise<T | undefined>): Promise<T> {
  const { description, timeoutMs, intervalMs = 20 } = options;
  const deadline = Date.now() + timeoutMs;
  let lastFailure: string | undefined;
  for (;;) {
    try {
      const result = await attempt();
      if (result !== undefined) return result;
    } catch (error) {
      if (error instanceof GiveUp) throw error.reason;
      lastFailure = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline) {
      const last = lastFailure === undefined ? '' : ` (last failure: ${lastFailure})`;
      throw new Error(`[redis-harness] timed out after ${timeoutMs} ms waiting for ${description}${last}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Waits until `check` holds, polling every 10 ms; fails with `what` after `withinMs`. For tests whose
 * condition depends on a real server (a reconnect, a failover, a message on the wire) rather than on a clock.
 */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  withinMs = 5_000,
): Promise<void> {
  await pollUntil({ description: what, timeoutMs: withinMs, intervalMs: 10 }, async () =>
    (await check()) ? true : undefined,
  );
}
