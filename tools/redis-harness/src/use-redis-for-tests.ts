import { type RedisServer, startRedisServer } from './redis-server.js';

/** A Redis for a test file: either the one `REDIS_URL` names, or one started for the purpose. */
export interface RedisForTests {
  url: string;
  /**
   * The server, when the harness started it (and so a test may pause or kill it); `undefined` with
   * `REDIS_URL`.
   */
  server: RedisServer | undefined;
  /** Stops the server the harness started; does nothing for a `REDIS_URL` server, which is not ours. */
  stop(): Promise<void>;
}

/**
 * Gives a test file a Redis: the server in `REDIS_URL` when that is set (never stopped or flushed here: it
 * is not ours), otherwise a fresh `startRedisServer()`.
 *
 * @example
 * const redis = await useRedisForTests();
 * afterAll(() => redis.stop());
 */
export async function useRedisForTests(): Promise<RedisForTests> {
  const url = process.env.REDIS_URL;
  if (url !== undefined && url !== '') {
    return { url, server: undefined, stop: async () => {} };
  }
  const server = await startRedisServer();
  return { url: server.url, server, stop: () => server.stop() };
}
