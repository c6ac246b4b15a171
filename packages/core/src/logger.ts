/**
 * Where a backend writes the few things worth a line in a log (how coherence is kept, and when that changes).
 * Pino-compatible: pass a pino logger (or a child of one), or anything with these two methods. Silent unless
 * given one.
 */
export interface CacheLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** The logger used when none is given: says nothing. */
export const silentLogger: CacheLogger = {
  warn: () => {},
  info: () => {},
};
