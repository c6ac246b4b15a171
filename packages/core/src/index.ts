export { Err, Ok, type Result } from 'ts-results-es';
export {
  checkAmount,
  checkKey,
  checkPattern,
  checkTtl,
  checkValue,
  closedError,
  invalid,
  readEntries,
  readKeyChange,
  readKeys,
  toMilliseconds,
} from './arguments.js';
export type { CacheOptions } from './cache.js';
export { createCache, driverOf } from './cache.js';
export type {
  CacheBackend,
  CacheEntries,
  CacheEntry,
  CacheResult,
  CacheStats,
  ChangeEvent,
  ChangeFeed,
  Clock,
  CoherenceMode,
  CountKeysOptions,
  FeedHearing,
  FeedSubscribeOptions,
  GetOrSetDefaults,
  GetOrSetOptions,
  KeyChange,
  KeyCount,
  LoadedValues,
  OperationName,
} from './cache-backend.js';
export { OPERATION_NAMES } from './cache-backend.js';
export type { CacheErrorCode, CacheErrorDetails } from './cache-error.js';
export { CacheError, errorMessage, isTransient } from './cache-error.js';
export type { CompanionRole } from './companion-keys.js';
export { companionKey, decodeGraceCopy, encodeGraceCopy, keySlot, watchKey } from './companion-keys.js';
export type {
  Awaitable,
  CacheDriver,
  DriverAnswer,
  DriverStats,
  EntryReply,
  GraceCopy,
  LoadedEntry,
  LocalDriver,
  LockGrant,
  LockRefusal,
  TierStats,
} from './driver.js';
export { DriverError, StaleCopy, toCacheError, toDriverError } from './driver.js';
export { decodeJson, encodeJson } from './json.js';
export { compileKeyPattern, escapeKeyPattern, isPortableKeyPattern } from './key-pattern.js';
export type { CacheLogger } from './logger.js';
export { silentLogger } from './logger.js';
export type { BackendEvent, OperationMessage, Tier } from './observability.js';
export { EVENT_CHANNEL, OPERATION_CHANNEL, publishEvent } from './observability.js';
export { SingleFlight } from './single-flight.js';
export type { KeyTally } from './stats.js';
export { lookupRates, toKeyCount } from './stats.js';
export { withTimeout } from './timeout.js';
