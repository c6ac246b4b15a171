import { createRequire } from 'node:module';
import fc from 'fast-check';
import { Decoder } from 'ioredis-6/built/resp/decoder.js';
import { describe, expect, it } from 'vitest';
import { type DirectReply, ReplyReader, type ReplyRoute } from '../src/reply-reader.js';

/*
 * The reader in front of a real RESP parser — redis-parser, ioredis 5's own, in the Buffers mode ioredis runs
 * it in — over random replies cut into random chunks: every reply must come out once, in order, equal to what
 * the parser alone makes of the same bytes; and the reader must decode exactly the DirectCommands' replies
 * of the shape their command expects, whether whole in one chunk or cut across several.
 */

interface RedisParser {
  execute(bytes: Buffer): void;
}
type ParserOptions = {
  returnBuffers: boolean;
  returnReply(reply: unknown): void;
  returnError(error: Error): void;
};
const Parser = createRequire(import.meta.url)('redis-parser') as new (options: ParserOptions) => RedisParser;

/** A reply on the wire, and the command waiting for it: a DirectCommand expecting a shape, or another (-1). */
interface Reply {
  expected: number;
  bytes: Buffer;
  /** Decodable by the reader: a DirectCommand's reply of the shape it expects. */
  decodable: boolean;
}

const bulk = (text: string | null) =>
  text === null ? '$-1\r\n' : `$${Buffer.byteLength(text)}\r\n${text}\r\n`;

/** Values with the bytes that could confuse a reader: CRLF, digits, type bytes, multi-byte UTF-8. */
const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.constantFrom('', '\r\n', '$3\r\n', '*2\r\n', 'é€😀', '+OK'),
  fc.string({ minLength: 200, maxLength: 600 }),
);
const nullable = fc.option(text, { nil: null });

/** Any RESP2 value, for commands that are not DirectCommands (scripts, DEL, INFO, errors). */
const anyValue: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    nullable.map(bulk),
    fc.integer().map((n) => `:${n}\r\n`),
    fc.constantFrom(
      '+OK\r\n',
      '+QUEUED\r\n',
      '-ERR wrong\r\n',
      '-WRONGTYPE Operation\r\n',
      '*-1\r\n',
      '*0\r\n',
    ),
    fc.array(tie('value'), { maxLength: 4 }).map((items) => `*${items.length}\r\n${items.join('')}`),
  ),
})).value;

const reply: fc.Arbitrary<Reply> = fc.oneof(
  // GET: text or null.
  nullable.map((value) => ({ expected: 0, bytes: Buffer.from(bulk(value)), decodable: true })),
  // SET: OK, or null for NX/XX.
  fc
    .constantFrom('+OK\r\n', '$-1\r\n')
    .map((wire) => ({ expected: 0, bytes: Buffer.from(wire), decodable: true })),
  // MGET of n keys.
  fc.array(nullable, { minLength: 1, maxLength: 6 }).map((values) => ({
    expected: values.length,
    bytes: Buffer.from(`*${values.length}\r\n${values.map(bulk).join('')}`),
    decodable: true,
  })),
  // A DirectCommand answered with an error: ioredis decides what it means.
  fc.constantFrom('-ERR max\r\n', '-WRONGTYPE Operation against a key\r\n').map((wire) => ({
    expected: 0,
    bytes: Buffer.from(wire),
    decodable: false,
  })),
  // A reply not of the shape its command expects: never decoded, whatever it holds.
  fc.array(nullable, { maxLength: 3 }).map((values) => ({
    expected: values.length + 1,
    bytes: Buffer.from(`*${values.length}\r\n${values.map(bulk).join('')}`),
    decodable: false,
  })),
  fc.integer().map((n) => ({ expected: 2, bytes: Buffer.from(`:${n}\r\n`), decodable: false })),
  // Every other command's reply.
  anyValue.map((wire) => ({ expected: -1, bytes: Buffer.from(wire), decodable: false })),
);

/** Replies as callers take them: text for Buffers, errors as their messages. */
function plain(value: unknown): unknown {
  if (value instanceof Buffer) return value.toString();
  if (value instanceof Error) return `error: ${value.message}`;
  if (Array.isArray(value)) return value.map(plain);
  return value;
}

