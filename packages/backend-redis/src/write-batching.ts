import type { Socket } from 'node:net';
import type { Cluster, Redis } from 'ioredis';
import { isCluster } from './cluster-slots.js';
import { awaitReplies, type DirectCommand } from './direct-command.js';

/**
 * DirectCommands held at most before they are written. At 64 calls in flight on loopback, SET with a TTL ran
 * 1.25–2.0 × as fast written every 16 as written once a tick, and GET 1.1–1.9 × (five alternating runs of each,
 * on two cores shared with redis-server; every 32 was about as good); every 4, GET ran 0.8 × once a tick.
 */
const DIRECT_BATCH = 16;

/**
 * Sends the commands that calls start in one turn of the event loop in one socket write (one per 16, for the
 * backend's own GET, SET and MGET).
 *
 * ioredis writes each command to its socket at once: one `write(2)` per command, which on loopback costs more
 * than all of ioredis's own work for a GET. With many calls in flight, one reply batch wakes many callers in
 * the same turn, and each sends its next command; corking the socket until `process.nextTick` turns those
 * sends into one `writev`. The tick's end comes before any I/O, so a lone call waits only for the callbacks
 * and microtasks already queued in this turn. (node-redis corks its socket the same way; ioredis's
 * auto-pipelining instead waits for `setImmediate` and builds a pipeline per batch, which costs more than it
 * saves here.)
 *
 * {@link DirectCommand}s go further: their text is joined as they come and written as one string at the
 * tick's end, then queued for their replies. A `writev` of one chunk per command cost more than a tenth of
 * the client's time in Node's stream machinery (a buffered request per chunk, each encoded on its own).
 * Written and queued together, they keep the socket's order and the reply queue's the same; and they are
 * written earlier, at once, when ioredis is about to write a command of its own (`sendDirectNow`), so
 * commands also leave in the order they were made.
 *
 * Nor do they wait for the tick's end once {@link DIRECT_BATCH} of them are held: at 64 calls in flight, one
 * reply batch makes 64 commands in one turn, and Redis, idle meanwhile, started on none until the last was
 * made. Written every 16, the first are answered while the rest are being made.
 */
export class WriteBatcher {
  readonly #client: Redis | Cluster;
  readonly #held: Socket[] = [];
  #holding = false;
  /** The text of the DirectCommands of this tick, in the order sent, and the commands. */
  #directText = '';
  readonly #direct: DirectCommand[] = [];

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

  /** Sends a command to a ready standalone client with the others of this tick (see the class's note). */
  sendDirect(command: DirectCommand): void {
    this.hold();
    this.#directText += command.encoded();
    if (this.#direct.push(command) < DIRECT_BATCH) return;
    this.#writeDirect();
    // Let the batch go now: uncork the sockets held, and hold them again for the rest of the tick.
    for (const stream of this.#held) {
      stream.uncork();
      stream.cork();
    }
  }

  #cork(stream: Socket | undefined): void {
    // A node of a Cluster has no socket until it first connects.
    if (stream === undefined || !stream.writable) return;
    stream.cork();
    this.#held.push(stream);
  }

  /**
   * Writes the DirectCommands of this tick now, before a command that ioredis is about to write (see
   * OwnRedis): commands leave in the order they were made.
   */
  readonly sendDirectNow = (): void => {
    if (this.#direct.length > 0) this.#writeDirect();
  };

  readonly #release = (): void => {
    this.#holding = false;
    this.sendDirectNow();
    const held = this.#held;
    // Uncork the very sockets corked, even if the client has since replaced one on a reconnect.
    for (let i = 0; i < held.length; i++) (held[i] as Socket).uncork();
    held.length = 0;
  };

  #writeDirect(): void {
    const client = this.#client as Redis;
    const commands = this.#direct;
    // The connection may have dropped since the commands were sent, earlier in this tick.
    if (client.status === 'ready' && client.stream.writable) {
      client.stream.write(this.#directText);
      awaitReplies(client, commands);
    } else {
      const closed = new Error('Connection is closed.');
      for (const command of commands) command.reject(closed);
    }
    // Rejecting only settles promises: no caller's code has run, and nothing was added meanwhile.
    commands.length = 0;
    this.#directText = '';
  }
}
