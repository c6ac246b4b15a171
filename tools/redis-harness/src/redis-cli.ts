import { execFile } from 'node:child_process';
import { redisBinaries } from './binaries.js';

export interface RunRedisCliOptions {
  password?: string | undefined;
  /** The command is killed, and the promise rejected, after this long. */
  timeoutMs: number;
}

/**
 * Runs `redis-cli -e -h 127.0.0.1 -p <port> ...args` and resolves with its output, trimmed. `-e` makes an error
 * reply a failure: without it redis-cli prints `ERR ...` on stdout and exits 0, so a test could not tell an
 * error from a value.
 */
export function runRedisCli(
  port: number,
  args: readonly string[],
  options: RunRedisCliOptions,
): Promise<string> {
  return runRedisCliRaw(['-e', '-h', '127.0.0.1', '-p', String(port), ...args], options);
}

/** Runs redis-cli with exactly `args`, as `--cluster create` needs (it takes its addresses as arguments). */
export function runRedisCliRaw(args: readonly string[], options: RunRedisCliOptions): Promise<string> {
  const { cli } = redisBinaries();
  // The password travels in the environment rather than `-a`, which would make redis-cli print a warning and
  // show the password in `ps`. Without one, an inherited REDISCLI_AUTH must not be sent to our servers.
  const env = { ...process.env };
  if (options.password === undefined) delete env.REDISCLI_AUTH;
  else env.REDISCLI_AUTH = options.password;
  return new Promise((resolve, reject) => {
    execFile(
      cli,
      args,
      { env, timeout: options.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve(stdout.trim());
          return;
        }
        const command = `redis-cli ${args.join(' ')}`;
        const reason = error.killed
          ? `no answer within ${options.timeoutMs} ms`
          : stderr.trim() || stdout.trim() || error.message;
        reject(new Error(`[redis-harness] ${command}: ${reason}`, { cause: error }));
      },
    );
  });
}
