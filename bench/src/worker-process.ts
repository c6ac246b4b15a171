import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/*
 * Worker processes, for scenarios that need more than one process per subject (a writer and a reader, four
 * processes calling at once). The child that measures a subject starts them with `startWorker`, talks to them
 * over an IPC channel, and stops them before it reports. A worker ends by itself if its parent goes away.
 */

const RUNNER = fileURLToPath(new URL('./run-worker.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

/** A message between a child and its workers. Sent with Node's advanced serialization, so bigints pass. */
export interface Message {
  type: string;
  [field: string]: unknown;
}

interface Waiter {
  types: readonly string[];
  resolve(message: Message): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** One end of an IPC channel: sends messages and waits for the next one of a type, within a time limit. */
export class Channel {
  readonly #post: (message: Message, sent: (error: Error | null) => void) => void;
  readonly #inbox: Message[] = [];
  readonly #waiters: Waiter[] = [];
  #closedReason: string | undefined;

  constructor(post: (message: Message, sent: (error: Error | null) => void) => void) {
    this.#post = post;
  }

  /** Resolves once the message is handed to the operating system. */
  send(message: Message): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#post(message, (error) => (error ? reject(error) : resolve()));
    });
  }

  /**
   * The next message of `type` (or of any of several types), or a rejection after `timeoutMs` or when the
   * other end goes away.
   */
  next(type: string | readonly string[], timeoutMs: number): Promise<Message> {
    const types = typeof type === 'string' ? [type] : type;
    const named = types.map((each) => `"${each}"`).join(' or ');
    const index = this.#inbox.findIndex((message) => types.includes(message.type));
    if (index >= 0) return Promise.resolve(this.#inbox.splice(index, 1)[0] as Message);
    if (this.#closedReason !== undefined) {
      return Promise.reject(new Error(`no ${named} message: ${this.#closedReason}`));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        types,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          reject(new Error(`no ${named} message within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }

  deliver(message: Message): void {
    const index = this.#waiters.findIndex((waiter) => waiter.types.includes(message.type));
    if (index < 0) {
      this.#inbox.push(message);
      return;
    }
    const [waiter] = this.#waiters.splice(index, 1) as [Waiter];
    clearTimeout(waiter.timer);
    waiter.resolve(message);
  }

  close(reason: string): void {
    this.#closedReason = reason;
    for (const waiter of this.#waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error(`no ${waiter.types.join(' or ')} message: ${reason}`));
    }
  }
}

export interface Worker {
  readonly channel: Channel;
  readonly pid: number | undefined;
  /**
   * Sends `{ type: 'stop' }` (a worker ends when it reads it) and waits for the worker to exit; SIGKILLs it
   * (this one process) after `timeoutMs`.
   */
  stop(timeoutMs: number): Promise<void>;
}

/** Starts `role` of `scenario` in a new process (see run-worker.ts), with `args` as JSON. */
export function startWorker(scenario: string, role: string, args: unknown): Worker {
  const child: ChildProcess = fork(RUNNER, [scenario, role, JSON.stringify(args)], {
    execArgv: ['--import', TSX, '--conditions=@tiercache/source'],
    // stdout is ignored: the measuring child's stdout carries its result line and nothing may follow it.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  const channel = new Channel((message, sent) => {
    if (!child.connected) sent(new Error(`worker ${role} is gone`));
    else child.send(message, sent);
  });
  child.on('message', (message) => channel.deliver(message as Message));
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      channel.close(`worker ${role} exited with ${signal ?? `code ${code}`}`);
      resolve();
    });
  });
  return {
    channel,
    pid: child.pid,
    async stop(timeoutMs) {
      if (child.exitCode === null && child.signalCode === null) {
        await channel.send({ type: 'stop' }).catch(() => {});
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** The worker's end of its channel to the process that started it. */
export function parentChannel(): Channel {
  const send = process.send?.bind(process);
  if (!send) throw new Error('a worker runs with an IPC channel: start it with startWorker');
  const channel = new Channel((message, sent) => {
    send(message, undefined, {}, sent);
  });
  process.on('message', (message) => channel.deliver(message as Message));
  process.once('disconnect', () => channel.close('the parent process went away'));
  return channel;
}
