/*
 * Turns, for scenarios whose subjects are measured interleaved: every subject of a pass runs in its own
 * process, all started together, and only one works at a time. The parent hands the turn round the children
 * in a fixed rotation, so the first timed round of every subject is taken in one cycle, then the second, and
 * so on: two figures compared in a ratio are measured seconds apart, not a pass apart. On two shared cores the
 * machine's speed drifts by tens of percent over the minute a pass takes, and a ratio of figures measured
 * minutes apart carried that drift; interleaved, it mostly cancels. Each subject still has a process of its own
 * (its own heap and JIT feedback), and all its work — setting up, warming up, every round, tearing down — is
 * done in its turns, so no two subjects ever run at once.
 */

/** The child's side: runs `work` when it holds the turn, then hands the turn back. */
export interface Turns {
  take<T>(work: () => Promise<T>): Promise<T>;
}

/** A child measured on its own: every turn is its own. */
export const OWN_TURNS: Turns = { take: (work) => work() };

/** Messages on the IPC channel between the parent and an interleaved child. */
export type TurnMessage = { turn: 'want' } | { turn: 'go' } | { turn: 'done' };

/** The child's turns, asked of the parent over the IPC channel that child-run.ts opens. */
export function turnsFromParent(): Turns {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('interleaved measuring needs the IPC channel of child-run.ts');
  return {
    async take(work) {
      await new Promise<void>((resolve) => {
        const onMessage = (message: TurnMessage) => {
          if (message.turn !== 'go') return;
          process.off('message', onMessage);
          resolve();
        };
        process.on('message', onMessage);
        send({ turn: 'want' } satisfies TurnMessage);
      });
      try {
        return await work();
      } finally {
        send({ turn: 'done' } satisfies TurnMessage);
      }
    },
  };
}

/**
 * The parent's side: one turn at a time, in the order of `names`. The first turn is given only once every
 * child has asked for one, so that no child is still loading its modules while another is timed; after that,
 * strictly in rotation (a child that has ended leaves it), so each cycle has one turn of each.
 */
export class TurnRotation {
  readonly #rotation: string[];
  readonly #waiting = new Map<string, () => void>();
  #holder: string | undefined;
  #next = 0;
  #started = false;

  constructor(names: readonly string[]) {
    this.#rotation = [...names];
  }

  /** Resolves when `name` holds the turn. */
  request(name: string): Promise<void> {
    return new Promise((grant) => {
      this.#waiting.set(name, grant);
      this.#grant();
    });
  }

  /** `name` hands the turn back. */
  release(name: string): void {
    if (this.#holder !== name) throw new Error(`${name} handed back a turn it did not hold`);
    this.#holder = undefined;
    this.#next = (this.#rotation.indexOf(name) + 1) % this.#rotation.length;
    this.#grant();
  }

  /** `name` has ended (or failed): it leaves the rotation, and the turn if it held it. */
  leave(name: string): void {
    const index = this.#rotation.indexOf(name);
    if (index === -1) return;
    this.#rotation.splice(index, 1);
    this.#waiting.delete(name);
    if (this.#holder === name) this.#holder = undefined;
    if (index < this.#next) this.#next--;
    if (this.#next >= this.#rotation.length) this.#next = 0;
    this.#grant();
  }

  #grant(): void {
    if (this.#holder !== undefined || this.#rotation.length === 0) return;
    if (!this.#started) {
      if (this.#waiting.size < this.#rotation.length) return;
      this.#started = true;
    }
    const name = this.#rotation[this.#next] as string;
    const grant = this.#waiting.get(name);
    // Its turn, but it has not asked yet (between two turns): wait for it, to keep the rotation.
    if (grant === undefined) return;
    this.#waiting.delete(name);
    this.#holder = name;
    grant();
  }
}
