import { configDefaults, defineConfig } from 'vitest/config';

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
