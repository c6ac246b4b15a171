/** A reply decoded by the reader: GET's and SET's (text, or null), or MGET's (an array of them). */
export type DirectReply = string | null | Array<string | null>;

/** What the reader needs of a connection: whose reply comes next, and where the others go. */
export interface ReplyRoute {
  /**
   * What the next reply must be for the reader to decode it, by the command at the head of the queue: -1 when
   * it is not a DirectCommand (the reply goes to ioredis), 0 for one value (GET, SET), n for an array of n
   * values (MGET of n keys). A reply of any other shape goes to ioredis.
   */
  nextDirect(): number;
  /** Answers the DirectCommand at the head of the queue, and takes it off. */
  answerNext(reply: DirectReply): void;
  /** Hands bytes to ioredis's own parser: whole replies, or the start of one whose end the reader then follows. */
  passOn(bytes: Buffer): void;
}

const CR = 13;
const LF = 10;
const DOLLAR = 0x24; // $ bulk string
const STAR = 0x2a; // * array
const PLUS = 0x2b; // + simple string
const MINUS = 0x2d; // - error, or the sign of a length
const UNDERSCORE = 0x5f; // _ RESP3 null
const ZERO = 0x30;
// The other types the reader follows, but never decodes.
const EQUALS = 0x3d; // = RESP3 verbatim string
const BANG = 0x21; // ! RESP3 bulk error
const TILDE = 0x7e; // ~ RESP3 set
const GREATER = 0x3e; // > RESP3 push
const PERCENT = 0x25; // % RESP3 map
const COLON = 0x3a; // : integer
const COMMA = 0x2c; // , RESP3 double
const HASH = 0x23; // # RESP3 boolean
const PAREN = 0x28; // ( RESP3 big number
/** The longest header or simple reply line the reader follows: Redis's error messages are well under it. */
const MAX_LINE = 65_536;
/**
 * The most the reader keeps of a DirectCommand's reply cut by the chunk's end, waiting for its end: a longer
 * one goes to ioredis's parser, which joins the chunks of a long value itself.
 */
const MAX_HELD = 1_048_576;

/** `Buffer#utf8Slice`: what `toString('utf8', start, end)` calls after checking its arguments, a third of it. */
type Utf8Slice = (this: Buffer, start: number, end: number) => string;
const utf8Slice: Utf8Slice =
  (Buffer.prototype as unknown as { utf8Slice?: Utf8Slice }).utf8Slice ??
  function (this: Buffer, start: number, end: number) {
    return this.toString('utf8', start, end);
  };

/**
 * Reads a connection's replies ahead of ioredis's parser, and decodes those of DirectCommands itself, as text.
 *
 * ioredis's parsers (redis-parser in 5, its own decoder in 6) hand every string over as a Buffer — a slice
 * made per value, then decoded by `toString` — so that commands which want bytes can have them. Profiled on a
 * getMany of 100, making and decoding those slices was a third of the client's busy time; text read straight
 * from the socket's chunk costs a fraction of it. So for a reply whose command is a DirectCommand, when it is
 * whole in the chunk and one of the shapes GET, SET and MGET answer, the reader decodes it and answers the
 * command itself. Every other reply — a script's, an error (ioredis decides what an error does to the
 * connection) — goes to ioredis's parser as it is. A DirectCommand's reply cut by the chunk's end (at 16
 * getMany of 100 in flight, one in every few) is kept until its end comes, then joined and decoded (or handed
 * to ioredis whole, if it is not of the shape expected); past {@link MAX_HELD}, it goes to ioredis.
 *
 * The reader hands ioredis whole replies only, so the two never both hold part of one: when it passes on (or
 * keeps) a reply cut by the chunk's end, it follows that reply's bytes (lengths and nesting, not values) to
 * find its end in a later chunk. At a type it does not know (RESP3's attributes), it stops reading and passes
 * everything on from there.
 */
export class ReplyReader {
  readonly #route: ReplyRoute;
  /** The last reply decoded by {@link #decode}. */
  #reply: DirectReply = null;
  /** The number in the last header read by {@link #readNumber}. */
  #number = 0;
  // Where ioredis is in a reply passed on whole or in part (see #follow).
  #inReply = false;
  /** Items left in each aggregate open, innermost last. */
  readonly #open: number[] = [];
  /** Bytes left of a bulk string: its payload and CRLF. */
  #bulkLeft = 0;
  /** The start of a header line cut by the chunk's end. */
  #line = '';
  /** The pieces of a DirectCommand's reply cut by a chunk's end, kept until its end comes; and their bytes. */
  readonly #held: Buffer[] = [];
  #heldBytes = 0;
  /**
   * Set once the reader cannot tell where ioredis is in the replies — a type it does not know, a line longer
   * than Redis writes, an exception out of ioredis's handling of one — and from then on every byte goes to
   * ioredis as it comes.
   */
  #stopped = false;

  constructor(route: ReplyRoute) {
    this.#route = route;
  }

