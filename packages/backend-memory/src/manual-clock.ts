import type { Clock } from '@tiercache/core';

/** A clock that moves only when told to, for tests that check expiry without sleeping. */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms` milliseconds. */
  advance(ms: number): void;
  /** Jumps to an absolute time in epoch milliseconds; it may not go backwards. */
  set(epochMs: number): void;
}

/** 2026-01-01T00:00:00Z: a fixed start, so test output does not depend on the day it runs. */
const DEFAULT_START = Date.UTC(2026, 0, 1);

/**
 * Creates a clock for `createMemoryBackend({ clock })` or `createMemoryStore({ clock })`.
 *
 * @example
 * const clock = createManualClock();
 * const cache = createMemoryBackend({ clock });
 * await cache.set('session', 'abc', 30);
 * clock.advance(30_001);
 * (await cache.get('session')).unwrap(); // null
 */
export function createManualClock(startEpochMs: number = DEFAULT_START): ManualClock {
  if (!Number.isFinite(startEpochMs) || startEpochMs <= 0) {
    throw new RangeError(`createManualClock: start must be a positive epoch time in ms, got ${startEpochMs}`);
  }
  let now = startEpochMs;
  return {
    now: () => now,
    advance(ms) {
      if (!Number.isFinite(ms) || ms < 0) {
        throw new RangeError(`ManualClock.advance: ms must be a finite number >= 0, got ${ms}`);
      }
      now += ms;
    },
    set(epochMs) {
      if (!Number.isFinite(epochMs) || epochMs < now) {
        throw new RangeError(`ManualClock.set: time may only move forward (now ${now}, asked ${epochMs})`);
      }
      now = epochMs;
    },
  };
}
