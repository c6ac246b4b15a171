import { type CacheError, decodeJson, encodeJson, Ok, type Result } from '@tiercache/core';

/**
 * How Keyv's values become tiercache strings and back.
 *
 * With its default settings Keyv hands the adapter a string (its serialized `{ value, expires }`), and that string
 * is stored as it is: the key holds the same text @keyv/redis would write, and other programs read it. With
 * `serialize: undefined` (cache-manager's own default Keyv does this) Keyv hands over the `{ value, expires }`
 * object itself and expects an object back, so such values are stored as JSON behind a tag that no string from
 * Keyv can be mistaken for: a NUL character, then `j`. A string that itself starts with NUL is tagged too (NUL,
 * `s`), so every string reads back exactly as written.
 */
const TAG = '\u0000';
const JSON_TAG = `${TAG}j`;
const STRING_TAG = `${TAG}s`;

export function encodeStoredValue(backend: string, key: string, value: unknown): Result<string, CacheError> {
  if (typeof value === 'string') return new Ok(value.startsWith(TAG) ? STRING_TAG + value : value);
  const json = encodeJson(backend, 'set', key, value);
  return json.isOk() ? new Ok(JSON_TAG + json.value) : json;
}

export function decodeStoredValue(backend: string, key: string, stored: string): Result<unknown, CacheError> {
  if (!stored.startsWith(TAG)) return new Ok(stored);
  if (stored.startsWith(JSON_TAG)) return decodeJson(backend, 'get', key, stored.slice(JSON_TAG.length));
  // STRING_TAG, or a value some other program wrote with a leading NUL: either way it is a string.
  return new Ok(stored.startsWith(STRING_TAG) ? stored.slice(STRING_TAG.length) : stored);
}