  /** The socket's `data` listener. */
  readonly read = (chunk: Buffer): void => {
    const route = this.#route;
    if (this.#stopped) {
      route.passOn(chunk);
      return;
    }
    const length = chunk.length;
    let at = 0;
    if (this.#inReply) {
      at = this.#follow(chunk, 0);
      if (at < 0) {
        if (this.#heldBytes > 0 && !this.#stopped && this.#heldBytes + length <= MAX_HELD) {
          this.#hold(chunk);
          return;
        }
        this.#releaseHeld();
        route.passOn(chunk);
        return;
      }
      if (this.#heldBytes > 0) this.#endHeld(chunk, at);
      else this.#passOn(at === length ? chunk : chunk.subarray(0, at), chunk, at);
    }
    while (at < length) {
      const expected = route.nextDirect();
      if (expected >= 0) {
        const end = this.#decode(chunk, at, expected);
        if (end > 0) {
          route.answerNext(this.#reply);
          this.#reply = null;
          at = end;
          continue;
        }
      }
      const end = this.#follow(chunk, at);
      if (end < 0) {
        const rest = at === 0 ? chunk : chunk.subarray(at);
        if (!this.#stopped && length - at <= MAX_HELD && startsAs(chunk[at], expected)) this.#hold(rest);
        else route.passOn(rest);
        return;
      }
      this.#passOn(at === 0 && end === length ? chunk : chunk.subarray(at, end), chunk, end);
      at = end;
    }
  };

  /**
   * Hands ioredis whole replies, which end at `rest` in `chunk`, then reads on. ioredis 5 lets an exception
   * thrown while it handles a reply out of its listener, and its parser goes on from the byte after that reply
   * with the next chunk; so here the rest of the chunk goes to it before the exception goes on, and the reader
   * steps aside — it does not know what ioredis made of the reply.
   */
  #passOn(replies: Buffer, chunk: Buffer, rest: number): void {
    const route = this.#route;
    try {
      route.passOn(replies);
    } catch (error) {
      this.#stopped = true;
      if (rest < chunk.length) route.passOn(chunk.subarray(rest));
      throw error;
    }
  }

  /** Keeps a piece of a DirectCommand's reply cut by the chunk's end. */
  #hold(piece: Buffer): void {
    this.#held.push(piece);
    this.#heldBytes += piece.length;
  }

  /** The reply kept ends at `end` in `chunk`: answers its command, or hands it to ioredis whole. */
  #endHeld(chunk: Buffer, end: number): void {
    const held = this.#held;
    held.push(chunk.subarray(0, end));
    const reply = Buffer.concat(held, this.#heldBytes + end);
    held.length = 0;
    this.#heldBytes = 0;
    const expected = this.#route.nextDirect();
    if (expected >= 0 && this.#decode(reply, 0, expected) === reply.length) {
      this.#route.answerNext(this.#reply);
      this.#reply = null;
    } else {
      this.#passOn(reply, chunk, end);
    }
  }

  /** Hands ioredis the pieces kept, in order: the reply is too long to keep, or the reader stopped in it. */
  #releaseHeld(): void {
    for (const piece of this.#held) this.#route.passOn(piece);
    this.#held.length = 0;
    this.#heldBytes = 0;
  }

  /**
   * Decodes the reply at `at` if it is whole in the chunk and of the shape expected (see
   * {@link ReplyRoute.nextDirect}): sets #reply and returns the offset after it, or -1.
   */
  #decode(chunk: Buffer, at: number, expected: number): number {
    const type = chunk[at];
    if (expected > 0) {
      if (type !== STAR) return -1;
      let end = this.#readNumber(chunk, at + 1);
      const count = this.#number;
      if (end < 0 || count !== expected) return -1;
      const items = new Array<string | null>(count);
      for (let i = 0; i < count; i++) {
        end = this.#decodeValue(chunk, end);
        if (end < 0) return -1;
        items[i] = this.#reply as string | null;
      }
      this.#reply = items;
      return end;
    }
    if (type === PLUS) {
      // SET's OK: short, so a loop beats a call to indexOf.
      const length = chunk.length;
      for (let p = at + 1; p + 1 < length; p++) {
        if (chunk[p] === CR) {
          this.#reply = utf8Slice.call(chunk, at + 1, p);
          return p + 2;
        }
      }
      return -1;
    }
    return this.#decodeValue(chunk, at);
  }

