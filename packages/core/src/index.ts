export {
  checkAmount,
  checkKey,
  checkKeys,
  checkPattern,
  checkTtl,
  checkValue,
  closedError,
  entriesToPairs,
  invalid,
  toMilliseconds,
} from './arguments.js';
export type {
  CacheBackend,
  CacheEntries,
  CacheEntry,
  CacheResult,
  CacheStats,
  ChangeEvent,
  ChangeFeed,
  Clock,
  GetOrSetOptions,
  KeyChange,
  OperationName,
} from './cache-backend.js';
export { OPERATION_NAMES } from './cache-backend.js';
export type { CacheErrorCode, CacheErrorDetails } from './cache-error.js';
export { CacheError } from './cache-error.js';
export { decodeJson, encodeJson } from './json.js';
export { compileKeyPattern, escapeKeyPattern } from './key-pattern.js';
export { LoadThrough, SingleFlight } from './loader.js';
export { createOperationCounts, lookupRates } from './stats.js';
