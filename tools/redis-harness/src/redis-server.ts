import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redisBinaries } from './binaries.js';
import { claimFreePort, reclaimPort, releasePort } from './free-port.js';
import { GiveUp, pollUntil } from './poll.js';
import { trackChild, trackTempDir, untrackTempDir } from './process-registry.js';
import { runRedisCli } from './redis-cli.js';

/**
 * - `running`: the process is up (it answered PING when it started).
 * - `paused`: stopped with SIGSTOP by `pause()`; it holds its connections but answers nothing.
 * - `exited`: killed by `kill()`, or died; its directory is kept, so `restart()` brings it back with its data.
 * - `stopped`: `stop()` ended it and removed its directory.
 */
export type RedisServerState = 'running' | 'paused' | 'exited' | 'stopped';

/** A redis-server process started by this harness, listening on 127.0.0.1 only. */
export interface RedisServer {
  /** Always `127.0.0.1`. */
  readonly host: string;
  readonly port: number;
  /** `redis://127.0.0.1:<port>`, with `:<password>@` when the server has one. */
  readonly url: string;
  /** The current process's id; `restart()` changes it. */
  readonly pid: number;
  /** The server's working directory (`--dir`), under the OS's temp directory. */
  readonly dir: string;
  /** Where the server's stdout and stderr go; kept across restarts, removed by `stop()`. */
  readonly logFile: string;
  readonly state: RedisServerState;
  /** Freezes the process with SIGSTOP: connections stay open and commands hang, as on a stalled server. */
  pause(): void;
  /** Lets a paused process run again (SIGCONT). */
  resume(): void;
  /** Ends the process with SIGKILL, as a crash would; resolves once it has exited. Keeps the directory. */
  kill(): Promise<void>;
  /**
   * Starts the server again on the same port and directory, and resolves once it answers PING. A server still
   * running is killed first; one that was stopped gets a fresh, empty directory.
   */
  restart(): Promise<void>;
  /**
   * Ends the process (SIGTERM, then SIGKILL if it is still there after 3 s) and removes its directory.
   * Resumes a paused server first. Calling it again does nothing more.
   */
  stop(): Promise<void>;
  /**
   * Runs `redis-cli` against this server and resolves with its output, trimmed; rejects on an error reply
   * (`-e`) or when there is no answer within 10 s (as on a paused server).
   *
   * @example
   * await server.cli('CONFIG', 'SET', 'maxmemory', '1mb'); // 'OK'
   */
  cli(...args: string[]): Promise<string>;
}

export interface StartRedisServerOptions {
  /**
   * More `redis-server` arguments, after the harness's own; a later `--name value` overrides an earlier one.
   * @example ['--maxmemory', '1mb', '--maxmemory-policy', 'allkeys-lru']
   */
  args?: string[];
  /** Sets `requirepass`; `cli()` and the readiness checks authenticate with it. @default no password */
  password?: string;
}

const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 3_000;
const CLI_TIMEOUT_MS = 10_000;
const PORT_ATTEMPTS = 5;
const LOG_TAIL_CHARS = 4_000;

/** How to launch one redis-server process: the harness's servers, cluster nodes and sentinels differ here. */
export interface LaunchSpec {
  /** Shown in messages: `redis-server`, `cluster node`, `sentinel`. */
  role: string;
  /** Whether port + 10000 is needed as well (a cluster node's bus). */
  clusterBus: boolean;
  password?: string | undefined;
  /** The arguments after the binary, once the port and directory are known. May write files into `dir`. */
  args(port: number, dir: string): Promise<string[]>;
}

/** The harness's standard flags: loopback only, nothing written to disk, in the foreground. */
export function standardArgs(port: number, dir: string): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    HOST,
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--protected-mode',
    'no',
    // Redis 7 waits 5 s by default before a diskless full sync, hoping more replicas will ask; a replica
    // (Sentinel, Cluster) would then take 5 s to come up.
    '--repl-diskless-sync-delay',
    '0',
  ];
}

