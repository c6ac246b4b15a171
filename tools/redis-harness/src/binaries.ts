import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Absolute paths of the Redis programs the harness runs. */
export interface RedisBinaries {
  /** `redis-server`; Sentinel runs as `redis-server <conf> --sentinel`, so `redis-sentinel` is not needed. */
  server: string;
  /** `redis-cli`, used to wait for servers, create clusters and run `RedisServer.cli`. */
  cli: string;
}

/**
 * Finds `redis-server` and `redis-cli` on `PATH`.
 *
 * The lookup runs on every call (it is a few `stat`s), so a test can change `PATH` and see the effect.
 *
 * @throws Error naming what is missing and how to install it.
 */
export function redisBinaries(): RedisBinaries {
  const server = findOnPath('redis-server');
  const cli = findOnPath('redis-cli');
  if (server !== undefined && cli !== undefined) return { server, cli };
  const missing = [
    server === undefined ? 'redis-server' : undefined,
    cli === undefined ? 'redis-cli' : undefined,
  ]
    .filter((name) => name !== undefined)
    .join(' and ');
  throw new Error(
    `${missing} ${server === undefined && cli === undefined ? 'were' : 'was'} not found on PATH. ` +
      "The Redis tests start their own servers: install Debian's redis-server package " +
      '(apt-get install redis-server redis-tools), or run `bash .ci/run`, which installs it.',
  );
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      // A directory is "executable" too; only a file will run.
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // Not in this directory: try the next.
    }
  }
  return undefined;
}
