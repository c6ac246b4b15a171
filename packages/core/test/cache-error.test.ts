import { describe, expect, it } from 'vitest';
import { checkAmount, checkKey, checkTtl, readEntries } from '../src/arguments.js';
import { CacheError } from '../src/cache-error.js';
import { decodeJson, encodeJson } from '../src/json.js';

describe('CacheError', () => {
  it('names backend, operation and key in its message and keeps the cause', () => {
    const cause = new Error('socket closed');
    const error = new CacheError({
      code: 'CONNECTION',
      backend: 'redis',
      operation: 'get',
      key: 'user:1',
      reason: 'connection lost',
      cause,
    });
    expect(error.message).toBe('[tiercache:redis] get "user:1": connection lost');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('CacheError');
    expect(error.code).toBe('CONNECTION');
    expect(error.cause).toBe(cause);
  });

  it('leaves the key out of operations without one, and shortens very long keys', () => {
    expect(
      new CacheError({ code: 'TIMEOUT', backend: 'redis', operation: 'flush', reason: 'x' }).message,
    ).toBe('[tiercache:redis] flush: x');
    const long = new CacheError({
      code: 'BACKEND',
      backend: 'memory',
      operation: 'get',
      key: 'k'.repeat(500),
      reason: 'x',
    });
    expect(long.message.length).toBeLessThan(150);
    expect(long.message).toContain('(500 chars)');
    expect(long.key).toHaveLength(500);
  });
});

describe('argument checks', () => {
  it('accept good arguments without allocating an error', () => {
    expect(checkKey('memory', 'get', 'k')).toBeUndefined();
    expect(checkTtl('memory', 'set', 'k', undefined)).toBeUndefined();
    expect(checkTtl('memory', 'set', 'k', 0.001)).toBeUndefined();
    expect(checkAmount('memory', 'increment', 'k', -5)).toBeUndefined();
  });

  it('say what was wrong and what was given', () => {
    expect(checkKey('memory', 'get', 42)?.message).toBe(
      '[tiercache:memory] get: key must be a non-empty string, got number 42',
    );
    expect(checkTtl('memory', 'set', 'k', -1)?.message).toContain('got -1');
    expect(checkTtl('memory', 'expire', 'k', 0.0004, 'seconds')?.message).toContain('seconds must be');
    expect(checkAmount('memory', 'increment', 'k', 1.5)?.message).toContain('got 1.5');
  });

  it('readEntries reads Maps and plain objects and stops at the first bad entry', () => {
    expect(readEntries('memory', 'setMany', new Map([['a', '1']]))).toEqual([['a', '1']]);
    expect(readEntries('memory', 'setMany', { b: '2' })).toEqual([['b', '2']]);
    const error = readEntries('memory', 'setMany', { good: 'v', bad: 7 });
    expect(error).toBeInstanceOf(CacheError);
    expect((error as CacheError).key).toBe('bad');
    expect(readEntries('memory', 'setMany', [['a', '1']])).toBeInstanceOf(CacheError);
  });
});

describe('JSON helpers', () => {
  it('round-trip values and report what cannot be carried', () => {
    const text = encodeJson('memory', 'setJson', 'k', { a: [1, 2] });
    expect(text.unwrap()).toBe('{"a":[1,2]}');
    expect(decodeJson('memory', 'getJson', 'k', '{"a":[1,2]}').unwrap()).toEqual({ a: [1, 2] });
    const bigint = encodeJson('memory', 'setJson', 'k', 1n);
    expect(bigint.isErr() && bigint.error.code).toBe('SERIALIZATION');
    const missing = encodeJson('memory', 'setJson', 'k', undefined);
    expect(missing.isErr() && missing.error.message).toContain('undefined has no JSON form');
    const broken = decodeJson('memory', 'getJson', 'k', 'nope');
    expect(broken.isErr() && broken.error.code).toBe('SERIALIZATION');
  });
});
