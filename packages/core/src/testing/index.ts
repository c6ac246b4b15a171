export type { ConformanceTarget } from './conformance.js';
export { describeConformance } from './conformance.js';
