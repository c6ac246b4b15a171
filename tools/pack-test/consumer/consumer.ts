// A program as a user writes it against the published packages: type-checked under `moduleResolution`
// `node16` and `bundler`, then compiled and run by tools/pack-test/test/pack.test.ts.
import { createMemoryBackend } from '@tiercache/backend-memory';
import { createRedisBackend } from '@tiercache/backend-redis';
import { createTieredBackend } from '@tiercache/backend-tiered';
import { type CacheBackend, CacheError, Err, Ok, type Result } from '@tiercache/core';

const cache: CacheBackend = createMemoryBackend({ maxEntries: 100 });

const set: Result<void, CacheError> = await cache.set('greeting', 'hello', 60);
const get: Result<string | null, CacheError> = await cache.get('greeting');
let loads = 0;
const loader = async (): Promise<string> => {
  loads += 1;
  return 'loaded once';
};
const first = await cache.getOrSet('user:1', loader, { ttl: 30 });
const second = await cache.getOrSet('user:1', loader);
const miss = await cache.get('missing');
const invalid = await cache.set('', 'empty keys are refused');
const made: Result<number, string> = Ok(1);
const refused: Result<number, string> = Err('refused');
await cache.close();

console.log(
  JSON.stringify({
    set: set.isOk(),
    get: get.unwrap(),
    first: first.unwrap(),
    second: second.unwrap(),
    loads,
    miss: miss.unwrap(),
    invalid: invalid.isErr() && invalid.error instanceof CacheError ? invalid.error.code : 'accepted',
    made: made.unwrap(),
    refused: refused.isErr() ? refused.error : 'ok',
    factories: [typeof createRedisBackend, typeof createTieredBackend],
  }),
);
