import { createAppCache } from './app-cache.js';

// Process B: the same cache-manager setup over the same Redis. It runs what its parent asks for, one line of
// stdin at a time ("set key value" or "del key"), and answers "ok" once the call has returned.
const { cache } = createAppCache(process.env.REDIS_URL as string, process.env.PREFIX ?? '');
process.stdin.setEncoding('utf8');
let buffered = '';
process.stdin.on('data', async (chunk: string) => {
  buffered += chunk;
  let newline = buffered.indexOf('\n');
  while (newline >= 0) {
    const [command, key, value] = buffered.slice(0, newline).split(' ') as [string, string, string?];
    buffered = buffered.slice(newline + 1);
    try {
      if (command === 'set') await cache.set(key, Number(value), 60_000);
      else await cache.del(key);
      process.stdout.write('ok\n');
    } catch (error) {
      process.stdout.write(`error ${String(error)}\n`);
    }
    newline = buffered.indexOf('\n');
  }
});
process.stdin.on('end', () => void cache.disconnect());
process.stdout.write('ready\n');
