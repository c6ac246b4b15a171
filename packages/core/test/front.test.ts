import { describe, expect, it } from 'vitest';
import { createCache } from '../src/cache.js';
import { DriverError } from '../src/driver.js';
import { expectErr, expectOk } from '../src/testing/helpers.js';
import { MapDriver } from './map-driver.js';

describe('the front over a driver that holds keys in this process', () => {
  it('answers a hit from peek without asking get', async () => {
    const driver = new MapDriver();
    driver.data.set('k', 'v');
    let gets = 0;
    const get = driver.get.bind(driver);
    driver.get = (key) => {
      gets++;
      return get(key);
    };
    expect(expectOk(await createCache(driver).get('k'))).toBe('v');
    expect(gets).toBe(0);
  });

  it('a peek that throws is not a throw out of get: the driver is asked instead', async () => {
    const driver = new MapDriver();
    driver.data.set('k', 'v');
    Object.defineProperty(driver, 'peek', {
      value: () => {
        throw new Error('peek broke');
      },
    });
    const cache = createCache(driver);
    expect(expectOk(await cache.get('k'))).toBe('v');
    expect(expectOk(await cache.get('absent'))).toBeNull();
  });

  it('a peek and a get that both throw answer the driver failure as an Err', async () => {
    const driver = new MapDriver();
    Object.defineProperty(driver, 'peek', {
      value: () => {
        throw new Error('peek broke');
      },
    });
    driver.get = () => {
      throw new DriverError('BACKEND', 'the store broke');
    };
    const failed = expectErr(await createCache(driver).get('k'), 'BACKEND');
    expect(failed.message).toBe('[tiercache:observed] get "k": the store broke');
  });

  it('refuses a key with a lone surrogate that the driver does not hold, without asking get', async () => {
    const driver = new MapDriver();
    driver.data.set('\uFFFD', 'twin');
    let gets = 0;
    driver.get = () => {
      gets++;
      return null;
    };
    expectErr(await createCache(driver).get('\uD800'), 'INVALID_ARGUMENT');
    expect(gets).toBe(0);
  });
});
