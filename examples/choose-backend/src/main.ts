import { cacheFromUrl } from './cache-from-url.js';
import { runDemo } from './demo.js';

// CACHE_URL chooses the backend; REDIS_URL alone means Redis; with neither, the demo runs in memory.
const url = process.env.CACHE_URL || process.env.REDIS_URL;
const cache = cacheFromUrl(url ? withDemoPrefix(url) : undefined);

// One PING first: with a Redis that is not there, every step would answer Err, and a tour of Errs teaches
// nothing. Say which server could not be reached, and fail.
const ping = await cache.ping();
if (ping.isErr()) {
  console.error(`Cannot run the demo: Redis at ${url ? withoutPassword(url) : '?'} is unreachable.`);
  console.error(ping.error.message);
  await cache.close();
  process.exitCode = 1;
} else {
  try {
    await runDemo(cache, (line) => console.log(line));
  } finally {
    // The demo cleans up after itself: its keys live under their own prefix, and only those are flushed.
    await cache.flush();
    await cache.close();
  }
}

/** Keeps the demo's keys apart from anything else in a real Redis. */
function withDemoPrefix(url: string): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('prefix')) parsed.searchParams.set('prefix', 'tiercache-demo:');
  return parsed.href;
}

/** The URL as given, with a password replaced by `***`: it is printed. */
function withoutPassword(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '***';
  return parsed.href;
}
