/*
 * `@tiercache/core/testing`: the conformance suite and small test helpers. It needs vitest, never fast-check:
 * the fast-check arbitraries are in `@tiercache/core/testing/operations`.
 */
export type { ConformanceCapabilities, ConformanceTarget } from './conformance.js';
export { describeConformance } from './conformance.js';
export type { BackendFixture, BackendFixtureOptions, ChangeRecorder } from './helpers.js';
export { backendFixture, expectErr, expectOk, listenToChanges, publishedDuring } from './helpers.js';
