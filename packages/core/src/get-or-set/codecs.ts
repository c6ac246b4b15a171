import { Err, Ok, type Result } from 'ts-results-es';
import { describe } from '../arguments.js';
import type { OperationName } from '../cache-backend.js';
import { CacheError } from '../cache-error.js';
import { decodeJson, encodeJson } from '../json.js';

/** How a getOrSet form turns its loader's values into stored text, and stored text into answers. */
export interface Codec<T> {
  /** The text to store for a loaded value; `Err` when it cannot be stored (and then nothing is). */
  encode(backend: string, operation: OperationName, key: string, value: unknown): Result<string, CacheError>;
  decode(backend: string, operation: OperationName, key: string, text: string): Result<T, CacheError>;
}

/** getOrSet and getOrSetMany: strings, stored as they are. */
export const TEXT: Codec<string> = {
  encode(backend, operation, key, value) {
    if (typeof value === 'string') return new Ok(value);
    const reason = `loader returned ${describe(value)}; ${operation} stores strings (use ${operation}Json for other values)`;
    return new Err(new CacheError({ code: 'LOADER', backend, operation, key, reason }));
  },
  decode: (_backend, _operation, _key, text) => new Ok(text),
};

/** getOrSetJson and getOrSetManyJson: any value JSON carries, stored as plain JSON text. */
export const JSON_TEXT: Codec<unknown> = {
  encode: encodeJson,
  decode: decodeJson,
};
