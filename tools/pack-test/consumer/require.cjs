// CommonJS loading the ESM-only packages with require(): Node.js ^20.19.0 and >=22.12.0 can.
const { createMemoryBackend } = require('@tiercache/backend-memory');
const { Ok, CacheError } = require('@tiercache/core');
require('@tiercache/backend-redis');
require('@tiercache/backend-tiered');

const cache = createMemoryBackend();
cache
  .set('k', 'from require')
  .then(() => cache.get('k'))
  .then(async (got) => {
    await cache.close();
    console.log(JSON.stringify({ get: got.unwrap(), ok: Ok(1).unwrap(), cacheError: typeof CacheError }));
  });
