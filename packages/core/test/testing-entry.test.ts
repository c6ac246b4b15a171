import { describe, expect, it, vi } from 'vitest';

/*
 * fast-check is an optional peer dependency: `@tiercache/core/testing` must load without it, and only
 * `@tiercache/core/testing/operations` needs it. Here fast-check is made to fail as a missing package would.
 */
describe('@tiercache/core/testing without fast-check installed', () => {
  it('loads, with the conformance suite and the helpers, while the operations subpath needs fast-check', async () => {
    vi.resetModules();
    vi.doMock('fast-check', () => {
      throw new Error("Cannot find package 'fast-check'");
    });
    try {
      const testing = await import('@tiercache/core/testing');
      expect(Object.keys(testing).sort()).toEqual([
        'backendFixture',
        'describeConformance',
        'expectErr',
        'expectOk',
        'listenToChanges',
        'publishedDuring',
      ]);
      // The stand-in for a missing fast-check works: the module that does need it fails to load.
      await expect(import('@tiercache/core/testing/operations')).rejects.toThrow();
    } finally {
      vi.doUnmock('fast-check');
      vi.resetModules();
    }
  });
});
