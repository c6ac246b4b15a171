import { redisBinaries } from './binaries.js';

/**
 * Vitest `globalSetup` for the workspace: many test files start their own redis-server, so without the Redis
 * programs each of them would fail on its own (the same hint dozens of times, then errors from their
 * teardowns). Check once, before any test file runs, and stop the run with one line saying what to install.
 */
export default function checkRedisBinaries(): void {
  try {
    redisBinaries();
  } catch (error) {
    // Exiting here rather than throwing: vitest reports a failed globalSetup as a stack trace after a
    // misleading "No test files found".
    console.error(`\ntiercache's tests need Redis. ${(error as Error).message}\n`);
    process.exit(1);
  }
}
