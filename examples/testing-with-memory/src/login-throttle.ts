import type { CacheBackend } from '@tiercache/core';

/**
 * Application code under test: allows `limit` failed logins per user in a window, then locks the user out
 * until the window ends. It only knows the protocol, so production can give it Redis and tests the memory
 * backend.
 */
export class LoginThrottle {
  constructor(
    private readonly cache: CacheBackend,
    private readonly limit = 5,
    private readonly windowSeconds = 900,
  ) {}

  /** Records a failed login and says whether the user may still try. */
  async recordFailure(user: string): Promise<{ allowed: boolean; retryAfterSeconds: number | null }> {
    const key = `login-failures:${user}`;
    const failures = (await this.cache.increment(key)).unwrapOr(Number.POSITIVE_INFINITY);
    // The window starts at the first failure: only that increment sets the TTL.
    if (failures === 1) await this.cache.expire(key, this.windowSeconds);
    if (failures <= this.limit) return { allowed: true, retryAfterSeconds: null };
    const left = (await this.cache.ttl(key)).unwrapOr(null);
    return { allowed: false, retryAfterSeconds: left === null ? this.windowSeconds : Math.ceil(left) };
  }

  async isLockedOut(user: string): Promise<boolean> {
    const failures = (await this.cache.get(`login-failures:${user}`)).unwrapOr(null);
    return failures !== null && Number(failures) > this.limit;
  }

  async recordSuccess(user: string): Promise<void> {
    await this.cache.delete(`login-failures:${user}`);
  }
}
