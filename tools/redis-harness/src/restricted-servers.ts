import { type RedisServer, startRedisServer } from './redis-server.js';

/** A server set up so that `CLIENT TRACKING` is refused, and how to reach it. */
export interface TrackingRefusingServer {
  name: string;
  start(): Promise<{ server: RedisServer; url: string }>;
  /** What the server answers, in part, when tracking is asked for. */
  answer: RegExp;
}

/** A server with an ACL user `app` (password `secret`) allowed everything but `rules`. */
export async function startRedisWithAclUser(rules: string[]): Promise<{ server: RedisServer; url: string }> {
  const server = await startRedisServer();
  await server.cli('ACL', 'SETUSER', 'app', 'on', '>secret', '~*', '&*', '+@all', ...rules);
  return { server, url: `redis://app:secret@${server.host}:${server.port}` };
}

/**
 * The ways users meet a Redis that refuses `CLIENT TRACKING`, each set up for real: an ACL user without
 * `client|tracking`, one without `CLIENT` at all, and `CLIENT` renamed away in the server's configuration.
 */
export const TRACKING_REFUSING_SERVERS: readonly TrackingRefusingServer[] = [
  {
    name: 'an ACL user with -client|tracking',
    start: () => startRedisWithAclUser(['-client|tracking']),
    answer: /NOPERM/,
  },
  { name: 'an ACL user with -client', start: () => startRedisWithAclUser(['-client']), answer: /NOPERM/ },
  {
    name: 'CLIENT renamed away in the config',
    start: async () => {
      const server = await startRedisServer({ args: ['--rename-command', 'CLIENT', '""'] });
      return { server, url: server.url };
    },
    answer: /unknown command/,
  },
];

/** Calls of each command the server has run, by name (`get`, `client|tracking`), from `INFO commandstats`. */
export async function commandCalls(server: RedisServer): Promise<Record<string, number>> {
  const calls: Record<string, number> = {};
  const stats = await server.cli('INFO', 'commandstats');
  for (const [, name, count] of stats.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm))
    calls[name ?? ''] = Number(count);
  return calls;
}

/** Connected clients, as the server counts them (INFO needs no CLIENT command). */
export async function connectedClients(server: RedisServer): Promise<number> {
  return Number(/connected_clients:(\d+)/.exec(await server.cli('INFO', 'clients'))?.[1]);
}

/**
 * Writes 16 KiB values through `write` until it answers a refusal, and answers that refusal. Then keeps the
 * server full: `maxmemory` is set a little under what is used, since a refused command's buffers are freed
 * after the refusal and would let the next small write in. The server must run with `noeviction`.
 */
export async function fillUntilRefused<E>(
  server: RedisServer,
  write: (key: string, value: string) => Promise<E | undefined>,
): Promise<E> {
  const filler = 'x'.repeat(16 * 1024);
  for (let i = 0; i < 1000; i++) {
    const refusal = await write(`filler:${i}`, filler);
    if (refusal !== undefined) {
      const used = Number(/used_memory:(\d+)/.exec(await server.cli('INFO', 'memory'))?.[1]);
      await server.cli('CONFIG', 'SET', 'maxmemory', String(used - 256 * 1024));
      return refusal;
    }
  }
  throw new Error('[redis-harness] the server never refused a write: is maxmemory set, with noeviction?');
}
