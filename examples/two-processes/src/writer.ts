import { createRedisBackend } from '@tiercache/backend-redis';
import { createTieredBackend } from '@tiercache/backend-tiered';

// The other process: a tiered cache of its own over the same Redis. It writes what its parent asks for, one
// line of stdin at a time ("key value"), and answers "ok" once the write has returned.
const cache = createTieredBackend({
  l2: createRedisBackend({ url: process.env.REDIS_URL as string, keyPrefix: process.env.PREFIX ?? '' }),
});
process.stdin.setEncoding('utf8');
let buffered = '';
process.stdin.on('data', async (chunk: string) => {
  buffered += chunk;
  let newline = buffered.indexOf('\n');
  while (newline >= 0) {
    const [key, value] = buffered.slice(0, newline).split(' ') as [string, string];
    buffered = buffered.slice(newline + 1);
    const written = await cache.set(key, value);
    process.stdout.write(written.isOk() ? 'ok\n' : `error ${written.error.message}\n`);
    newline = buffered.indexOf('\n');
  }
});
process.stdin.on('end', () => void cache.close());
process.stdout.write('ready\n');
