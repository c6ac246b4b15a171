export type { RedisChangeFeedOptions } from './change-feed.js';
export type { RedisBackendOptions, RedisReconnectOptions } from './redis-backend.js';
export { createRedisBackend } from './redis-backend.js';
