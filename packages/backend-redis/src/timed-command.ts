import { Command } from 'ioredis';
import type { CallDeadlines, Deadlined } from './call-deadlines.js';

/**
 * An ioredis command timed by {@link CallDeadlines}, for a Cluster of the ioredis this package imports (a
 * standalone client takes a {@link DirectCommand} instead). Sent with `client.sendCommand`, as ioredis's own
 * command methods send theirs; ioredis asks each command to start its timeout (`setTimeout`) when the client
 * has a `commandTimeout`, and the transport asks it when a caller's client has none. Its keys come whole: a
 * Cluster picks the node by them before the command is written.
 */
export class TimedCommand extends Command implements Deadlined {
  deadline = 0;
  answered = false;
  readonly #deadlines: CallDeadlines;
  #timed = false;

  /** `ioredisKeyPrefix`: a caller's client's own `keyPrefix`, which ioredis applies to the command's keys. */
  constructor(
    name: string,
    args: ReadonlyArray<string | number>,
    deadlines: CallDeadlines,
    ioredisKeyPrefix?: string,
  ) {
    // ioredis copies the arguments (`args.flat()`), so a caller's array is never changed.
    super(
      name,
      args as Array<string | number>,
      ioredisKeyPrefix === undefined ? UTF8 : { replyEncoding: 'utf8', keyPrefix: ioredisKeyPrefix },
    );
    this.#deadlines = deadlines;
  }

  override setTimeout(ms: number): void {
    if (this.#timed) return;
    this.#timed = true;
    this.#deadlines.track(this, ms);
  }

  override transformReply(reply: Buffer | Buffer[]): string | string[] | Buffer | Buffer[] {
    if (this.#timed) this.#deadlines.answered(this);
    return super.transformReply(reply);
  }

  /** What ioredis's own timer does when a call is overdue; a call answered since is left as it is. */
  timedOut(): void {
    this.answered = true;
    this.reject(new Error('Command timed out'));
  }
}

const UTF8 = { replyEncoding: 'utf8' } as const;
