import { createManualClock, createMemoryBackend, createMemoryStore } from '@tiercache/backend-memory';
import { describeConformance } from '@tiercache/core/testing';

// With the manual clock, as users' tests would run it: expiry without sleeping. Backends sharing one store hear
// each other's writes and announcements, as processes sharing one Redis do.
const clock = createManualClock();
const store = createMemoryStore({ clock, trackAccess: true });
describeConformance({
  name: 'memory (manual clock)',
  create: ({ keyPrefix }) => createMemoryBackend({ store, keyPrefix }),
  advanceTime: (ms) => clock.advance(ms),
  capabilities: { changeFeed: true },
});

// With the system clock, as production runs it: lru-cache's own timing path.
const realTimeStore = createMemoryStore({ maxEntries: 100_000, maxBytes: 64 * 1024 * 1024 });
describeConformance({
  name: 'memory (system clock)',
  create: ({ keyPrefix }) => createMemoryBackend({ store: realTimeStore, keyPrefix }),
  capabilities: { changeFeed: true },
});
