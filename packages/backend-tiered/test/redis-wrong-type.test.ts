import { createRedisBackend } from '@tiercache/backend-redis';
import { backendFixture } from '@tiercache/core/testing';
import { type RedisServer, startRedisServer } from '@tiercache/redis-harness';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTieredBackend } from '../src/index.js';

/*
 * Tiered over a Redis that holds a key as another type (a hash written by another program): it answers as the
 * Redis backend does — null for that key among several, WRONG_TYPE for a read of it alone.
 */
let server: RedisServer;
let plain: Redis;
const backends = backendFixture();
const KEY_PREFIX = 'typed:';

beforeAll(async () => {
  server = await startRedisServer();
  plain = new Redis(server.url);
  await plain.hset(`${KEY_PREFIX}hash`, 'field', 'v');
  await plain.set(`${KEY_PREFIX}text`, 't');
});
afterAll(async () => {
  plain.disconnect();
  await server.stop();
});
afterEach(backends.closeAll);

function tiered(onL2Failure: 'miss' | 'error' = 'error') {
  const l2 = createRedisBackend({ url: server.url, keyPrefix: KEY_PREFIX });
  return backends.track(createTieredBackend({ l2, onL2Failure }));
}

describe('tiered over Redis: a key of another Redis type', () => {
  it('getMany and getEntries answer it null, and the other keys all the same', async () => {
    const cache = tiered();
    expect([...(await cache.getMany(['text', 'hash', 'missing'])).unwrap()]).toEqual([
      ['text', 't'],
      ['hash', null],
      ['missing', null],
    ]);
    const entries = (await cache.getEntries(['text', 'hash', 'missing'])).unwrap();
    expect(entries.get('text')?.value).toBe('t');
    expect(entries.get('hash')).toBeNull();
    expect(entries.get('missing')).toBeNull();
  });

  it.each(['error', 'miss'] as const)(
    'get, getOrSet and getEntry of it alone answer WRONG_TYPE (onL2Failure: %s)',
    async (onL2Failure) => {
      const cache = tiered(onL2Failure);
      for (const read of [
        cache.get('hash'),
        cache.getOrSet('hash', () => 'loaded'),
        cache.getEntry('hash'),
      ]) {
        const answer = await read;
        expect(answer.isErr() && answer.error.code).toBe('WRONG_TYPE');
        expect(answer.isErr() && answer.error.message).toContain('type other than a string');
      }
      expect(await plain.type(`${KEY_PREFIX}hash`)).toBe('hash');
    },
  );
});