/**
 * Starts a standalone redis-server on a free port of 127.0.0.1 and resolves once it answers PING.
 *
 * It runs with `--save "" --appendonly no` in a temporary directory of its own, and is killed if the test
 * process exits without stopping it.
 *
 * @throws Error when redis-server is not installed or does not answer within 10 s (with its log output).
 * @example
 * const server = await startRedisServer();
 * afterAll(() => server.stop());
 * const client = new Redis(server.url);
 */
export function startRedisServer(options: StartRedisServerOptions = {}): Promise<RedisServer> {
  const { args = [], password } = options;
  const passwordArgs = password === undefined ? [] : ['--requirepass', password];
  return launchRedis({
    role: 'redis-server',
    clusterBus: false,
    password,
    args: async (port, dir) => [...standardArgs(port, dir), ...passwordArgs, ...args],
  });
}

/** Starts a process as `spec` says, retrying on another port when the one picked was taken meanwhile. */
export async function launchRedis(spec: LaunchSpec): Promise<ManagedRedisServer> {
  const binaries = redisBinaries();
  const dir = await mkdtemp(join(tmpdir(), 'tiercache-redis-'));
  trackTempDir(dir);
  try {
    for (let attempt = 1; ; attempt++) {
      const port = await claimFreePort({ clusterBus: spec.clusterBus });
      const server = new ManagedRedisServer(binaries.server, spec, port, dir, await spec.args(port, dir));
      try {
        await server.launch();
        return server;
      } catch (error) {
        releasePort(port, spec.clusterBus);
        if (!(error instanceof PortTakenError) || attempt === PORT_ATTEMPTS) throw error;
      }
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    untrackTempDir(dir);
    throw error;
  }
}

/** Someone else had the port by the time redis-server bound it: `launchRedis` tries another. */
class PortTakenError extends Error {}

interface Running {
  child: ChildProcess;
  /** Resolves when the process has exited (or could not be spawned). */
  exited: Promise<void>;
  exitDescription?: string;
}

/** Internal: the class behind `RedisServer`; the cluster and Sentinel setups use `command` and `spec`. */
export class ManagedRedisServer implements RedisServer {
  readonly host = HOST;
  readonly spec: LaunchSpec;
  readonly port: number;
  readonly dir: string;
  readonly url: string;
  readonly logFile: string;
  readonly #binary: string;
  readonly #argv: readonly string[];
  #state: RedisServerState = 'exited';
  #running: Running | undefined;
  #lastPid = -1;
  #stopping: Promise<void> | undefined;

  constructor(binary: string, spec: LaunchSpec, port: number, dir: string, argv: readonly string[]) {
    this.#binary = binary;
    this.spec = spec;
    this.port = port;
    this.dir = dir;
    this.#argv = argv;
    const auth = spec.password === undefined ? '' : `:${encodeURIComponent(spec.password)}@`;
    this.url = `redis://${auth}${HOST}:${port}`;
    this.logFile = join(dir, 'redis.log');
  }

  get pid(): number {
    return this.#lastPid;
  }

  get state(): RedisServerState {
    return this.#state;
  }

  /** Spawns the process and waits for PONG from it (and not from some other process on the port). */
  async launch(): Promise<void> {
    const logStart = await fileSize(this.logFile);
    const running = this.#spawn();
    const what = `${this.spec.role} on 127.0.0.1:${this.port}`;
    try {
      await pollUntil({ description: `${what} to answer PING`, timeoutMs: START_TIMEOUT_MS }, async () => {
        if (running.exitDescription !== undefined) {
          throw new GiveUp(new Error(`${what} ${running.exitDescription} before answering PING`));
        }
        return (await this.command(['PING'], 1_000)) === 'PONG' ? true : undefined;
      });
      // Whoever answered must be the process just started, not another server that got the port first.
      const info = await this.command(['INFO', 'server'], CLI_TIMEOUT_MS);
      if (!new RegExp(`^process_id:${running.child.pid}\\s*$`, 'm').test(info)) {
        throw new PortTakenError(
          `another process answers on 127.0.0.1:${this.port}; it was not started here`,
        );
      }
      this.#state = 'running';
    } catch (error) {
      await this.#killNow(running);
      const log = await readLogTail(this.logFile, logStart);
      const reason = error instanceof Error ? error.message : String(error);
      const message = `[redis-harness] ${what} did not start: ${reason}\n--- ${this.logFile} ---\n${log}`;
      if (/Address already in use/i.test(log) || error instanceof PortTakenError) {
        throw new PortTakenError(message, { cause: error });
      }
      throw new Error(message, { cause: error });
    }
  }

  #spawn(): Running {
    const logFd = openSync(this.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(this.#binary, this.#argv, { stdio: ['ignore', logFd, logFd] });
    } finally {
      // The child has its own copy of the descriptor.
      closeSync(logFd);
    }
    const running: Running = {
      child,
      exited: new Promise((resolve) => {
        child.once('exit', (code, signal) => {
          running.exitDescription = signal === null ? `exited with code ${code}` : `was ended by ${signal}`;
          if (this.#running === running) {
            this.#running = undefined;
            if (this.#state === 'running' || this.#state === 'paused') this.#state = 'exited';
          }
          resolve();
        });
        child.once('error', (error) => {
          running.exitDescription = `could not be spawned (${error.message})`;
          if (this.#running === running) this.#running = undefined;
          resolve();
        });
      }),
    };
    if (child.pid !== undefined) {
      this.#lastPid = child.pid;
      trackChild(child);
    }
    this.#running = running;
    return running;
  }

  pause(): void {
    this.#signal('SIGSTOP', 'pause');
    this.#state = 'paused';
  }

  resume(): void {
    this.#signal('SIGCONT', 'resume');
    this.#state = 'running';
  }

  #signal(signal: NodeJS.Signals, operation: string): void {
    const running = this.#running;
    if (running === undefined) {
      throw new Error(
        `[redis-harness] cannot ${operation} ${this.spec.role} on port ${this.port}: ${this.#state}`,
      );
    }
    running.child.kill(signal);
  }

  async kill(): Promise<void> {
    const running = this.#running;
    if (running === undefined) return;
    await this.#killNow(running);
    if (this.#state !== 'stopped') this.#state = 'exited';
  }

  async #killNow(running: Running): Promise<void> {
    if (running.exitDescription === undefined) running.child.kill('SIGKILL');
    await running.exited;
  }

  async restart(): Promise<void> {
    if (this.#stopping !== undefined) {
      await this.#stopping;
      this.#stopping = undefined;
      await mkdir(this.dir, { recursive: true });
      trackTempDir(this.dir);
      reclaimPort(this.port, this.spec.clusterBus);
      // A stopped Sentinel needs its configuration file again.
      await this.spec.args(this.port, this.dir);
    } else {
      await this.kill();
    }
    await this.launch();
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const running = this.#running;
    if (running !== undefined) {
      // A stopped process would not act on SIGTERM until continued.
      running.child.kill('SIGCONT');
      running.child.kill('SIGTERM');
      const timer = setTimeout(() => running.child.kill('SIGKILL'), STOP_GRACE_MS);
      await running.exited;
      clearTimeout(timer);
    }
    this.#state = 'stopped';
    await rm(this.dir, { recursive: true, force: true });
    untrackTempDir(this.dir);
    releasePort(this.port, this.spec.clusterBus);
  }

  cli(...args: string[]): Promise<string> {
    return this.command(args, CLI_TIMEOUT_MS);
  }

  /** Runs one command through redis-cli with a time limit of the caller's choosing. */
  command(args: readonly string[], timeoutMs: number): Promise<string> {
    return runRedisCli(this.port, args, { password: this.spec.password, timeoutMs });
  }
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** The end of what the server wrote from `start` on, for an error message. */
async function readLogTail(path: string, start: number): Promise<string> {
  try {
    const file = await open(path, 'r');
    try {
      const size = (await file.stat()).size;
      const from = Math.max(start, size - LOG_TAIL_CHARS);
      const buffer = Buffer.alloc(size - from);
      await file.read(buffer, 0, buffer.length, from);
      return buffer.toString('utf8').trimEnd() || '(empty)';
    } finally {
      await file.close();
    }
  } catch (error) {
    return `(could not read the log: ${error instanceof Error ? error.message : String(error)})`;
  }
}
