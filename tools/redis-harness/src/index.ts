export type { RedisBinaries } from './binaries.js';
export { redisBinaries } from './binaries.js';
export { eventually } from './poll.js';
export type { RedisCluster, StartRedisClusterOptions } from './redis-cluster.js';
export { startRedisCluster } from './redis-cluster.js';
export type { RedisSentinelSetup, StartRedisSentinelOptions } from './redis-sentinel.js';
export { startRedisSentinel } from './redis-sentinel.js';
export type { RedisServer, RedisServerState, StartRedisServerOptions } from './redis-server.js';
export { startRedisServer } from './redis-server.js';
export { waitForReplication } from './replication.js';
export type { TrackingRefusingServer } from './restricted-servers.js';
export {
  commandCalls,
  connectedClients,
  fillUntilRefused,
  startRedisWithAclUser,
  TRACKING_REFUSING_SERVERS,
} from './restricted-servers.js';
export type { RedisForTests } from './use-redis-for-tests.js';
export { useRedisForTests } from './use-redis-for-tests.js';
