import type { CacheBackend } from '@tiercache/core';
import {
  type RedisCluster,
  type RedisServer,
  startRedisCluster,
  startRedisServer,
} from '@tiercache/redis-harness';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisBackend } from '../src/index.js';

/*
 * Credentials Redis refuses answer at once, naming them, instead of a wait for a connection that will never be
 * made; a command the ACL does not permit names the permission.
 */
const COMMAND_TIMEOUT_MS = 5000;
/** Well under the command timeout, and generous for a loaded machine. */
const AT_ONCE_MS = 1000;

let server: RedisServer;
const opened: CacheBackend[] = [];

beforeAll(async () => {
  server = await startRedisServer({ password: 'right' });
  await server.cli('ACL', 'SETUSER', 'app', 'on', '>app-secret', '~*', '&*', '+@all');
  await server.cli('ACL', 'SETUSER', 'no-get', 'on', '>no-get-secret', '~*', '&*', '+@all', '-get');
});
afterAll(() => server.stop());
afterEach(async () => {
  await Promise.all(opened.splice(0).map((cache) => cache.close()));
});

function backendAt(credentials: string): CacheBackend {
  const url = `redis://${credentials}127.0.0.1:${server.port}`;
  const cache = createRedisBackend({ url, commandTimeout: COMMAND_TIMEOUT_MS });
  opened.push(cache);
  return cache;
}

/** Runs `read` twice (the first call waits for the first connection, the second does not) and times each. */
async function timedTwice(cache: CacheBackend) {
  const answers = [];
  for (let i = 0; i < 2; i++) {
    const started = performance.now();
    const answer = await cache.get('k');
    answers.push({ answer, elapsedMs: performance.now() - started });
  }
  return answers;
}

describe('credentials Redis refuses', () => {
  it.each([
    ['a wrong password (requirepass)', ':wrong@', 'WRONGPASS'],
    ['no password to a server that wants one', '', 'NOAUTH'],
    ['an ACL user with a wrong password', 'app:wrong@', 'WRONGPASS'],
    ['an ACL user that does not exist', 'nobody:app-secret@', 'WRONGPASS'],
  ])('%s answers CONNECTION at once, naming the credentials', async (_, credentials, reply) => {
    for (const { answer, elapsedMs } of await timedTwice(backendAt(credentials))) {
      expect(answer.isErr() && answer.error.code).toBe('CONNECTION');
      expect(answer.isErr() && answer.error.message).toContain('Redis refused the credentials');
      expect(answer.isErr() && answer.error.message).toContain(reply);
      expect(elapsedMs).toBeLessThan(AT_ONCE_MS);
    }
  });

  it('the right ones connect', async () => {
    for (const credentials of [':right@', 'app:app-secret@']) {
      expect((await backendAt(credentials).get('k')).unwrap()).toBeNull();
    }
  });
});

describe('credentials a Redis Cluster refuses', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster({ password: 'right' });
  }, 90_000);
  afterAll(() => cluster.stop());

  function clusterBackend(password: string | undefined): CacheBackend {
    const cache = createRedisBackend({
      cluster: { nodes: cluster.startupNodes, options: { redisOptions: { password } } },
      commandTimeout: COMMAND_TIMEOUT_MS,
    });
    opened.push(cache);
    return cache;
  }

  it.each([
    ['a wrong password', 'wrong', 'WRONGPASS'],
    ['no password', undefined, 'NOAUTH'],
  ])('%s answers CONNECTION at once, naming the credentials', async (_, password, reply) => {
    for (const { answer, elapsedMs } of await timedTwice(clusterBackend(password))) {
      expect(answer.isErr() && answer.error.code).toBe('CONNECTION');
      expect(answer.isErr() && answer.error.message).toContain('Redis refused the credentials');
      expect(answer.isErr() && answer.error.message).toContain(reply);
      expect(elapsedMs).toBeLessThan(AT_ONCE_MS);
    }
  });

  it('the right one connects', async () => {
    expect((await clusterBackend('right').get('k')).unwrap()).toBeNull();
  });
});

describe('a command the ACL does not permit', () => {
  it('answers BACKEND naming the permission, and the permitted ones go on', async () => {
    const cache = backendAt('no-get:no-get-secret@');
    expect((await cache.set('k', 'v')).isOk()).toBe(true);
    const refused = await cache.get('k');
    expect(refused.isErr() && refused.error.code).toBe('BACKEND');
    expect(refused.isErr() && refused.error.message).toContain(
      "ACL does not permit this to the backend's user",
    );
    expect(refused.isErr() && refused.error.message).toMatch(/NOPERM .*'get'/);
    expect((await cache.getMany(['k'])).unwrap().get('k')).toBe('v');
  });
});
