import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { nativeSha256, resumable, resumableSha256 } from '../../src/domain/registry/running-hash.js';

describe('running upload hashes', () => {
  const data = Buffer.from(Array.from({ length: 200_003 }, (_, i) => (i * 31) % 251));
  const expected = createHash('sha256').update(data).digest('hex');

  it('a saved state resumed elsewhere gives the digest of the whole, at any split point', async () => {
    for (const cut of [0, 1, 63, 64, 65, 100_000, data.length]) {
      const first = await resumableSha256();
      first.update(data.subarray(0, cut));
      const state = first.save()!;
      const second = await resumableSha256(state);
      second.update(data.subarray(cut));
      assert.equal(second.hex(), expected, `cut at ${cut}`);
    }
  });

  it('reading the digest midway does not disturb the running hash', async () => {
    for (const hash of [nativeSha256(), await resumableSha256()]) {
      hash.update(data.subarray(0, 1000));
      assert.equal(hash.hex(), createHash('sha256').update(data.subarray(0, 1000)).digest('hex'));
      hash.update(data.subarray(1000));
      assert.equal(hash.hex(), expected);
    }
  });

  it('the process-only hash has no state to save; a state that is not one resumes as nothing', async () => {
    assert.equal(nativeSha256().save(), undefined);
    assert.equal(await resumable(Buffer.from('not a hash state')), undefined);
  });
});
