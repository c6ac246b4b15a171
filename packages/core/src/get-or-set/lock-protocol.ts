import type { Result } from 'ts-results-es';
import type { CacheError } from '../cache-error.js';
import type { CacheDriver, LockGrant, LockRefusal } from '../driver.js';

/** Extra wait past a lock's expiry before looking again: the holder's last write may be in flight. */
const LOCK_MARGIN_MS = 20;

/** What the lock protocol needs of the flight it runs in. */
export interface LockedLoad<T> {
  /** Asks the driver, as a Result. */
  ask<R>(call: () => R | Promise<R>): Promise<Result<R, CacheError>>;
  /** The value another holder stored, if it is there now. */
  read(): Promise<T | undefined>;
  /** Loads and stores, fenced by `grant` when this process holds the lock. */
  load(grant: LockGrant | null): Promise<T>;
  /** Whether the cache was closed: then no more waiting, and no release. */
  closed(): boolean;
}

/**
 * One loader across processes: the process granted the lock loads and stores (fenced), then releases it; the
 * others wait to be woken by the change feed (or for the lock to expire) and read what was stored. A store that
 * cannot lock does not stop the load: the lock only saves work. A waiter that has waited two lock lives
 * without a value loads by itself rather than hang.
 */
export async function loadUnderLock<T>(
  driver: CacheDriver,
  key: string,
  lockTtlMs: number,
  flight: LockedLoad<T>,
): Promise<T> {
  const deadline = Date.now() + 2 * lockTtlMs;
  // A change heard while the lock was being asked for must not be lost: it may be the holder's last word.
  let changed = false;
  let wake: (() => void) | undefined;
  const stopWatching = driver.watch(key, () => {
    changed = true;
    wake?.();
  });
  try {
    for (;;) {
      changed = false;
      const asked = await flight.ask(() => driver.lock(key, lockTtlMs));
      if (asked.isErr()) return await flight.load(null);
      const lock: LockGrant | LockRefusal = asked.value;
      if (lock.held) {
        // The store granted it only because the key holds no value: load, store (fenced), release.
        try {
          return await flight.load(lock);
        } finally {
          if (!flight.closed()) void flight.ask(() => driver.unlock(key, lock));
        }
      }
      // Nothing to wait for: the value is there (stored between our miss and our ask).
      if (lock.remainingMs === 0) {
        const landed = await flight.read();
        if (landed !== undefined) return landed;
        continue;
      }
      const waitMs = Math.min(lock.remainingMs + LOCK_MARGIN_MS, deadline - Date.now());
      if (waitMs <= 0 || flight.closed()) return await flight.load(null);
      if (!changed) {
        await new Promise<void>((resolve) => {
          // A wait nobody may be listening to any more (the caller's hard timeout, close()) holds no process open.
          const timer = setTimeout(resolve, waitMs).unref();
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
      const landed = await flight.read();
      if (landed !== undefined) return landed;
    }
  } finally {
    stopWatching?.();
  }
}
