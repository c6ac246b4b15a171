import { createRequire } from 'node:module';
import { configDefaults, defineConfig } from 'vitest/config';

/**
 * ioredis 6, which backend-redis installs as `ioredis-6` beside its own ioredis 5: the `ioredis-6` project runs the
 * Redis tests with every `import 'ioredis'` resolved to it.
 */
const IOREDIS_6 = createRequire(new URL('./packages/backend-redis/package.json', import.meta.url)).resolve(
  'ioredis-6',
);

/**
 * The tests that the `ioredis-6` project runs again on ioredis 6 (about 75 s of test time): all of backend-redis,
 * the package whose behaviour depends on the client, and the tiered tests that take Redis's change feed end to
 * end (coherence, pattern invalidation, stale-if-error, a full or wrong-typed Redis). Left out, to keep CI short:
 * the tiered conformance suite (its Redis half repeats what the Redis conformance suite checks on ioredis 6;
 * its memory half uses no ioredis) and the tiered tracking-refused tests (how the tiered cache takes a feed
 * that hears only announcements; the refusal itself is checked on ioredis 6 by backend-redis's own), together
 * ~22 s. Also left out, the tests that run the backend in a child process (close-exits,
 * lock-across-processes): a child resolves ioredis through Node, not through this config, so would test
 * ioredis 5 again.
 */
const IOREDIS_6_TESTS = {
  include: [
    'packages/backend-redis/test/**/*.test.ts',
    'packages/backend-tiered/test/{pattern-invalidation,redis-*}.test.ts',
  ],
  exclude: [
    ...configDefaults.exclude,
    'packages/backend-redis/test/lock-across-processes.test.ts',
    // Hands an ioredis 6 client to the backend on ioredis 5: meaningful only where `ioredis` is ioredis 5.
    'packages/backend-redis/test/ioredis-6-client.test.ts',
  ],
};

// Tests run against the TypeScript sources: the `@tiercache/source` export condition points each workspace
// package at its src/ instead of a build.
export default defineConfig({
  resolve: { conditions: ['@tiercache/source'] },
  ssr: { resolve: { conditions: ['@tiercache/source'] } },
  test: {
    // Checks once, before any test file, that redis-server and redis-cli are installed (the Redis tests start
    // their own servers); without them the run stops there, with one line saying what to install.
    globalSetup: ['tools/redis-harness/src/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'tiercache',
          include: [
            'packages/*/test/**/*.test.ts',
            'examples/*/test/**/*.test.ts',
            'bench/test/**/*.test.ts',
            'tools/*/test/**/*.test.ts',
          ],
          exclude: [...configDefaults.exclude, 'tools/pack-test/**'],
          env: { TIERCACHE_IOREDIS_MAJOR: '5' },
        },
      },
      {
        // The Redis tests again, with `ioredis` resolved to ioredis 6 (an exact match: `ioredis-6` and
        // `ioredis/…` are left alone). ioredis-major.test.ts fails the run if the alias stops taking effect.
        extends: true,
        resolve: { alias: [{ find: /^ioredis$/, replacement: IOREDIS_6 }] },
        test: {
          name: 'ioredis-6',
          ...IOREDIS_6_TESTS,
          env: { TIERCACHE_IOREDIS_MAJOR: '6' },
        },
      },
      {
        // The packaging test builds, packs and installs: CPU-heavy for half a minute. It runs after the
        // others, so that the tests that time things (faults, expiry, the benchmark's smoke run) do not share
        // the cores with it.
        extends: true,
        test: {
          name: 'packaging',
          include: ['tools/pack-test/test/**/*.test.ts'],
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
