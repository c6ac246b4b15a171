import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type RedisServer,
  redisBinaries,
  startRedisCluster,
  startRedisSentinel,
  startRedisServer,
  useRedisForTests,
} from '@tiercache/redis-harness';
import { afterEach, describe, expect, it } from 'vitest';

// Whatever a test starts is stopped after it, even when an assertion fails half-way.
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls until `condition` holds, failing the test after `timeoutMs`. */
async function eventually(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) expect.fail(`condition still false after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function started(server: Promise<RedisServer>): Promise<RedisServer> {
  const value = await server;
  cleanups.push(() => value.stop());
  return value;
}

describe('redisBinaries', () => {
  it('finds redis-server and redis-cli on PATH', () => {
    const { server, cli } = redisBinaries();
    expect(server).toMatch(/\/redis-server$/);
    expect(cli).toMatch(/\/redis-cli$/);
  });

  it('says what is missing and how to install it when PATH has no Redis', () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(() => redisBinaries()).toThrow(
        'redis-server and redis-cli were not found on PATH. The Redis tests start their own servers: ' +
          "install Debian's redis-server package (apt-get install redis-server redis-tools), " +
          'or run `bash .ci/run`, which installs it.',
      );
    } finally {
      process.env.PATH = path;
    }
  });
});

describe('startRedisServer', () => {
  it('starts a server that answers on its own port, and stop ends the process and removes its directory', async () => {
    const server = await started(startRedisServer());
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(server.port).not.toBe(6379);
    expect(await server.cli('PING')).toBe('PONG');
    expect(await server.cli('CONFIG', 'GET', 'save')).toBe('save');
    expect(isAlive(server.pid)).toBe(true);

    await server.stop();
    expect(isAlive(server.pid)).toBe(false);
    expect(existsSync(server.dir)).toBe(false);
    expect(server.state).toBe('stopped');
    await server.stop(); // A second stop is harmless.
  });

  it('rejects an error reply from cli instead of returning it as output', async () => {
    const server = await started(startRedisServer());
    await expect(server.cli('NO-SUCH-COMMAND')).rejects.toThrow(/ERR unknown command/);
    expect(await server.cli('CONFIG', 'SET', 'maxmemory', '1mb')).toBe('OK');
  });

  it('requires the password it was given, and puts it in the url', async () => {
    const server = await started(startRedisServer({ password: 's3cret/pass' }));
    expect(server.url).toBe(`redis://:s3cret%2Fpass@127.0.0.1:${server.port}`);
    expect(await server.cli('CONFIG', 'GET', 'requirepass')).toBe('requirepass\ns3cret/pass');
  });

  it('fails with the server log when redis-server refuses its arguments, and leaves no directory', async () => {
    const failure = await startRedisServer({ args: ['--no-such-directive', 'x'] }).catch(
      (error: Error) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    const message = (failure as Error).message;
    expect(message).toMatch(/did not start/);
    expect(message).toMatch(/Bad directive or wrong number of arguments/);
    const logFile = /--- (\S+) ---/.exec(message)?.[1];
    expect(logFile).toBeDefined();
    expect(existsSync(dirname(logFile ?? '/'))).toBe(false);
  });

  it('pause leaves a command unanswered until resume', async () => {
    const server = await started(startRedisServer());
    server.pause();
    expect(server.state).toBe('paused');
    const cli = spawn(redisBinaries().cli, ['-h', '127.0.0.1', '-p', String(server.port), 'PING']);
    let output = '';
    cli.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    // 'close', not 'exit': the process may exit before its last output has been read.
    const exited = new Promise<number | null>((resolve) => cli.once('close', resolve));
    cleanups.push(async () => {
      cli.kill('SIGKILL');
    });

    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(cli.exitCode).toBeNull();
    expect(output).toBe('');

    server.resume();
    expect(await exited).toBe(0);
    expect(output.trim()).toBe('PONG');
  });

  it('kill ends the process like a crash, and restart brings it back on the same port', async () => {
    const server = await started(startRedisServer());
    const { port, pid } = server;
    await server.kill();
    expect(server.state).toBe('exited');
    expect(isAlive(pid)).toBe(false);
    await expect(server.cli('PING')).rejects.toThrow(/Connection refused/);

    await server.restart();
    expect(server.state).toBe('running');
    expect(server.port).toBe(port);
    expect(server.pid).not.toBe(pid);
    expect(await server.cli('PING')).toBe('PONG');
  });

  it('restart fails with the server log when its port was taken meanwhile', async () => {
    const server = await started(startRedisServer());
    await server.kill();
    // Hang up at once: a connection left open (redis-cli's PING) would keep squatter.close() waiting.
    const squatter = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter.listen(server.port, '127.0.0.1', resolve));
    try {
      await expect(server.restart()).rejects.toThrow(/did not start[\s\S]*Address already in use/);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
    await server.restart();
    expect(await server.cli('PING')).toBe('PONG');
  });

  it('kills a running server when the process that started it exits or is ended by a signal', async () => {
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    const harness = new URL('../src/index.ts', import.meta.url).href;
    for (const ending of ['exit', 'SIGTERM'] as const) {
      const script = `
        const { startRedisServer } = await import(${JSON.stringify(harness)});
        const server = await startRedisServer();
        console.log(server.pid + ' ' + server.dir);
        process.stdin.once('data', () => process.exit(0));
      `;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: root,
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      cleanups.push(async () => {
        child.kill('SIGKILL');
      });
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const line = await new Promise<string>((resolve, reject) => {
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes('\n')) resolve(output.trim());
        });
        child.once('close', (code) =>
          reject(new Error(`child exited with ${code} before printing: ${output}`)),
        );
      });
      const [pid, dir] = line.split(' ');
      expect(isAlive(Number(pid))).toBe(true);

      if (ending === 'SIGTERM') child.kill('SIGTERM');
      else child.stdin.write('exit\n');
      await exited;
      expect(child.signalCode).toBe(ending === 'SIGTERM' ? 'SIGTERM' : null);
      // The orphaned redis-server is reaped by init, a moment after the SIGKILL.
      await eventually(() => !isAlive(Number(pid)));
      expect(existsSync(dir ?? '')).toBe(false);
    }
  });
});

