import type { CacheBackend } from '@tiercache/core';
import { type RedisServer, startRedisServer } from '@tiercache/redis-harness';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisBackend } from '../src/index.js';

/*
 * A key that Redis holds as another type (a hash written by another program): a read of several keys answers it
 * null, as MGET does, and a read of it alone fails WRONG_TYPE, as GET does.
 */
let server: RedisServer;
let plain: Redis;
let cache: CacheBackend;

beforeAll(async () => {
  server = await startRedisServer();
  plain = new Redis(server.url);
  cache = createRedisBackend({ url: server.url, keyPrefix: 'typed:' });
  await plain.hset('typed:hash', 'field', 'v');
  await plain.set('typed:text', 't');
});
afterAll(async () => {
  await cache.close();
  plain.disconnect();
  await server.stop();
});

describe('a key of another Redis type', () => {
  it('getMany and getEntries answer it null, and the other keys all the same', async () => {
    expect([...(await cache.getMany(['text', 'hash', 'missing'])).unwrap()]).toEqual([
      ['text', 't'],
      ['hash', null],
      ['missing', null],
    ]);
    const entries = (await cache.getEntries(['text', 'hash', 'missing'])).unwrap();
    expect(entries.get('text')?.value).toBe('t');
    expect(entries.get('hash')).toBeNull();
    expect(entries.get('missing')).toBeNull();
    expect((await cache.getEntries(['hash'])).unwrap().get('hash')).toBeNull();
  });

  it('get and getEntry of it alone answer WRONG_TYPE', async () => {
    for (const read of [cache.get('hash'), cache.getEntry('hash')]) {
      const answer = await read;
      expect(answer.isErr() && answer.error.code).toBe('WRONG_TYPE');
      expect(answer.isErr() && answer.error.message).toContain('type other than a string');
    }
  });
});
