export type { BreakerState, CircuitBreakerOptions } from './circuit-breaker.js';
export type { CoherenceChoice } from './coherence.js';
export type { TieredBackendOptions } from './tiered-backend.js';
export { createTieredBackend } from './tiered-backend.js';
