// Settings from the environment: each one berth accepts takes effect; one it cannot honour stops it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config.js';

describe('configuration from the environment', () => {
  it('limits and intervals take the values given, and defaults otherwise', () => {
    const c = loadConfig({}, { BERTH_HEADERS_TIMEOUT: '7', BERTH_INACTIVITY_TIMEOUT: '9', BERTH_MAX_BLOB_BYTES: '1024', BERTH_GC_INTERVAL: '0' });
    assert.equal(c.limits.headersTimeoutSeconds, 7);
    assert.equal(c.limits.inactivityTimeoutSeconds, 9);
    assert.equal(c.limits.idleTimeoutSeconds, 65);
    assert.equal(c.maxBlobBytes, 1024);
    assert.equal(c.gcIntervalSeconds, 0, '0 turns garbage collection off');
  });

  it('a value berth cannot honour is refused with the variable named, not silently replaced', () => {
    for (const [name, value] of [
      ['BERTH_HEADERS_TIMEOUT', '0'],
      ['BERTH_INACTIVITY_TIMEOUT', 'soon'],
      ['BERTH_MAX_BLOB_BYTES', '-1'],
      ['BERTH_GC_INTERVAL', '1.5'],
      ['BERTH_MAX_CONNECTIONS_PER_CLIENT', 'many'],
    ]) {
      assert.throws(() => loadConfig({}, { [name]: value }), new RegExp(name), `${name}=${value}`);
    }
  });
});
