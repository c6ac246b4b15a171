export type { ManualClock } from './manual-clock.js';
export { createManualClock } from './manual-clock.js';
export type { MemoryBackendOptions } from './memory-backend.js';
export { createMemoryBackend } from './memory-backend.js';
export type { MemoryDriverOptions } from './memory-driver.js';
export { createMemoryDriver } from './memory-driver.js';
export type { MemoryStore, MemoryStoreOptions } from './memory-store.js';
export { createMemoryStore } from './memory-store.js';
