import { Command } from 'ioredis';

/**
 * The command timeout of the calls made most (GET, SET, MGET), kept with one timer per backend instead of one
 * per command.
 *
 * ioredis's `commandTimeout` arms a Node timer for every command and clears it on the reply: at 64 calls in
 * flight that was about 6% of the process's time in our profile, more than all of the backend's own work.
 * Every call of a backend has the same timeout, so deadlines fall due in the order the calls were sent: they
 * wait in a queue, and one timer, set for the oldest, wakes only when that call is overdue — or to move on to
 * the next when the oldest was answered in time. A reply removes its call from the front of the queue as it
 * comes (Redis answers one connection's calls in order), so an answered call is not kept alive until its
 * deadline. A call overdue is failed as ioredis's own timer fails it: `Command timed out`, never earlier.
 */
export class CallDeadlines {
  readonly #queue: TimedCommand[] = [];
  /** Index of the oldest call still waiting; the queue is compacted once most of it is behind this. */
  #head = 0;
  #timer: NodeJS.Timeout | undefined;

  /** Starts counting `ms` for a command just sent. */
  track(command: TimedCommand, ms: number): void {
    command.deadline = performance.now() + ms;
    this.#queue.push(command);
    if (this.#timer === undefined) this.#arm(ms);
  }

  /** A command answered: drop the answered calls at the front of the queue. */
  answered(command: TimedCommand): void {
    command.answered = true;
    const queue = this.#queue;
    let head = this.#head;
    while (head < queue.length && (queue[head] as TimedCommand).answered) head++;
    this.#moveHead(head);
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(this.#expire, Math.max(1, Math.ceil(ms)));
    // Nothing to wait for keeps a process alive: the calls themselves hold their sockets.
    this.#timer.unref();
  }

  readonly #expire = (): void => {
    this.#timer = undefined;
    const queue = this.#queue;
    const now = performance.now();
    let head = this.#head;
    const overdue: TimedCommand[] = [];
    while (head < queue.length) {
      const command = queue[head] as TimedCommand;
      if (!command.answered) {
        if (command.deadline > now) break;
        overdue.push(command);
      }
      head++;
    }
    this.#moveHead(head);
    const next = queue[this.#head];
    if (next !== undefined) this.#arm(next.deadline - now);
    // Last: failing a call runs its caller's code, which may send (and track) another.
    for (const command of overdue) command.timedOut();
  };

  #moveHead(head: number): void {
    const queue = this.#queue;
    if (head === queue.length) {
      queue.length = 0;
      this.#head = 0;
    } else if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head);
      this.#head = 0;
    } else {
      this.#head = head;
    }
  }
}

/**
 * An ioredis command timed by {@link CallDeadlines}. Sent with `client.sendCommand`, as ioredis's own command
 * methods send theirs; ioredis asks each command to start its timeout (`setTimeout`) when the client has a
 * `commandTimeout`, and the transport asks it when a caller's client has none.
 */
export class TimedCommand extends Command {
  /** `performance.now()` past which the call fails. */
  deadline = 0;
  answered = false;
  readonly #deadlines: CallDeadlines;
  #timed = false;

  constructor(name: string, args: Array<string | number>, deadlines: CallDeadlines, keyPrefix?: string) {
    super(name, args, keyPrefix === undefined ? UTF8 : { replyEncoding: 'utf8', keyPrefix });
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
