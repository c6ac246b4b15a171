import { cacheFromUrl } from './cache-from-url.js';
import { runDemo } from './demo.js';

// CACHE_URL chooses the backend; REDIS_URL alone means Redis; with neither, the demo runs in memory.
const url = process.env.CACHE_URL || process.env.REDIS_URL;
const cache = cacheFromUrl(url ? withDemoPrefix(url) : undefined);
try {
  await runDemo(cache, (line) => console.log(line));
} finally {
  // The demo cleans up after itself: its keys live under their own prefix, and only those are flushed.
  await cache.flush();
  await cache.close();
}

/** Keeps the demo's keys apart from anything else in a real Redis. */
function withDemoPrefix(url: string): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('prefix')) parsed.searchParams.set('prefix', 'tiercache-demo:');
  return parsed.href;
}