describe('startRedisCluster', () => {
  it('starts 3 masters that share all 16384 slots', async () => {
    const cluster = await startRedisCluster();
    cleanups.push(() => cluster.stop());
    expect(cluster.nodes).toHaveLength(3);
    expect(cluster.startupNodes).toEqual(cluster.nodes.map(({ port }) => ({ host: '127.0.0.1', port })));
    for (const node of cluster.nodes) {
      const info = await node.cli('CLUSTER', 'INFO');
      expect(info).toMatch(/^cluster_state:ok\s*$/m);
      expect(info).toMatch(/^cluster_slots_assigned:16384\s*$/m);
    }
    expect(await cluster.masters()).toHaveLength(3);

    // With -c, redis-cli follows MOVED: the key lands on whichever master owns its slot.
    const [first] = cluster.nodes;
    expect(await first?.cli('-c', 'SET', 'user:1', 'ada')).toBe('OK');
    expect(await first?.cli('-c', 'GET', 'user:1')).toBe('ada');
  });
});

describe('startRedisCluster with a password', () => {
  it('every node requires it, replicas sync with it, and cli() and addMaster() use it', async () => {
    const cluster = await startRedisCluster({ replicasPerMaster: 1, password: 's3cret' });
    cleanups.push(() => cluster.stop());
    for (const node of cluster.nodes) {
      expect(node.url).toBe(`redis://:s3cret@127.0.0.1:${node.port}`);
      expect(await node.cli('CONFIG', 'GET', 'requirepass')).toBe('requirepass\ns3cret');
      expect(await node.cli('CONFIG', 'GET', 'masterauth')).toBe('masterauth\ns3cret');
    }
    const [first] = cluster.nodes;
    expect(await first?.cli('-c', 'SET', 'user:1', 'ada')).toBe('OK');
    const added = await cluster.addMaster();
    expect(await added.cli('CONFIG', 'GET', 'requirepass')).toBe('requirepass\ns3cret');
  }, 90_000);
});

describe('startRedisSentinel', () => {
  it('failover promotes the replica, and the Sentinel names it as master', async () => {
    const setup = await startRedisSentinel();
    cleanups.push(() => setup.stop());
    const { master, replica } = setup;
    const [sentinel] = setup.sentinelServers;
    expect(setup.sentinels).toEqual([{ host: '127.0.0.1', port: sentinel?.port }]);
    expect(await sentinel?.cli('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'tiercache')).toBe(
      `127.0.0.1\n${master.port}`,
    );
    expect((await replica.cli('ROLE')).split('\n')[0]).toBe('slave');

    await setup.failover();

    expect((await replica.cli('ROLE')).split('\n')[0]).toBe('master');
    expect(await sentinel?.cli('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'tiercache')).toBe(
      `127.0.0.1\n${replica.port}`,
    );
    expect(setup.master).toBe(replica);
    expect(setup.replica).toBe(master);
  });
});

describe('useRedisForTests', () => {
  it('uses REDIS_URL when it is set, and starts no server of its own', async () => {
    const previous = process.env.REDIS_URL;
    // Nothing connects to this address: the harness only hands it back.
    process.env.REDIS_URL = 'redis://127.0.0.1:1/';
    try {
      const redis = await useRedisForTests();
      expect(redis.url).toBe('redis://127.0.0.1:1/');
      expect(redis.server).toBeUndefined();
      await redis.stop();
    } finally {
      if (previous === undefined) delete process.env.REDIS_URL;
      else process.env.REDIS_URL = previous;
    }
  });

  it('starts a server of its own when REDIS_URL is not set', async () => {
    const previous = process.env.REDIS_URL;
    delete process.env.REDIS_URL;
    try {
      const redis = await useRedisForTests();
      cleanups.push(() => redis.stop());
      expect(redis.url).toBe(`redis://127.0.0.1:${redis.server?.port}`);
      expect(await redis.server?.cli('PING')).toBe('PONG');
      const pid = redis.server?.pid ?? -1;
      await redis.stop();
      expect(isAlive(pid)).toBe(false);
    } finally {
      if (previous !== undefined) process.env.REDIS_URL = previous;
    }
  });
});
