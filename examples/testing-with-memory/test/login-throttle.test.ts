import { createManualClock, createMemoryBackend } from '@tiercache/backend-memory';
import { beforeEach, describe, expect, it } from 'vitest';
import { LoginThrottle } from '../src/login-throttle.js';

// The memory backend behaves as Redis does, and its manual clock lets a 15-minute window pass instantly.
describe('LoginThrottle', () => {
  let clock: ReturnType<typeof createManualClock>;
  let throttle: LoginThrottle;

  beforeEach(() => {
    clock = createManualClock();
    throttle = new LoginThrottle(createMemoryBackend({ clock }), 3, 900);
  });

  it('locks a user out after too many failures, saying when to retry', async () => {
    for (let i = 0; i < 3; i++) expect((await throttle.recordFailure('ada')).allowed).toBe(true);
    clock.advance(60_000);
    expect(await throttle.recordFailure('ada')).toEqual({ allowed: false, retryAfterSeconds: 840 });
    expect(await throttle.isLockedOut('ada')).toBe(true);
  });

  it('lets the user in again once the window has passed', async () => {
    for (let i = 0; i < 4; i++) await throttle.recordFailure('ada');
    clock.advance(900_001);
    expect(await throttle.isLockedOut('ada')).toBe(false);
    expect((await throttle.recordFailure('ada')).allowed).toBe(true);
  });

  it('a success clears the count; other users are unaffected', async () => {
    for (let i = 0; i < 4; i++) await throttle.recordFailure('ada');
    await throttle.recordFailure('grace');
    await throttle.recordSuccess('ada');
    expect(await throttle.isLockedOut('ada')).toBe(false);
    expect(await throttle.isLockedOut('grace')).toBe(false);
  });
});
