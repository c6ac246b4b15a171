export type { ConformanceTarget } from './conformance.js';
export { describeConformance } from './conformance.js';
export type { CacheOperation, OperationArbitraryOptions } from './operations.js';
export { applyOperation, cacheOperationArbitrary } from './operations.js';
