import { startRedisServer } from '@tiercache/redis-harness';
import { demonstrate } from './demo.js';

// Uses REDIS_URL when set (under its own key prefix, cleaned up afterwards), else a Redis started for the run.
const server = process.env.REDIS_URL ? undefined : await startRedisServer();
try {
  await demonstrate(process.env.REDIS_URL ?? (server?.url as string), (line) => console.log(line));
} finally {
  await server?.stop();
}
