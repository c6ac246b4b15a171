export type { RedisChangeFeedOptions } from './change-feed-options.js';
export { createRedisBackend } from './redis-backend.js';
export { createRedisDriver } from './redis-driver.js';
export type {
  IoredisClientLike,
  RedisBackendOptions,
  RedisDriverOptions,
  RedisReconnectOptions,
} from './redis-options.js';