  /** One value, GET's or one of MGET's: a bulk string, or RESP3's null (`_`, as ioredis 6 speaks by default). */
  #decodeValue(chunk: Buffer, at: number): number {
    const type = chunk[at];
    if (type === DOLLAR) return this.#decodeBulk(chunk, at);
    if (type === UNDERSCORE && at + 3 <= chunk.length) {
      this.#reply = null;
      return at + 3;
    }
    return -1;
  }

  /** A bulk string at `at` (`$` then its length): its text, or null for `$-1`. */
  #decodeBulk(chunk: Buffer, at: number): number {
    const start = this.#readNumber(chunk, at + 1);
    if (start < 0) return -1;
    const bytes = this.#number;
    if (bytes < 0) {
      this.#reply = null;
      return start;
    }
    const end = start + bytes + 2;
    if (end > chunk.length) return -1;
    this.#reply = utf8Slice.call(chunk, start, start + bytes);
    return end;
  }

  /** The number of a header line, from `at` to its CRLF, into #number; the offset after the CRLF, or -1. */
  #readNumber(chunk: Buffer, at: number): number {
    const length = chunk.length;
    let p = at;
    let negative = false;
    if (chunk[p] === MINUS) {
      negative = true;
      p++;
    }
    let value = 0;
    for (; p < length; p++) {
      const byte = chunk[p] as number;
      if (byte === CR) {
        if (p + 1 >= length) return -1;
        this.#number = negative ? -value : value;
        return p + 2;
      }
      value = value * 10 + (byte - ZERO);
    }
    return -1;
  }

  /**
   * Follows the reply that ioredis is being handed, from `at`: returns the offset just after its end, or -1
   * if it goes on past this chunk (then the state says where in it the chunk ended) or the reader stopped.
   */
  #follow(chunk: Buffer, at: number): number {
    const length = chunk.length;
    let p = at;
    this.#inReply = true;
    while (p < length) {
      if (this.#bulkLeft > 0) {
        const taken = Math.min(this.#bulkLeft, length - p);
        p += taken;
        this.#bulkLeft -= taken;
        if (this.#bulkLeft > 0) return -1;
        if (this.#itemEnded()) return p;
        continue;
      }
      const lf = chunk.indexOf(LF, p);
      if (lf < 0) {
        this.#line += chunk.toString('latin1', p, length);
        // Redis's lines are short: a longer one is not its protocol, and the reader stops following.
        if (this.#line.length > MAX_LINE) this.#stopped = true;
        return -1;
      }
      // The header without its CRLF, read from the chunk; one a chunk's end cut is joined first.
      let ended: boolean;
      if (this.#line === '') {
        ended = this.#header(chunk, p, lf - 1);
      } else {
        const line = Buffer.from(this.#line + chunk.toString('latin1', p, lf), 'latin1');
        this.#line = '';
        ended = this.#header(line, 0, line.length - 1);
      }
      p = lf + 1;
      if (ended) return p;
      if (this.#stopped) return -1;
    }
    return -1;
  }

  /** Takes in one header line, `bytes[from, to)`; true when it ends the reply. */
  #header(bytes: Buffer, from: number, to: number): boolean {
    const type = bytes[from];
    switch (type) {
      // A length, then that many bytes: a bulk string, RESP3's verbatim string and bulk error.
      case DOLLAR:
      case EQUALS:
      case BANG: {
        const count = numberIn(bytes, from + 1, to);
        if (Number.isNaN(count)) break;
        if (count < 0) return this.#itemEnded();
        this.#bulkLeft = count + 2;
        return false;
      }
      // A count of items: an array, RESP3's set and push, and its map, whose entries are a key and a value each.
      case STAR:
      case TILDE:
      case GREATER:
      case PERCENT: {
        const count = numberIn(bytes, from + 1, to);
        if (Number.isNaN(count)) break;
        if (count <= 0) return this.#itemEnded();
        this.#open.push(type === PERCENT ? count * 2 : count);
        return false;
      }
      // One line is the whole item.
      case PLUS:
      case MINUS:
      case COLON:
      case UNDERSCORE:
      case COMMA:
      case HASH:
      case PAREN:
        return this.#itemEnded();
    }
    // An attribute (RESP3 `|`), a streamed string (`$?`), or bytes that are not Redis's protocol.
    this.#stopped = true;
    return false;
  }

  /** One item ended: closes the aggregates it completes; true when that ends the reply. */
  #itemEnded(): boolean {
    const open = this.#open;
    while (open.length > 0) {
      const last = open.length - 1;
      const left = (open[last] as number) - 1;
      if (left > 0) {
        open[last] = left;
        return false;
      }
      open.pop();
    }
    this.#inReply = false;
    return true;
  }
}

/** Whether a reply's first byte is one its DirectCommand can be answered with (see ReplyRoute.nextDirect). */
function startsAs(type: number | undefined, expected: number): boolean {
  if (expected > 0) return type === STAR;
  return expected === 0 && (type === DOLLAR || type === PLUS || type === UNDERSCORE);
}

/** The integer written in `bytes[from, to)` (a sign, then digits), or NaN if those bytes are not one. */
function numberIn(bytes: Buffer, from: number, to: number): number {
  let p = from;
  const negative = bytes[p] === MINUS;
  if (negative) p++;
  if (p >= to) return Number.NaN;
  let value = 0;
  for (; p < to; p++) {
    const digit = (bytes[p] as number) - ZERO;
    if (digit < 0 || digit > 9) return Number.NaN;
    value = value * 10 + digit;
  }
  return negative ? -value : value;
}
