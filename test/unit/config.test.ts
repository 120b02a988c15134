// Settings from the environment: each one berth accepts takes effect; one it cannot honour stops it.
import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, regionSettings } from '../../src/config.js';

describe('configuration from the environment', () => {
  it('limits and intervals take the values given, and defaults otherwise', () => {
    const c = loadConfig({}, { BERTH_HEADERS_TIMEOUT: '7', BERTH_INACTIVITY_TIMEOUT: '9', BERTH_MAX_BLOB_BYTES: '1024', BERTH_GC_INTERVAL: '0' });
    assert.equal(c.limits.headersTimeoutSeconds, 7);
    assert.equal(c.limits.inactivityTimeoutSeconds, 9);
    assert.equal(c.limits.idleTimeoutSeconds, 65);
    assert.equal(c.maxBlobBytes, 1024);
    assert.equal(c.gcIntervalSeconds, 0, '0 turns garbage collection off');
  });

  it('usage prices and the storage sampling interval take the values given, ECR list prices otherwise', () => {
    const c = loadConfig({}, { BERTH_PRICE_STORAGE_GB_MONTH: '0.12', BERTH_PRICE_ARCHIVE_STORAGE_GB_MONTH: '0.07', BERTH_PRICE_TRANSFER_OUT_GB: '0', BERTH_USAGE_SAMPLE_INTERVAL: '60' });
    assert.deepEqual(c.usage, {
      sampleIntervalSeconds: 60,
      retentionDays: 400,
      prices: { storageGbMonthUsd: 0.12, archiveStorageGbMonthUsd: 0.07, transferOutGbUsd: 0, freeStorageGbMonth: 0.5, publicFreeStorageGbMonth: 50 },
    });
    assert.deepEqual(loadConfig({}, {}).usage.prices, { storageGbMonthUsd: 0.1, archiveStorageGbMonthUsd: 0.1, transferOutGbUsd: 0.09, freeStorageGbMonth: 0.5, publicFreeStorageGbMonth: 50 });
  });

  it('a value berth cannot honour is refused with the variable named, not silently replaced', () => {
    for (const [name, value] of [
      ['BERTH_HEADERS_TIMEOUT', '0'],
      ['BERTH_INACTIVITY_TIMEOUT', 'soon'],
      ['BERTH_MAX_BLOB_BYTES', '-1'],
      ['BERTH_GC_INTERVAL', '1.5'],
      ['BERTH_MAX_CONNECTIONS_PER_CLIENT', 'many'],
      ['BERTH_USAGE_SAMPLE_INTERVAL', '-5'],
      ['BERTH_USAGE_RETENTION_DAYS', '0'],
      ['BERTH_PRICE_STORAGE_GB_MONTH', '-0.1'],
      ['BERTH_PRICE_ARCHIVE_STORAGE_GB_MONTH', 'cheap'],
      ['BERTH_PRICE_TRANSFER_OUT_GB', '$0.09'],
      ['BERTH_FREE_STORAGE_GB_MONTH', '1e3'],
      ['BERTH_PUBLIC_FREE_STORAGE_GB_MONTH', 'lots'],
      ['BERTH_PUBLIC_URL', 'registry.example'],
      ['BERTH_PUBLIC_URL', 'ftp://registry.example'],
    ]) {
      assert.throws(() => loadConfig({}, { [name]: value }), new RegExp(name), `${name}=${value}`);
    }
  });

  it('BERTH_PUBLIC_URL: empty means unset; a trailing slash is dropped', () => {
    assert.equal(loadConfig({}, { BERTH_PUBLIC_URL: '' }).publicUrl, undefined);
    assert.equal(loadConfig({}, { BERTH_PUBLIC_URL: 'https://registry.example:8443/' }).publicUrl, 'https://registry.example:8443');
  });
});

describe('regions (BERTH_REGIONS, BERTH_REGION, BERTH_REGION_LISTEN)', () => {
  test('one region by default: BERTH_REGION, else us-east-1', () => {
    assert.deepEqual(regionSettings({}), { home: 'us-east-1', regions: [{ name: 'us-east-1' }] });
    assert.deepEqual(regionSettings({ BERTH_REGION: 'eu-central-1' }), { home: 'eu-central-1', regions: [{ name: 'eu-central-1' }] });
  });

  test('several regions: the home one first, the others each on their own listen address', () => {
    const env = { BERTH_REGIONS: 'eu-west-1, us-east-1,ap-southeast-2', BERTH_REGION: 'us-east-1', BERTH_REGION_LISTEN: 'eu-west-1=127.0.0.1:5001,ap-southeast-2=[::1]:5002' };
    assert.deepEqual(regionSettings(env), {
      home: 'us-east-1',
      regions: [{ name: 'us-east-1' }, { name: 'eu-west-1', listen: { host: '127.0.0.1', port: 5001 } }, { name: 'ap-southeast-2', listen: { host: '::1', port: 5002 } }],
    });
    // Without BERTH_REGION, the first listed is home.
    assert.equal(regionSettings({ BERTH_REGIONS: 'eu-west-1,us-east-1', BERTH_REGION_LISTEN: 'us-east-1=127.0.0.1:5001' }).home, 'eu-west-1');
    assert.equal(loadConfig({}, env).region, 'us-east-1');
  });

  test('settings berth cannot honour stop it with a message naming them', () => {
    assert.throws(() => regionSettings({ BERTH_REGION: 'Mars' }), /BERTH_REGION: "Mars" is not a region name/);
    assert.throws(() => regionSettings({ BERTH_REGIONS: 'us-east-1,eu-west-1' }), /region eu-west-1 needs a listen address.*BERTH_REGION_LISTEN=eu-west-1=HOST:PORT/);
    assert.throws(() => regionSettings({ BERTH_REGIONS: 'us-east-1,eu-west-1', BERTH_REGION: 'ap-south-1' }), /BERTH_REGION ap-south-1 is not among BERTH_REGIONS/);
    assert.throws(() => regionSettings({ BERTH_REGIONS: 'us-east-1,us-east-1' }), /names a region twice/);
    assert.throws(() => regionSettings({ BERTH_REGION_LISTEN: 'eu-west-1=127.0.0.1:5001' }), /eu-west-1 is not among BERTH_REGIONS/);
    assert.throws(() => regionSettings({ BERTH_REGIONS: 'us-east-1,eu-west-1', BERTH_REGION_LISTEN: 'us-east-1=127.0.0.1:5001' }), /home region/);
    assert.throws(() => regionSettings({ BERTH_REGIONS: 'us-east-1,eu-west-1', BERTH_REGION_LISTEN: 'eu-west-1' }), /REGION=HOST:PORT/);
  });
});
