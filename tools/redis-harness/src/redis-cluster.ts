import { pollUntil } from './poll.js';
import { runRedisCliRaw } from './redis-cli.js';
import { parseInfo } from './redis-info.js';
import { launchRedis, type ManagedRedisServer, type RedisServer, standardArgs } from './redis-server.js';

export interface StartRedisClusterOptions {
  /** Masters sharing the 16384 slots; Redis Cluster needs at least 3. @default 3 */
  masters?: number;
  /** Replicas of each master. @default 0 */
  replicasPerMaster?: number;
  /**
   * Sets `requirepass` and `masterauth` on every node (replicas authenticate to their masters with it);
   * `cli()`, the cluster's creation and the readiness checks authenticate with it. @default no password
   */
  password?: string;
}

/** A Redis Cluster of redis-server processes on 127.0.0.1, all started by this harness. */
export interface RedisCluster {
  /** Every node, masters and replicas, in the order given to `redis-cli --cluster create`. */
  readonly nodes: RedisServer[];
  /** Every node's address, as a cluster client's startup nodes. */
  readonly startupNodes: Array<{ host: string; port: number }>;
  /**
   * The nodes that are masters now, by asking each running node its `ROLE` (paused and exited nodes are left
   * out), so a failover shows up here.
   */
  masters(): Promise<RedisServer[]>;
  /**
   * Starts one more node and joins it to the Cluster as a master without slots (`redis-cli --cluster
   * add-node`), resolving once every running node knows it. Move slots to it to make it serve keys.
   */
  addMaster(): Promise<RedisServer>;
  /** Stops every node and removes their directories. */
  stop(): Promise<void>;
}

const SLOTS = 16_384;
const CREATE_TIMEOUT_MS = 60_000;
const READY_TIMEOUT_MS = 20_000;
const ROLE_TIMEOUT_MS = 2_000;

/**
 * Starts `masters × (1 + replicasPerMaster)` cluster-enabled servers, joins them with
 * `redis-cli --cluster create`, and resolves once every node reports `cluster_state:ok`, all 16384 slots
 * assigned, every other node known, and (on replicas) the link to the master up.
 *
 * Nodes run with `--cluster-node-timeout 2000`, so a killed master is failed over in a few seconds.
 *
 * @throws RangeError for fewer than 3 masters or a negative replica count; Error when a node does not start or
 * the cluster does not become ready within 20 s (every node started is stopped first).
 */
export async function startRedisCluster(options: StartRedisClusterOptions = {}): Promise<RedisCluster> {
  const { masters = 3, replicasPerMaster = 0, password } = options;
  if (!Number.isInteger(masters) || masters < 3) {
    throw new RangeError(`[redis-harness] a Redis Cluster needs at least 3 masters, got ${masters}`);
  }
  if (!Number.isInteger(replicasPerMaster) || replicasPerMaster < 0) {
    throw new RangeError(
      `[redis-harness] replicasPerMaster must be a whole number ≥ 0, got ${replicasPerMaster}`,
    );
  }
  const count = masters * (1 + replicasPerMaster);
  const launches = await Promise.allSettled(Array.from({ length: count }, () => launchClusterNode(password)));
  const nodes = launches.flatMap((launch) => (launch.status === 'fulfilled' ? [launch.value] : []));
  const cluster = new ManagedRedisCluster(nodes, password);
  try {
    const failed = launches.find((launch) => launch.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    await runRedisCliRaw(
      [
        '--cluster',
        'create',
        ...nodes.map((node) => `${node.host}:${node.port}`),
        '--cluster-replicas',
        String(replicasPerMaster),
        '--cluster-yes',
      ],
      { timeoutMs: CREATE_TIMEOUT_MS, password },
    );
    await pollUntil(
      {
        description: `every node of the cluster to report cluster_state:ok with ${SLOTS} slots assigned`,
        timeoutMs: READY_TIMEOUT_MS,
      },
      async () =>
        (await Promise.all(nodes.map((node) => isReady(node, count)))).every(Boolean) ? true : undefined,
    );
    return cluster;
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

function launchClusterNode(password: string | undefined): Promise<ManagedRedisServer> {
  const passwordArgs = password === undefined ? [] : ['--requirepass', password, '--masterauth', password];
  return launchRedis({
    role: 'cluster node',
    clusterBus: true,
    password,
    args: async (port, dir) => [
      ...standardArgs(port, dir),
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      'nodes.conf',
      '--cluster-node-timeout',
      '2000',
      ...passwordArgs,
    ],
  });
}

async function isReady(node: ManagedRedisServer, nodeCount: number): Promise<boolean> {
  const info = parseInfo(await node.command(['CLUSTER', 'INFO'], ROLE_TIMEOUT_MS));
  if (
    info.get('cluster_state') !== 'ok' ||
    info.get('cluster_slots_assigned') !== String(SLOTS) ||
    info.get('cluster_known_nodes') !== String(nodeCount)
  ) {
    return false;
  }
  const replication = parseInfo(await node.command(['INFO', 'replication'], ROLE_TIMEOUT_MS));
  return replication.get('role') !== 'slave' || replication.get('master_link_status') === 'up';
}

class ManagedRedisCluster implements RedisCluster {
  readonly nodes: ManagedRedisServer[];
  readonly startupNodes: Array<{ host: string; port: number }>;
  readonly #password: string | undefined;

  constructor(nodes: ManagedRedisServer[], password: string | undefined) {
    this.nodes = nodes;
    this.#password = password;
    this.startupNodes = nodes.map(({ host, port }) => ({ host, port }));
  }

  async addMaster(): Promise<RedisServer> {
    const [existing] = await this.masters();
    if (!existing) throw new Error('[redis-harness] the cluster has no running master to join');
    const password = this.#password;
    const node = await launchClusterNode(password);
    this.nodes.push(node);
    this.startupNodes.push({ host: node.host, port: node.port });
    await runRedisCliRaw(
      ['--cluster', 'add-node', `${node.host}:${node.port}`, `${existing.host}:${existing.port}`],
      { timeoutMs: CREATE_TIMEOUT_MS, password },
    );
    const running = this.nodes.filter((each) => each.state === 'running');
    await pollUntil(
      {
        description: 'every running node to know the added master, and it to see all slots served',
        timeoutMs: READY_TIMEOUT_MS,
      },
      async () => {
        const known = await Promise.all(
          running.map(async (each) =>
            (await each.command(['CLUSTER', 'NODES'], ROLE_TIMEOUT_MS)).includes(`:${node.port}@`),
          ),
        );
        const info = parseInfo(await node.command(['CLUSTER', 'INFO'], ROLE_TIMEOUT_MS));
        const served =
          info.get('cluster_state') === 'ok' && info.get('cluster_slots_assigned') === String(SLOTS);
        return served && known.every(Boolean) ? true : undefined;
      },
    );
    return node;
  }

  async masters(): Promise<RedisServer[]> {
    const roles = await Promise.all(
      this.nodes.map((node) =>
        node.state === 'running'
          ? node.command(['ROLE'], ROLE_TIMEOUT_MS).then(
              (reply) => reply.split('\n')[0]?.trim(),
              () => undefined,
            )
          : undefined,
      ),
    );
    return this.nodes.filter((_, index) => roles[index] === 'master');
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()));
  }
}
