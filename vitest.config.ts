import { defineConfig } from 'vitest/config';

// Tests run against the TypeScript sources: the `@tiercache/source` export condition points each workspace
// package at its src/ instead of a build.
export default defineConfig({
  resolve: { conditions: ['@tiercache/source'] },
  ssr: { resolve: { conditions: ['@tiercache/source'] } },
  test: {
    // Checks once, before any test file, that redis-server and redis-cli are installed (the Redis tests start
    // their own servers); without them the run stops there, with one line saying what to install.
    globalSetup: ['tools/redis-harness/src/global-setup.ts'],
    include: [
      'packages/*/test/**/*.test.ts',
      'examples/*/test/**/*.test.ts',
      'bench/test/**/*.test.ts',
      'tools/*/test/**/*.test.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
