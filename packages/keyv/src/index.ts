export type {
  KeyvStoreEntry,
  KeyvStoreOptions,
  TiercacheKeyvStore,
  TiercacheKeyvStoreOpts,
} from './keyv-store.js';
export { createKeyvStore } from './keyv-store.js';
