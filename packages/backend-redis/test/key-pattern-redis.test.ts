import { compileKeyPattern } from '@tiercache/core';
import { type RedisServer, startRedisServer } from '@tiercache/redis-harness';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * compileKeyPattern (what the memory backend's deletePattern uses) against the real thing: the same keys are set
 * on a redis-server of our own, and for each pattern KEYS must answer exactly the keys compileKeyPattern matches.
 * The server here runs on x86-64, where Redis compares signed chars, as compileKeyPattern does.
 */

const nonAscii = ['\u0080', '©', 'é', 'ÿ', '\u07ff', '\u0800', '€', '\uffff', '🔑'];
const KEYS: string[] = [
  ...new Set([
    // k followed by every single byte below 0x80, and by characters whose UTF-8 bytes are all ≥ 0x80.
    ...Array.from({ length: 0x80 }, (_, byte) => `k${String.fromCharCode(byte)}`),
    ...nonAscii.map((char) => `k${char}`),
    ...[
      'a',
      'ab',
      'abc',
      'abd',
      'b',
      'hello',
      'hallo',
      'hbllo',
      'hllo',
      'heeeello',
      'a*b',
      'axb',
      'a\\',
      'a\\b',
    ],
    ...[
      ']',
      '[',
      '-',
      '^',
      '\\',
      'user:',
      'user:1',
      'user:2:x',
      'café',
      'cafe',
      'kk',
      'kaz',
      'xxaxxbxxc',
      'a]',
      'abx',
      '{a}x',
      '{b}a',
    ],
    'a'.repeat(999),
    'a'.repeat(1000),
    'a'.repeat(1001),
    'a'.repeat(1002),
    'ab'.repeat(1001),
  ]),
];

const nestedStars = (count: number, between: string, last = '') =>
  Array.from({ length: count }, () => `*${between}`).join('') + last;

const PATTERNS: string[] = [
  '*',
  'k?',
  'k??',
  'k[é-z]?',
  'k[a-é]?',
  '[]a]',
  'ab[^',
  '{a}*',
  'k[é-z]', // a range from a byte ≥ 0x80 (é is C3 A9: the range is A9-z) to an ASCII byte
  'k[z-é]',
  'k[a-é]',
  'k[\u0080-z]',
  'k[ÿ-\u0080]',
  'k[\u0000-é]',
  'k[é]',
  'k[^é-z]',
  'k[^é]',
  'k[€-~]',
  'k[🔑-a]',
  'k[z-a]', // a reversed range
  'k[^a-z]',
  'k[^]',
  'k[]',
  'k[',
  'k[^',
  'k[a-',
  'k[a-]', // the range a..], in a class left unclosed
  'k[\\]]',
  'k[\\]',
  'k[\\',
  'k[]]',
  'k[]a]',
  'k[\\-a]',
  'k[a\\-z]',
  'k[a-\\]',
  'k\\',
  'a\\', // a trailing backslash is a literal backslash
  'a\\\\',
  'a\\*b',
  'a\\b',
  'a*b',
  'h?llo',
  'h*llo',
  'h[ae]llo',
  'h[^e]llo',
  '*a*b*c',
  '**a',
  'user:*',
  'caf?',
  'caf??',
  'k\u0000',
  '[',
  ']',
  '\\',
  '?',
  nestedStars(1000, 'a'),
  nestedStars(1001, 'a'), // 1,001 nested stars: Redis gives up and matches nothing
  nestedStars(1000, 'a', '*'),
  nestedStars(1001, 'a', '*'),
  `a${nestedStars(1000, 'a')}`,
  `a${nestedStars(1001, '')}`,
  nestedStars(1000, '?'),
  nestedStars(1001, '?'),
  `${'a*'.repeat(1001)}`, // the 1,001st star ends the pattern, so Redis matches at once
  `${'a*'.repeat(1002)}`,
  nestedStars(1001, 'ab'),
  nestedStars(1000, 'ab', 'a'),
];

let server: RedisServer;
let redis: Redis;
beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url);
  const set = redis.pipeline();
  for (const key of KEYS) set.set(key, '1');
  await set.exec();
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

async function keysFromRedis(patterns: readonly string[]): Promise<string[][]> {
  const pipeline = redis.pipeline();
  for (const pattern of patterns) pipeline.keys(pattern);
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([error, keys]) => {
    if (error) throw error;
    return (keys as string[]).sort();
  });
}

const keysMatching = (pattern: string) => KEYS.filter(compileKeyPattern(pattern)).sort();

describe('compileKeyPattern and redis-server KEYS match the same keys', () => {
  it('all keys are stored as given', async () => {
    expect(await redis.dbsize()).toBe(KEYS.length);
  });

  it.each(
    PATTERNS.map((pattern) => [
      pattern.length > 40 ? `${pattern.slice(0, 40)}… (${pattern.length})` : pattern,
      pattern,
    ]),
  )('for %j', async (_, pattern) => {
    const [fromRedis] = await keysFromRedis([pattern]);
    expect(keysMatching(pattern)).toEqual(fromRedis);
  });

  it('for the tricky cases, Redis answers what the table tests say', async () => {
    const [range, nested, lastStar, twoBytes] = await keysFromRedis([
      'k[é-z]',
      nestedStars(1001, 'a'),
      'a*'.repeat(1001),
      'k[é-z]?',
    ]);
    for (const key of ['ka', 'k-', 'k]', 'k^', 'k\u0000', 'kz']) expect(range).toContain(key);
    for (const key of ['k{', 'k~', 'k\u007f', 'k\u0080']) expect(range).not.toContain(key);
    // © is C2 A9 and ÿ is C3 BF: their first bytes, as signed chars, lie inside A9-z.
    for (const key of ['k©', 'kÿ', 'kaz']) expect(twoBytes).toContain(key);
    expect(nested).toEqual([]);
    expect(lastStar).toEqual(['a'.repeat(1001), 'a'.repeat(1002), 'ab'.repeat(1001)]);
  });

  it('for random patterns over glob characters, ASCII and non-ASCII', async () => {
    const alphabet = [
      '*',
      '?',
      '[',
      ']',
      '^',
      '-',
      '\\',
      'a',
      'b',
      'k',
      'z',
      '{',
      '~',
      '\u0000',
      'é',
      'ÿ',
      '©',
      '€',
    ];
    const pattern = fc
      .array(fc.constantFrom(...alphabet), { minLength: 1, maxLength: 8 })
      .map((c) => c.join(''));
    await fc.assert(
      fc.asyncProperty(fc.array(pattern, { minLength: 50, maxLength: 50 }), async (patterns) => {
        const fromRedis = await keysFromRedis(patterns);
        for (const [i, p] of patterns.entries())
          expect(keysMatching(p), JSON.stringify(p)).toEqual(fromRedis[i]);
      }),
      { numRuns: 40 },
    );
  });
});
