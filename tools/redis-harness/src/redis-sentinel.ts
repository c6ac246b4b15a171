import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GiveUp, pollUntil } from './poll.js';
import { parseInfo, parseSentinelReplicas } from './redis-info.js';
import { launchRedis, type ManagedRedisServer, type RedisServer, startRedisServer } from './redis-server.js';

export interface StartRedisSentinelOptions {
  /** Sentinel processes watching the master. The quorum is 1, so each can fail over alone. @default 1 */
  sentinels?: number;
}

/** A master, its replica and the Sentinels that watch them, all on 127.0.0.1 and started by this harness. */
export interface RedisSentinelSetup {
  /** The name the Sentinels know the master by. */
  readonly masterName: 'tiercache';
  /**
   * The node that is master. After `failover()` this is the promoted replica: `master` and `replica` swap.
   */
  readonly master: RedisServer;
  /**
   * The other node. Right after `failover()` it is the former master, which still calls itself master until
   * the Sentinel turns it into a replica of the new one (Sentinel waits about 10 s before doing so).
   */
  readonly replica: RedisServer;
  /** The Sentinels' addresses, as a Sentinel client's `sentinels` option. */
  readonly sentinels: Array<{ host: string; port: number }>;
  /** The Sentinel processes themselves, to pause or kill one. */
  readonly sentinelServers: RedisServer[];
  /**
   * Asks the first running Sentinel for `SENTINEL FAILOVER tiercache`, then waits until every running Sentinel
   * names the replica as master and the replica's `ROLE` says `master` (at most 20 s).
   */
  failover(): Promise<void>;
  /** Stops the Sentinels, then both nodes, and removes their directories. */
  stop(): Promise<void>;
}

const MASTER_NAME = 'tiercache';
const READY_TIMEOUT_MS = 15_000;
const FAILOVER_TIMEOUT_MS = 20_000;
const COMMAND_TIMEOUT_MS = 2_000;

/**
 * Starts a master, a replica of it, and `sentinels` Sentinel processes (`redis-server sentinel.conf --sentinel`)
 * monitoring it as `tiercache` with quorum 1, `down-after-milliseconds 1000` and `failover-timeout 5000`.
 * Resolves once the replica's link to the master is up and every Sentinel knows the master and the replica.
 *
 * @throws RangeError for fewer than 1 Sentinel; Error when a process does not start or the setup is not ready
 * within 15 s (every process started is stopped first).
 */
