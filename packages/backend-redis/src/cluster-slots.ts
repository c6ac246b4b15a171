import calculateSlot from 'cluster-key-slot';
import type { Cluster, Redis } from 'ioredis';
import type { Client } from './redis-options.js';

/*
 * In a Redis Cluster a command that names several keys may only name keys of one hash slot, and each master
 * holds its own part of the keyspace. Outside a Cluster both questions have one trivial answer.
 */

/**
 * Whether `client` is a Cluster. ioredis's own `isCluster` flag, not `instanceof Cluster`: a caller's client may
 * come from another copy of ioredis (another major, or another install of ioredis 5), whose classes are others.
 */
export function isCluster(client: Client): client is Cluster {
  return client.isCluster;
}

/** Groups items by the hash slot of their key; one group holding everything outside a Cluster. */
export function bySlot<T>(
  client: Client,
  items: readonly T[],
  keyOf: (item: T) => string,
): Array<readonly T[]> {
  if (!isCluster(client)) return [items];
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const slot = calculateSlot(keyOf(item));
    const group = groups.get(slot);
    if (group) group.push(item);
    else groups.set(slot, [item]);
  }
  return [...groups.values()];
}

/** The servers that hold keys: every master of a Cluster, or the one server. */
export function masters(client: Client): Redis[] {
  return isCluster(client) ? client.nodes('master') : [client];
}
