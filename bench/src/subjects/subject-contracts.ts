import type { Entries } from '../generate-entries.js';
import type { Reader } from '../measure.js';

/*
 * What each scenario asks of a subject. A subject module adapts one library to these shapes and is imported
 * only by the child process that measures it, so no other library's code is loaded beside it.
 */

/**
 * For `memory-get-hit`: makes a cache, stores every entry, and returns how to read it. `capacity` is the bound on
 * entries, for the subjects that have one.
 */
export type GetHitFactory = (entries: Entries, capacity: number) => Promise<Reader>;

/** For `memory-per-entry`: a cache to fill. */
export interface FillTarget {
  /** Stores every pair, each write done before the next, as an application would. */
  fill(keys: readonly string[], values: readonly string[]): Promise<void>;
  /** The value stored under `key`, used after the heap is measured to prove every entry is there. */
  read(key: string): Promise<string | undefined>;
}

export type FillFactory = (capacity: number) => FillTarget;