export async function startRedisSentinel(
  options: StartRedisSentinelOptions = {},
): Promise<RedisSentinelSetup> {
  const { sentinels: sentinelCount = 1 } = options;
  if (!Number.isInteger(sentinelCount) || sentinelCount < 1) {
    throw new RangeError(`[redis-harness] sentinels must be a whole number ≥ 1, got ${sentinelCount}`);
  }
  const started: RedisServer[] = [];
  try {
    const master = await startRedisServer();
    started.push(master);
    const replica = await startRedisServer({ args: ['--replicaof', master.host, String(master.port)] });
    started.push(replica);
    // The replica must be connected before the Sentinels start: a Sentinel learns of replicas from the master's
    // INFO, which it reads at once on connecting and then only every 10 s.
    await pollUntil(
      {
        description: `the replica on port ${replica.port} to report master_link_status:up`,
        timeoutMs: READY_TIMEOUT_MS,
      },
      async () =>
        parseInfo(await replica.cli('INFO', 'replication')).get('master_link_status') === 'up' || undefined,
    );
    const launches = await Promise.allSettled(
      Array.from({ length: sentinelCount }, () =>
        launchRedis({
          role: 'sentinel',
          clusterBus: false,
          args: async (port, dir) => {
            const file = join(dir, 'sentinel.conf');
            await writeFile(file, sentinelConfig(port, dir, master.port));
            return [file, '--sentinel'];
          },
        }),
      ),
    );
    const sentinelServers = launches.flatMap((launch) =>
      launch.status === 'fulfilled' ? [launch.value] : [],
    );
    started.push(...sentinelServers);
    const failed = launches.find((launch) => launch.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    await pollUntil(
      {
        description: `every Sentinel to know master ${master.port} and replica ${replica.port}`,
        timeoutMs: READY_TIMEOUT_MS,
      },
      async () => {
        const ready = await Promise.all(
          sentinelServers.map(async (sentinel) => {
            return (
              (await masterPort(sentinel)) === master.port && (await replicaIsUsable(sentinel, replica.port))
            );
          }),
        );
        return ready.every(Boolean) || undefined;
      },
    );
    return new SentinelSetup(master, replica, sentinelServers);
  } catch (error) {
    await stopInOrder(started);
    throw error;
  }
}

function sentinelConfig(port: number, dir: string, masterPort: number): string {
  return [
    `port ${port}`,
    'bind 127.0.0.1',
    'daemonize no',
    'protected-mode no',
    `dir ${dir}`,
    `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${masterPort} 1`,
    `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
    `sentinel failover-timeout ${MASTER_NAME} 5000`,
    `sentinel parallel-syncs ${MASTER_NAME} 1`,
    '',
  ].join('\n');
}

/** The master's port as `sentinel` reports it, or undefined when it does not know one. */
async function masterPort(sentinel: ManagedRedisServer): Promise<number | undefined> {
  const reply = await sentinel.command(
    ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME],
    COMMAND_TIMEOUT_MS,
  );
  const port = reply.split('\n')[1];
  return port === undefined ? undefined : Number(port);
}

/** Whether `sentinel` knows the replica on `port` well enough to promote it: connected, up, and synced. */
async function replicaIsUsable(sentinel: ManagedRedisServer, port: number): Promise<boolean> {
  const reply = await sentinel.command(['SENTINEL', 'REPLICAS', MASTER_NAME], COMMAND_TIMEOUT_MS);
  const replica = parseSentinelReplicas(reply).find((fields) => fields.get('port') === String(port));
  const flags = replica?.get('flags')?.split(',') ?? [];
  return (
    replica !== undefined &&
    replica.get('master-link-status') === 'ok' &&
    !flags.some((flag) => flag === 's_down' || flag === 'o_down' || flag === 'disconnected')
  );
}

async function stopInOrder(servers: readonly RedisServer[]): Promise<void> {
  // Sentinels first, so none of them starts a failover while the nodes go down.
  await Promise.all(servers.slice(2).map((server) => server.stop()));
  await Promise.all(servers.slice(0, 2).map((server) => server.stop()));
}

class SentinelSetup implements RedisSentinelSetup {
  readonly masterName = MASTER_NAME;
  readonly sentinels: Array<{ host: string; port: number }>;
  readonly sentinelServers: ManagedRedisServer[];
  #master: RedisServer;
  #replica: RedisServer;

  constructor(master: RedisServer, replica: RedisServer, sentinelServers: ManagedRedisServer[]) {
    this.#master = master;
    this.#replica = replica;
    this.sentinelServers = sentinelServers;
    this.sentinels = sentinelServers.map(({ host, port }) => ({ host, port }));
  }

  get master(): RedisServer {
    return this.#master;
  }

  get replica(): RedisServer {
    return this.#replica;
  }

  async failover(): Promise<void> {
    const target = this.#replica;
    const running = this.sentinelServers.filter((sentinel) => sentinel.state === 'running');
    const asked = running[0];
    if (asked === undefined) throw new Error('[redis-harness] cannot fail over: no Sentinel is running');
    const deadline = Date.now() + FAILOVER_TIMEOUT_MS;
    await pollUntil(
      {
        description: `Sentinel on port ${asked.port} to accept SENTINEL FAILOVER`,
        timeoutMs: FAILOVER_TIMEOUT_MS,
        intervalMs: 100,
      },
      async () => {
        try {
          return (
            (await asked.command(['SENTINEL', 'FAILOVER', MASTER_NAME], COMMAND_TIMEOUT_MS)) === 'OK' ||
            undefined
          );
        } catch (error) {
          // NOGOODSLAVE passes once the Sentinel sees the replica as synced again; anything else will not.
          if (error instanceof Error && /NOGOODSLAVE/.test(error.message)) throw error;
          throw new GiveUp(error instanceof Error ? error : new Error(String(error)));
        }
      },
    );
    await pollUntil(
      {
        description: `every Sentinel to name port ${target.port} as master, and that node's ROLE to say master`,
        timeoutMs: Math.max(deadline - Date.now(), 1_000),
      },
      async () => {
        const ports = await Promise.all(running.map(masterPort));
        if (!ports.every((port) => port === target.port)) return undefined;
        const role = (await target.cli('ROLE')).split('\n')[0]?.trim();
        return role === 'master' || undefined;
      },
    );
    this.#replica = this.#master;
    this.#master = target;
  }

  async stop(): Promise<void> {
    await stopInOrder([this.#master, this.#replica, ...this.sentinelServers]);
  }
}