/** Parses the whole stream with the parser alone: what every reply must come out as. */
function parsedAlone(wire: Buffer): unknown[] {
  const out: unknown[] = [];
  const parser = new Parser({
    returnBuffers: true,
    returnReply: (value) => out.push(plain(value)),
    returnError: (error) => out.push(plain(error)),
  });
  parser.execute(wire);
  return out;
}

/** Feeds the chunks through a reader in front of the parser: each reply, and who answered it. */
function readThrough(replies: readonly Reply[], chunks: readonly Buffer[]) {
  const answered: Array<{ by: 'reader' | 'parser'; value: unknown }> = [];
  let next = 0;
  const parser = new Parser({
    returnBuffers: true,
    returnReply: (value) => {
      answered.push({ by: 'parser', value: plain(value) });
      next++;
    },
    returnError: (error) => {
      answered.push({ by: 'parser', value: plain(error) });
      next++;
    },
  });
  const route: ReplyRoute = {
    nextDirect: () => replies[next]?.expected ?? -1,
    answerNext: (value: DirectReply) => {
      answered.push({ by: 'reader', value });
      next++;
    },
    passOn: (bytes) => parser.execute(bytes),
  };
  const reader = new ReplyReader(route);
  for (const chunk of chunks) reader.read(chunk);
  return answered;
}

/** Cuts `wire` at the given offsets (any order, duplicates and out-of-range ones ignored). */
function cut(wire: Buffer, at: readonly number[]): Buffer[] {
  const offsets = [...new Set(at.filter((offset) => offset > 0 && offset < wire.length))].sort(
    (a, b) => a - b,
  );
  const chunks: Buffer[] = [];
  let start = 0;
  for (const offset of [...offsets, wire.length]) {
    chunks.push(wire.subarray(start, offset));
    start = offset;
  }
  return chunks;
}

