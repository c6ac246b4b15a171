import { Redis } from 'ioredis-5';
import type { GetOrSetFactory } from './subject-contracts.js';

/**
 * The least a getOrSet over Redis does, by hand on raw ioredis 5: GET; on a miss, one load per process (the
 * callers of a process share it), then `SET … PX`, then the answer. No lock, no Result, no checks. Every
 * subject of the stampede does at least this much in each process, so the time it takes is the floor of
 * theirs on this machine: a lock across processes can only add to it.
 */
export const rawGetOrSetFloor: GetOrSetFactory = async (target) => {
  const client = new Redis(target.url);
  client.on('error', () => {});
  const loads = new Map<string, Promise<string>>();
  const loadAndStore = async (fullKey: string, loader: () => Promise<string>): Promise<string> => {
    try {
      const value = await loader();
      await client.set(fullKey, value, 'PX', 60_000);
      return value;
    } finally {
      loads.delete(fullKey);
    }
  };
  return {
    async getOrSet(key, loader) {
      const fullKey = `${target.prefix}:${key}`;
      const stored = await client.get(fullKey);
      if (stored !== null) return stored;
      let load = loads.get(fullKey);
      if (load === undefined) {
        load = loadAndStore(fullKey, loader);
        loads.set(fullKey, load);
      }
      return load;
    },
    close: async () => {
      client.disconnect();
    },
  };
};
