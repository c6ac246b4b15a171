import { createServer } from 'node:net';

/** Redis's own cluster bus listens on the client port + 10000 unless told otherwise. */
export const CLUSTER_BUS_OFFSET = 10_000;
const MAX_PORT = 65_535;
const MAX_ATTEMPTS = 100;

// Never hand out the ports a Redis installed on the machine uses (server, cluster bus, Sentinel): the OS
// would not offer them while they are taken, but a machine's Redis may be restarting at the wrong moment.
const RESERVED = new Set([6379, 16379, 26379]);

// Ports handed out and not yet released, so concurrent starts in this process never pick the same one between
// the moment the OS says it is free and the moment redis-server binds it.
const claimed = new Set<number>();

/**
 * Picks a port on 127.0.0.1 that is free now and claims it for this process. With `clusterBus`, port + 10000
 * must be free and claimable as well.
 */
export async function claimFreePort(options: { clusterBus: boolean }): Promise<number> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const port = await listenBriefly(0);
    if (port === undefined || isTaken(port)) continue;
    const bus = port + CLUSTER_BUS_OFFSET;
    if (options.clusterBus) {
      if (bus > MAX_PORT || isTaken(bus) || (await listenBriefly(bus)) === undefined) continue;
      // The awaits above let another start run: check again before claiming.
      if (isTaken(port) || isTaken(bus)) continue;
      claimed.add(bus);
    }
    claimed.add(port);
    return port;
  }
  throw new Error(`[redis-harness] found no free port on 127.0.0.1 after ${MAX_ATTEMPTS} attempts`);
}

/** Claims a known port again, as a restart after `stop()` does. */
export function reclaimPort(port: number, clusterBus: boolean): void {
  claimed.add(port);
  if (clusterBus) claimed.add(port + CLUSTER_BUS_OFFSET);
}

export function releasePort(port: number, clusterBus: boolean): void {
  claimed.delete(port);
  if (clusterBus) claimed.delete(port + CLUSTER_BUS_OFFSET);
}

function isTaken(port: number): boolean {
  return RESERVED.has(port) || claimed.has(port);
}

/** Listens on `port` (0: any) on 127.0.0.1 and closes again; resolves with the port, or undefined if taken. */
function listenBriefly(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(undefined));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() => resolve(bound));
    });
  });
}