describe('ReplyReader', () => {
  it('answers every reply once, in order, as the parser alone would, however the bytes are cut', () => {
    fc.assert(
      fc.property(
        fc.array(reply, { minLength: 1, maxLength: 30 }),
        fc.array(fc.nat({ max: 4000 }), { maxLength: 25 }),
        (replies, cuts) => {
          const wire = Buffer.concat(replies.map((r) => r.bytes));
          const chunks = cut(wire, cuts);
          const answered = readThrough(replies, chunks);
          expect(answered.map((a) => a.value)).toEqual(parsedAlone(wire));
          // Who answered: the reader exactly the decodable replies, cut or not.
          expect(answered.map((a) => a.by)).toEqual(replies.map((r) => (r.decodable ? 'reader' : 'parser')));
        },
      ),
      { numRuns: 400 },
    );
  });

  it("over RESP3, as ioredis 6 speaks it, agrees with ioredis 6's own decoder, pushes answering no command", () => {
    const resp3Value: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        anyValue,
        fc.constantFrom('_\r\n', ',1.5\r\n', '#t\r\n', '(12345678901234567890\r\n', '!5\r\nERR x\r\n'),
        text.map((value) => `=${Buffer.byteLength(value) + 4}\r\ntxt:${value}\r\n`),
        fc.array(tie('value'), { maxLength: 3 }).map((items) => `~${items.length}\r\n${items.join('')}`),
        fc
          .array(fc.tuple(text, tie('value')), { maxLength: 3 })
          .map((entries) => `%${entries.length}\r\n${entries.map(([k, v]) => bulk(k) + v).join('')}`),
      ),
    })).value;
    /** A reply, or a push (`expected` null) that answers no command. */
    const resp3Reply: fc.Arbitrary<Omit<Reply, 'expected'> & { expected: number | null }> = fc.oneof(
      nullable.map((value) => ({
        expected: 0,
        bytes: Buffer.from(value === null ? '_\r\n' : bulk(value)),
        decodable: true,
      })),
      fc.array(nullable, { minLength: 1, maxLength: 6 }).map((values) => ({
        expected: values.length,
        bytes: Buffer.from(
          `*${values.length}\r\n${values.map((v) => (v === null ? '_\r\n' : bulk(v))).join('')}`,
        ),
        decodable: true,
      })),
      resp3Value.map((wire) => ({ expected: -1, bytes: Buffer.from(wire), decodable: false })),
      fc.array(text, { minLength: 1, maxLength: 3 }).map((items) => ({
        expected: null,
        bytes: Buffer.from(`>${items.length + 1}\r\n${bulk('invalidate')}${items.map(bulk).join('')}`),
        decodable: false,
      })),
    );
    const decoderOf = (out: unknown[], onAnswer: () => void) =>
      new Decoder({
        getTypeMapping: () => ({}),
        onReply: (value: unknown) => {
          out.push(value);
          onAnswer();
        },
        onErrorReply: (error: Error) => {
          out.push(`error: ${error.message}`);
          onAnswer();
        },
        onPush: (value: unknown) => out.push({ push: value }),
      });
    fc.assert(
      fc.property(
        fc.array(resp3Reply, { minLength: 1, maxLength: 25 }),
        fc.array(fc.nat({ max: 3000 }), { maxLength: 20 }),
        (replies, cuts) => {
          const wire = Buffer.concat(replies.map((r) => r.bytes));
          const alone: unknown[] = [];
          decoderOf(alone, () => {}).write(wire);
          // The commands waiting, in order: pushes take none.
          const queue = replies.filter((r) => r.expected !== null);
          let next = 0;
          const through: unknown[] = [];
          let byReader = 0;
          const decoder = decoderOf(through, () => next++);
          const reader = new ReplyReader({
            nextDirect: () => queue[next]?.expected ?? -1,
            answerNext: (value) => {
              through.push(value);
              byReader++;
              next++;
            },
            passOn: (bytes) => decoder.write(bytes),
          });
          for (const chunk of cut(wire, cuts)) reader.read(chunk);
          expect(through).toEqual(alone);
          expect(next).toBe(queue.length);
          // Every reply the reader can decode is decoded by it, however it was cut.
          expect(byReader).toBe(replies.filter((r) => r.decodable).length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('decodes a value cut across several chunks itself, and one of several megabytes through the parser', () => {
    const big = 'é'.repeat(1_500_000);
    const fair = 'ü'.repeat(100_000);
    const replies: Reply[] = [
      { expected: 0, bytes: Buffer.from(bulk('small')), decodable: true },
      { expected: 0, bytes: Buffer.from(bulk(big)), decodable: true },
      { expected: 2, bytes: Buffer.from(`*2\r\n${bulk('a')}${bulk(fair)}`), decodable: true },
      { expected: 0, bytes: Buffer.from(bulk(fair)), decodable: true },
    ];
    const wire = Buffer.concat(replies.map((r) => r.bytes));
    const chunks = cut(
      wire,
      Array.from({ length: Math.ceil(wire.length / 65_536) }, (_, i) => (i + 1) * 65_536),
    );
    const answered = readThrough(replies, chunks);
    expect(answered.map((a) => a.by)).toEqual(['reader', 'parser', 'reader', 'reader']);
    expect(answered[1]?.value).toBe(big);
    expect(answered[2]?.value).toEqual(['a', fair]);
    expect(answered[3]?.value).toBe(fair);
  });

  it('stops at a type it does not know and passes everything on from there, untouched', () => {
    const passed: Buffer[] = [];
    const answered: DirectReply[] = [];
    const reader = new ReplyReader({
      nextDirect: () => 0,
      answerNext: (value) => answered.push(value),
      passOn: (bytes) => passed.push(Buffer.from(bytes)),
    });
    // A RESP3 attribute before a reply, then replies the reader would otherwise decode.
    reader.read(Buffer.from(`${bulk('first')}|1\r\n+key\r\n:1\r\n${bulk('after')}`));
    reader.read(Buffer.from(bulk('later')));
    expect(answered).toEqual(['first']);
    expect(Buffer.concat(passed).toString()).toBe(`|1\r\n+key\r\n:1\r\n${bulk('after')}${bulk('later')}`);
  });

  it('stops at a streamed string, cut before its header ends or not, and passes everything on from there', () => {
    const streamed = `$?\r\n;4\r\nHell\r\n;0\r\n${bulk('after')}`;
    for (const chunks of [[streamed], ['$', streamed.slice(1)]]) {
      const passed: Buffer[] = [];
      const answered: DirectReply[] = [];
      const reader = new ReplyReader({
        nextDirect: () => -1,
        answerNext: (value) => answered.push(value),
        passOn: (bytes) => passed.push(Buffer.from(bytes)),
      });
      for (const chunk of chunks) reader.read(Buffer.from(chunk));
      reader.read(Buffer.from(bulk('later')));
      expect(answered).toEqual([]);
      // Each chunk as it came: the reader no longer cuts them at replies' ends it cannot find.
      expect(passed.map(String)).toEqual([...chunks, bulk('later')]);
    }
  });

  it('follows RESP3 aggregates, nulls and pushes passed on, to decode the replies after them', () => {
    const passed: string[] = [];
    const answered: DirectReply[] = [];
    // What the commands in the queue expect: two of ioredis's own, a GET and an MGET of 3.
    const pending = [-1, -1, 0, 3];
    const reader = new ReplyReader({
      nextDirect: () => pending[0] ?? -1,
      answerNext: (value) => {
        answered.push(value);
        pending.shift();
      },
      passOn: (bytes) => {
        const text = bytes.toString();
        passed.push(text);
        // A push answers no command: ioredis 6 hands it to its pub/sub handling.
        if (!text.startsWith('>')) pending.shift();
      },
    });
    const map = '%2\r\n+a\r\n:1\r\n+b\r\n~2\r\n,1.5\r\n#t\r\n';
    const push = '>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n=7\r\ntxt:hey\r\n';
    reader.read(Buffer.from(`${map}${push}_\r\n${push}${bulk('mine')}*3\r\n_\r\n${bulk('b')}_\r\n`));
    expect(passed).toEqual([map, push, '_\r\n', push]);
    expect(answered).toEqual(['mine', [null, 'b', null]]);
  });

  it('keeps only a reply it may decode while waiting for its end: an error or a push cut short goes on at once', () => {
    const passed: string[] = [];
    const reader = new ReplyReader({
      nextDirect: () => 0,
      answerNext: () => {},
      passOn: (bytes) => passed.push(bytes.toString()),
    });
    reader.read(Buffer.from('-ERR out of mem'));
    expect(passed).toEqual(['-ERR out of mem']);
    reader.read(Buffer.from('ory\r\n>2\r\n$10\r\ninvalid'));
    expect(passed).toEqual(['-ERR out of mem', 'ory\r\n', '>2\r\n$10\r\ninvalid']);
    reader.read(Buffer.from('ate\r\n$1\r\nk\r\n$4\r\nva'));
    expect(passed).toEqual(['-ERR out of mem', 'ory\r\n', '>2\r\n$10\r\ninvalid', 'ate\r\n$1\r\nk\r\n']);
  });

  it("passes the rest of the chunk on when ioredis's handling of a reply throws, and steps aside", () => {
    const replies: Reply[] = [
      { expected: -1, bytes: Buffer.from(':1\r\n'), decodable: false },
      { expected: 0, bytes: Buffer.from(bulk('B')), decodable: true },
      { expected: 0, bytes: Buffer.from(bulk('hello')), decodable: true },
      { expected: 2, bytes: Buffer.from(`*2\r\n${bulk('x')}${bulk(null)}`), decodable: true },
    ];
    const answered: Array<{ by: string; value: unknown }> = [];
    let next = 0;
    let thrown = false;
    // ioredis 5's listener lets an exception of its reply handling out, as a caller's callback can throw.
    const parser = new Parser({
      returnBuffers: true,
      returnReply: (value) => {
        next++;
        if (!thrown) {
          thrown = true;
          throw new Error('thrown while handling :1');
        }
        answered.push({ by: 'parser', value: plain(value) });
      },
      returnError: () => {},
    });
    const reader = new ReplyReader({
      nextDirect: () => replies[next]?.expected ?? -1,
      answerNext: (value) => {
        answered.push({ by: 'reader', value });
        next++;
      },
      passOn: (bytes) => parser.execute(bytes),
    });
    const wire = Buffer.concat(replies.map((r) => r.bytes)).toString();
    const cutAt = wire.indexOf('llo');
    expect(() => reader.read(Buffer.from(wire.slice(0, cutAt)))).toThrow('thrown while handling :1');
    reader.read(Buffer.from(wire.slice(cutAt)));
    // Nothing lost, nothing twice, in order; all by ioredis's parser from the exception on.
    expect(answered).toEqual([
      { by: 'parser', value: 'B' },
      { by: 'parser', value: 'hello' },
      { by: 'parser', value: ['x', null] },
    ]);
  });
});
