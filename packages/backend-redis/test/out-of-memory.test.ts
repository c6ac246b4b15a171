import type { CacheBackend, CacheError } from '@tiercache/core';
import { fillUntilRefused, type RedisServer, startRedisServer } from '@tiercache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisBackend } from '../src/index.js';

/*
 * Redis at its maxmemory under `noeviction` refuses writes, and every transaction, reads included. Reads must go
 * on: only writes answer CAPACITY.
 */
let server: RedisServer;
let cache: CacheBackend;
let refusal: CacheError;

beforeAll(async () => {
  server = await startRedisServer({ args: ['--maxmemory', '2mb', '--maxmemory-policy', 'noeviction'] });
  cache = createRedisBackend({ url: server.url, keyPrefix: 'full:' });
  expect((await cache.set('kept', 'old')).isOk()).toBe(true);
  expect((await cache.set('brief', 'b', 600)).isOk()).toBe(true);
  refusal = await fillUntilRefused(server, async (key, value) => {
    const written = await cache.set(key, value);
    return written.isErr() ? written.error : undefined;
  });
});
afterAll(async () => {
  await cache.close();
  await server.stop();
});

describe('Redis is full (maxmemory, noeviction)', () => {
  it('writes answer CAPACITY, a transaction of writes too', async () => {
    expect(refusal.code).toBe('CAPACITY');
    const set = await cache.set('kept', 'refused');
    expect(set.isErr() && set.error.code).toBe('CAPACITY');
    const setMany = await cache.setMany({ a: '1', b: '2' }, 60);
    expect(setMany.isErr() && setMany.error.code).toBe('CAPACITY');
    expect((await cache.get('kept')).unwrap()).toBe('old');
  });

  it('get, getMany, getEntry and getEntries answer Ok', async () => {
    expect((await cache.get('kept')).unwrap()).toBe('old');
    expect([...(await cache.getMany(['kept', 'missing'])).unwrap()]).toEqual([
      ['kept', 'old'],
      ['missing', null],
    ]);
    const entry = (await cache.getEntry('brief')).unwrap();
    expect(entry?.value).toBe('b');
    expect(entry?.ttl).toBeGreaterThan(500);
    const entries = (await cache.getEntries(['kept', 'brief', 'missing'])).unwrap();
    expect(entries.get('kept')).toMatchObject({ value: 'old', ttl: null, expiresAt: null });
    expect(entries.get('brief')?.value).toBe('b');
    expect(entries.get('missing')).toBeNull();
  });
});
