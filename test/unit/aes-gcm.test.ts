// AES-256-GCM through the system's OpenSSL (where it loads) and through node:crypto: the same
// bytes, the same tags, and tampering refused, so blobs sealed by one open with the other.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { aesGcm, nodeAesGcm } from '../../src/runtime/aes-gcm.js';

describe('AES-256-GCM', () => {
  test('a known answer (NIST GCM test vector, 256-bit key, case 16)', () => {
    const key = Buffer.from('feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308', 'hex');
    const nonce = Buffer.from('cafebabefacedbaddecaf888', 'hex');
    const aad = Buffer.from('feedfacedeadbeeffeedfacedeadbeefabaddad2', 'hex');
    const plain = Buffer.from('d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39', 'hex');
    const cipher = '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662';
    for (const engine of [aesGcm, nodeAesGcm]) {
      const out = Buffer.alloc(plain.length);
      const tag = engine.seal(key, nonce, aad, plain, out);
      assert.equal(out.toString('hex'), cipher, engine.engine);
      assert.equal(tag.toString('hex'), '76fc6ece0f4e1768cddf8853bb2d551b', engine.engine);
      const back = Buffer.alloc(plain.length);
      assert.ok(engine.open(key, nonce, aad, out, tag, back));
      assert.deepEqual(back, plain);
    }
  });

  test('each engine opens what the other sealed, and refuses a changed byte, tag, nonce or AAD', () => {
    const key = randomBytes(32);
    for (const size of [0, 1, 15, 16, 4097, 65536]) {
      const plain = randomBytes(size);
      const nonce = randomBytes(12);
      const aad = randomBytes(9);
      for (const [sealer, opener] of [[aesGcm, nodeAesGcm], [nodeAesGcm, aesGcm]] as const) {
        const sealed = Buffer.alloc(size);
        const tag = sealer.seal(key, nonce, aad, plain, sealed);
        const back = Buffer.alloc(size);
        assert.ok(opener.open(key, nonce, aad, sealed, tag, back), `${sealer.engine} → ${opener.engine}, ${size} bytes`);
        assert.deepEqual(back, plain);
        if (size > 0) {
          const changed = Buffer.from(sealed);
          changed[size >> 1]! ^= 1;
          assert.equal(opener.open(key, nonce, aad, changed, tag, back), false);
        }
        const badTag = Buffer.from(tag);
        badTag[0]! ^= 1;
        assert.equal(opener.open(key, nonce, aad, sealed, badTag, back), false);
        assert.equal(opener.open(key, randomBytes(12), aad, sealed, tag, back), false);
        assert.equal(opener.open(key, nonce, randomBytes(9), sealed, tag, back), false);
        assert.equal(opener.open(randomBytes(32), nonce, aad, sealed, tag, back), false);
      }
    }
  });

  test('an output buffer too small is refused, not overrun', () => {
    const key = randomBytes(32);
    const nonce = randomBytes(12);
    for (const engine of [aesGcm, nodeAesGcm]) {
      assert.throws(() => engine.seal(key, nonce, Buffer.alloc(0), Buffer.alloc(100), Buffer.alloc(99)), RangeError);
      assert.throws(() => engine.open(key, nonce, Buffer.alloc(0), Buffer.alloc(100), Buffer.alloc(16), Buffer.alloc(99)), RangeError);
    }
  });
});
