/** A call whose deadline {@link CallDeadlines} keeps. */
export interface Deadlined {
  /** `performance.now()` past which the call fails. */
  deadline: number;
  /** Answered, failed or timed out: no longer to be timed. */
  answered: boolean;
  /** Fails the call as ioredis's own timer fails one: `Command timed out`. */
  timedOut(): void;
}

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
  readonly #queue: Deadlined[] = [];
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
  track(command: Deadlined, ms: number): void {
    command.deadline = performance.now() + ms;
    this.#queue.push(command);
    if (this.#timer === undefined) this.#arm(ms);
  }

  /** A command answered: drop the answered calls at the front of the queue. */
  answered(command: Deadlined): void {
    // The late reply of a call that timed out: it left the queue then, and must not take the calls after it.
    if (command.answered) return;
    command.answered = true;
    const queue = this.#queue;
    // V8 shifts an array by moving its start, not by copying it.
    if (this.#inOrder) {
      while (queue.length > 0 && queue.shift() !== command) {}
    } else {
      while (queue.length > 0 && (queue[0] as Deadlined).answered) queue.shift();
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
    const overdue: Deadlined[] = [];
    while (queue.length > 0) {
      const command = queue[0] as Deadlined;
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
