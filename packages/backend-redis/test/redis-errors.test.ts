import { describe, expect, it } from 'vitest';
import { classify, credentialsRefusalIn } from '../src/redis-errors.js';

// What ioredis and Redis actually reject with (messages seen in the fault tests), and the codes they must map to.
describe('Redis failures get stable codes', () => {
  it.each([
    ['Command timed out', 'TIMEOUT'],
    ['Connection is closed.', 'CONNECTION'],
    ["Stream isn't writeable and enableOfflineQueue options is false", 'CONNECTION'],
    [
      'Reached the max retries per request limit (which is 0). Refer to "maxRetriesPerRequest" option for details.',
      'CONNECTION',
    ],
    ['connect ECONNREFUSED 127.0.0.1:6390', 'CONNECTION'],
    ['read ECONNRESET', 'CONNECTION'],
    ['write EPIPE', 'CONNECTION'],
    ['WRONGTYPE Operation against a key holding the wrong kind of value', 'WRONG_TYPE'],
    ['ERR value is not an integer or out of range', 'WRONG_TYPE'],
    ['ERR increment or decrement would overflow', 'OUT_OF_RANGE'],
    ["OOM command not allowed when used memory > 'maxmemory'.", 'CAPACITY'],
    ["READONLY You can't write against a read only replica.", 'BACKEND'],
    ['ERR unknown command', 'BACKEND'],
  ])('%s → %s', (message, code) => {
    expect(classify(new Error(message), 100).code).toBe(code);
  });

  it('reads the cause of a refused transaction from its first error', () => {
    const aborted = Object.assign(new Error('EXECABORT Transaction discarded because of previous errors.'), {
      previousErrors: [new Error("OOM command not allowed when used memory > 'maxmemory'.")],
    });
    const failure = classify(aborted, 100);
    expect(failure.code).toBe('CAPACITY');
    // The error ioredis gave is kept as the cause, for the CacheError the front builds.
    expect(failure.cause).toBe(aborted);
  });

  it("finds a refusal of the credentials in a Cluster's error, which wraps what its nodes said", () => {
    const wrongPass = new Error('WRONGPASS invalid username-password pair or user is disabled.');
    const allFailed = Object.assign(new Error('Failed to refresh slots cache.'), {
      lastNodeError: wrongPass,
    });
    expect(credentialsRefusalIn(allFailed)).toBe(wrongPass);
    expect(credentialsRefusalIn(wrongPass)).toBe(wrongPass);
    const unreachable = Object.assign(new Error('Failed to refresh slots cache.'), {
      lastNodeError: new Error('connect ECONNREFUSED 127.0.0.1:1'),
    });
    expect(credentialsRefusalIn(unreachable)).toBeUndefined();
  });
});
