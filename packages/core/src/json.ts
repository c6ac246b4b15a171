import { Err, Ok, type Result } from 'ts-results-es';
import type { OperationName } from './cache-backend.js';
import { CacheError, errorMessage } from './cache-error.js';

/** `JSON.stringify` for setJson, with the values JSON cannot carry turned into `SERIALIZATION` errors. */
export function encodeJson(
  backend: string,
  operation: OperationName,
  key: string,
  value: unknown,
): Result<string, CacheError> {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    // Circular structures and BigInt land here.
    return new Err(
      serializationError(
        backend,
        operation,
        key,
        `value cannot be written as JSON: ${errorMessage(cause)}`,
        cause,
      ),
    );
  }
  if (text === undefined) {
    return new Err(
      serializationError(
        backend,
        operation,
        key,
        `value cannot be written as JSON: ${typeof value} has no JSON form`,
      ),
    );
  }
  return new Ok(text);
}

/** `JSON.parse` for getJson; text that is not JSON is a `SERIALIZATION` error naming the key. */
export function decodeJson<T>(
  backend: string,
  operation: OperationName,
  key: string,
  text: string,
): Result<T, CacheError> {
  try {
    return new Ok(JSON.parse(text) as T);
  } catch (cause) {
    return new Err(
      serializationError(
        backend,
        operation,
        key,
        `stored value is not valid JSON (${errorMessage(cause)})`,
        cause,
      ),
    );
  }
}

function serializationError(
  backend: string,
  operation: OperationName,
  key: string,
  reason: string,
  cause?: unknown,
): CacheError {
  return new CacheError({ code: 'SERIALIZATION', backend, operation, key, reason, cause });
}
