import { describe, expect, it } from 'vitest';
import { createCache } from '../src/cache.js';
import type { GetOrSetOptions } from '../src/cache-backend.js';
import type { LoadedEntry } from '../src/driver.js';
import { expectErr, expectOk } from '../src/testing/helpers.js';
import { MapDriver } from './map-driver.js';

/*
 * A getOrSet hit does not read its options anew when they hold what the last call's held: these tests prove
 * that options changed in place, or made hostile after a first good read, are still read and refused.
 */

/** A MapDriver that remembers the TTL each loaded value was stored with. */
class TtlRecordingDriver extends MapDriver {
  readonly storedTtls = new Map<string, number | undefined>();
  override storeLoaded(entries: readonly LoadedEntry[]): boolean {
    for (const { key, ttlMs } of entries) this.storedTtls.set(key, ttlMs);
    return super.storeLoaded(entries);
  }
}

const load = () => 'loaded';

describe('getOrSet options that repeat', () => {
  it('a new literal with the same TTL on every call answers each hit', async () => {
    const cache = createCache(new MapDriver());
    expect(expectOk(await cache.getOrSet('k', load, { ttl: 60 }))).toBe('loaded');
    for (let call = 0; call < 3; call++) {
      expect(expectOk(await cache.getOrSet('k', () => 'not again', { ttl: 60 }))).toBe('loaded');
    }
  });

  it('options changed in place to a wrong TTL are refused on a hit, and answered again once mended', async () => {
    const cache = createCache(new MapDriver());
    const options: GetOrSetOptions = { ttl: 60 };
    expectOk(await cache.getOrSet('k', load, options));
    options.ttl = -1;
    const refused = expectErr(await cache.getOrSet('k', load, options), 'INVALID_ARGUMENT');
    expect(refused.message).toContain('"k"');
    options.ttl = 30;
    expect(expectOk(await cache.getOrSet('k', load, options))).toBe('loaded');
  });

  it('options changed in place to another TTL store the next load with that TTL', async () => {
    const driver = new TtlRecordingDriver();
    const cache = createCache(driver);
    const options: GetOrSetOptions = { ttl: 60 };
    expectOk(await cache.getOrSet('a', load, options));
    options.ttl = 5;
    expectOk(await cache.getOrSet('b', load, options));
    expect(driver.storedTtls).toEqual(
      new Map([
        ['a', 60_000],
        ['b', 5_000],
      ]),
    );
  });

  it('a lock object whose ttl is changed in place is read again, and refused when wrong', async () => {
    const cache = createCache(new MapDriver());
    const lock = { ttl: 5 };
    expectOk(await cache.getOrSet('k', load, { lock }));
    lock.ttl = -1;
    const refused = expectErr(await cache.getOrSet('k', load, { lock }), 'INVALID_ARGUMENT');
    expect(refused.message).toContain('lock.ttl');
  });

  it('options whose getter throws after a first good read are refused, not thrown', async () => {
    const cache = createCache(new MapDriver());
    let reads = 0;
    const options = {
      get ttl() {
        reads++;
        if (reads > 1) throw new Error('read twice');
        return 60;
      },
    };
    expectOk(await cache.getOrSet('k', load, options));
    const refused = expectErr(await cache.getOrSet('k', load, options), 'INVALID_ARGUMENT');
    expect(refused.message).toContain('read twice');
  });

  it('an array or a loader that is not a function is refused even after options that read the same', async () => {
    const cache = createCache(new MapDriver());
    expectOk(await cache.getOrSet('k', load, {}));
    expectErr(await cache.getOrSet('k', load, [] as unknown as GetOrSetOptions), 'INVALID_ARGUMENT');
    const notALoader = 'loaded' as unknown as () => string;
    expectErr(await cache.getOrSet('k', notALoader, {}), 'INVALID_ARGUMENT');
    expectErr(await cache.getOrSet('k', notALoader), 'INVALID_ARGUMENT');
  });
});
