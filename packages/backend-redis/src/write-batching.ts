import type { Socket } from 'node:net';
import type { Cluster, Redis } from 'ioredis';
import { isCluster } from './cluster-slots.js';

/**
 * Sends the commands that calls start in one turn of the event loop as one socket write.
 *
 * ioredis writes each command to its socket at once: one `write(2)` per command, which on loopback costs more
 * than all of ioredis's own work for a GET. With many calls in flight, one reply batch wakes many callers in
 * the same turn, and each sends its next command; corking the socket until `process.nextTick` turns those
 * sends into one `writev`. The tick's end comes before any I/O, so a lone call waits only for the callbacks
 * and microtasks already queued in this turn. (node-redis corks its socket the same way; ioredis's
 * auto-pipelining instead waits for `setImmediate` and builds a pipeline per batch, which costs more than it
 * saves here.)
 */
export class WriteBatcher {
  readonly #client: Redis | Cluster;
  readonly #held: Socket[] = [];
  #holding = false;

  constructor(client: Redis | Cluster) {
    this.#client = client;
  }

  /** Holds back writes on the client's sockets until the current tick ends. Cheap when already holding. */
  hold(): void {
    if (this.#holding) return;
    this.#holding = true;
    const client = this.#client;
    if (isCluster(client)) {
      // Replicas receive commands only when the client reads from them (scaleReads); masters always.
      const role = client.options.scaleReads === 'master' ? 'master' : 'all';
      for (const node of client.nodes(role)) this.#cork(node.stream);
    } else {
      this.#cork(client.stream);
    }
    process.nextTick(this.#release);
  }

  #cork(stream: Socket | undefined): void {
    // A node of a Cluster has no socket until it first connects.
    if (stream === undefined || !stream.writable) return;
    stream.cork();
    this.#held.push(stream);
  }

  readonly #release = (): void => {
    this.#holding = false;
    const held = this.#held;
    // Uncork the very sockets corked, even if the client has since replaced one on a reconnect.
    for (let i = 0; i < held.length; i++) (held[i] as Socket).uncork();
    held.length = 0;
  };
}
