import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type RedisServer, startRedisServer } from '@tiercache/redis-harness';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRedisBackend } from '../src/index.js';

/*
 * The Redis tests run twice: on ioredis 5, the backend's own dependency, and in the `ioredis-6` project on
 * ioredis 6, through an alias in vitest.config.ts. Each project says which major it means in
 * TIERCACHE_IOREDIS_MAJOR; this file fails that project if `import 'ioredis'` loads another, so that an alias
 * that stopped working cannot pass for a second run on ioredis 6.
 */

const expectedMajor = process.env.TIERCACHE_IOREDIS_MAJOR;

/** The version in the package.json of the ioredis that `import 'ioredis'` loaded in this file. */
function loadedIoredisVersion(): string {
  // ioredis is CommonJS: the module that exports this very `Redis` is in Node's module cache.
  const cache = createRequire(import.meta.url).cache;
  const loaded = Object.values(cache).find((module) => module?.exports?.Redis === Redis);
  if (loaded === undefined) throw new Error('the loaded ioredis is not among the CommonJS modules');
  for (let dir = dirname(loaded.filename); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    let read: { name?: string; version?: string } | undefined;
    try {
      read = JSON.parse(readFileSync(manifest, 'utf8'));
    } catch {
      continue;
    }
    if (read?.name === 'ioredis' && read.version !== undefined) return read.version;
  }
  throw new Error(`no ioredis package.json above ${loaded.filename}`);
}

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(() => server?.stop());

it('the project says which ioredis major it runs on', () => {
  expect(['5', '6']).toContain(expectedMajor);
});

it("`import 'ioredis'` loads the project's major", () => {
  expect(loadedIoredisVersion().split('.')[0]).toBe(expectedMajor);
});

it('the connections the backend makes speak the protocol of that major (RESP3 only from ioredis 6)', async () => {
  const cache = createRedisBackend({ url: server.url, keyPrefix: 'major:' });
  try {
    expect((await cache.set('k', 'v')).isOk()).toBe(true);
    // Every client but redis-cli, which asks: the backend's one connection.
    const clients = (await server.cli('CLIENT', 'LIST'))
      .split('\n')
      .filter((line) => line.includes(' id=') || line.startsWith('id='))
      .filter((line) => !line.includes('cmd=client|list'));
    expect(clients).toHaveLength(1);
    expect(clients[0]).toMatch(expectedMajor === '6' ? / resp=3(\s|$)/ : / resp=2(\s|$)/);
  } finally {
    await cache.close();
  }
});
