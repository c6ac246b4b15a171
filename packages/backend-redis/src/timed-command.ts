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
  /**
   * Calls sent and not yet known answered, oldest first. Answered calls leave it as they come, so it holds
   * about as many calls as are in flight: a call kept here past its reply would be kept past the young
   * generation's collections, with its arguments and reply (a getMany's hundred keys and values).
   */
  readonly #queue: TimedCommand[] = [];
  readonly #inOrder: boolean;
  #timer: NodeJS.Timeout | undefined;

  /**
   * `inOrder`: every call goes over one connection, which answers in the order sent (not a Cluster). Then a
   * reply also settles every call sent before it: one that failed (an error reply, which ioredis rejects
   * without telling us) leaves the queue with it instead of waiting there for its deadline.
   */
  constructor(inOrder: boolean) {
    this.#inOrder = inOrder;
  }

  /** Calls still held: about as many as are in flight. */
  get size(): number {
    return this.#queue.length;
  }

  /** Starts counting `ms` for a command just sent. */
  track(command: TimedCommand, ms: number): void {
    command.deadline = performance.now() + ms;
    this.#queue.push(command);
    if (this.#timer === undefined) this.#arm(ms);
  }

  /** A command answered: drop the answered calls at the front of the queue. */
  answered(command: TimedCommand): void {
    // The late reply of a call that timed out: it left the queue then, and must not take the calls after it.
    if (command.answered) return;
    command.answered = true;
    const queue = this.#queue;
    // V8 shifts an array by moving its start, not by copying it.
    if (this.#inOrder) {
      while (queue.length > 0 && queue.shift() !== command) {}
    } else {
      while (queue.length > 0 && (queue[0] as TimedCommand).answered) queue.shift();
    }
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
    const overdue: TimedCommand[] = [];
    while (queue.length > 0) {
      const command = queue[0] as TimedCommand;
      if (!command.answered) {
        if (command.deadline > now) break;
        overdue.push(command);
      }
      queue.shift();
    }
    const next = queue[0];
    if (next !== undefined) this.#arm(next.deadline - now);
    // Last: failing a call runs its caller's code, which may send (and track) another.
    for (const command of overdue) command.timedOut();
  };
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
  readonly #keyPrefix: KeyPrefix | undefined;
  readonly #keyCount: number;
  #timed = false;

  /**
   * `ioredisKeyPrefix`: a caller's client's own `keyPrefix`, which ioredis applies to the command's keys.
   * `keyPrefix` instead: the first `keyCount` arguments are keys, to be written after this prefix as the
   * command is encoded. Not for a Cluster, which needs the whole key beforehand to pick its node.
   */
  constructor(
    name: string,
    args: ReadonlyArray<string | number>,
    deadlines: CallDeadlines,
    ioredisKeyPrefix?: string,
    keyPrefix?: KeyPrefix,
    keyCount = 0,
  ) {
    // ioredis copies the arguments (`args.flat()`), so a caller's array is never changed.
    super(
      name,
      args as Array<string | number>,
      ioredisKeyPrefix === undefined ? UTF8 : { replyEncoding: 'utf8', keyPrefix: ioredisKeyPrefix },
    );
    this.#deadlines = deadlines;
    this.#keyPrefix = keyPrefix;
    this.#keyCount = keyCount;
  }

  /**
   * The command in Redis's protocol, as ioredis writes it, with the prefix written before each key rather than
   * joined to it first: a prefixed copy of each key would be one more string made, and measured once more to
   * count its bytes (a fifth of a getMany of 100, measured against MGET of keys joined beforehand).
   */
  override toWritable(socket: object): string | Buffer {
    const prefix = this.#keyPrefix;
    if (prefix === undefined) return super.toWritable(socket);
    const { text, bytes } = prefix;
    const count = this.#keyCount;
    // Every argument is a string: the driver sends text, and ioredis has turned numbers (a TTL) into text.
    const args = this.args as string[];
    let written = `*${args.length + 1}\r\n$${this.name.length}\r\n${this.name}\r\n`;
    for (let i = 0; i < args.length; i++) {
      const arg = args[i] as string;
      written +=
        i < count
          ? `$${bytes + Buffer.byteLength(arg)}\r\n${text}${arg}\r\n`
          : `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
    }
    return written;
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

/** A prefix written before keys (see TimedCommand.toWritable). */
export interface KeyPrefix {
  text: string;
  /** Its length in UTF-8 bytes, counted once. */
  bytes: number;
}
