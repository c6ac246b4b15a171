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
/** The longest header or simple reply line the reader follows: Redis's error messages are well under it. */
const MAX_LINE = 65_536;

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
 * connection), one cut by the chunk's end — goes to ioredis's parser as it is.
 *
 * The reader hands ioredis whole replies only, so the two never both hold part of one: when it passes on a
 * reply cut by the chunk's end, it follows that reply's bytes (lengths and nesting, not values) to find its
 * end in a later chunk, passing them on too. At a type it does not know (RESP3's attributes), it stops
 * reading and passes everything on from there.
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
        route.passOn(chunk);
        return;
      }
      this.#passOn(chunk, 0, at);
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
        route.passOn(at === 0 ? chunk : chunk.subarray(at));
        return;
      }
      this.#passOn(chunk, at, end);
      at = end;
    }
  };

  /**
   * Hands ioredis the whole replies in `chunk[from, to)`, then reads on. ioredis 5 lets an exception thrown
   * while it handles a reply out of its listener, and its parser goes on from the byte after that reply with
   * the next chunk; so here the rest of the chunk goes to it before the exception goes on, and the reader steps
   * aside — it does not know what ioredis made of the reply.
   */
  #passOn(chunk: Buffer, from: number, to: number): void {
    const route = this.#route;
    try {
      route.passOn(from === 0 && to === chunk.length ? chunk : chunk.subarray(from, to));
    } catch (error) {
      this.#stopped = true;
      if (to < chunk.length) route.passOn(chunk.subarray(to));
      throw error;
    }
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
      // The header's text without its CRLF, which a chunk's end may have cut anywhere.
      const line = (this.#line + chunk.toString('latin1', p, lf)).slice(0, -1);
      this.#line = '';
      p = lf + 1;
      if (this.#header(line)) return p;
      if (this.#stopped) return -1;
    }
    return -1;
  }

  /** Takes in one header line; true when it ends the reply. */
  #header(line: string): boolean {
    const count = Number(line.slice(1));
    switch (line[0]) {
      case '$': // bulk string
      case '=': // RESP3 verbatim string
      case '!': // RESP3 bulk error
        if (!Number.isInteger(count)) break;
        if (count < 0) return this.#itemEnded();
        this.#bulkLeft = count + 2;
        return false;
      case '*': // array
      case '~': // RESP3 set
      case '>': // RESP3 push
      case '%': // RESP3 map: a key and a value per entry
        if (!Number.isInteger(count)) break;
        if (count <= 0) return this.#itemEnded();
        this.#open.push(line[0] === '%' ? count * 2 : count);
        return false;
      case '+':
      case '-':
      case ':':
      case '_':
      case ',':
      case '#':
      case '(':
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
