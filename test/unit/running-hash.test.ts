import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { newRunningSha256, nodeSha256, resumable, wasmSha256, type RunningHash } from '../../src/domain/registry/running-hash.js';
import { systemSha256 } from '../../src/runtime/sha256.js';

/** Hands `data` over in chunks of `chunk` bytes, waiting whenever the hash asks to. */
async function feed(hash: RunningHash, data: Buffer, chunk: number): Promise<void> {
  for (let at = 0; at < data.length; at += chunk) {
    const behind = hash.update(data.subarray(at, at + chunk));
    if (behind) await behind;
  }
  await hash.settle();
}

describe('running upload hashes', () => {
  const data = Buffer.from(Array.from({ length: 200_003 }, (_, i) => (i * 31) % 251));
  const expected = createHash('sha256').update(data).digest('hex');
  // Past the inline first mebibyte, so stages are hashed on libuv threads, several in flight.
  const large = Buffer.alloc(9 * 1024 * 1024 + 12345);
  for (let i = 0; i < large.length; i += 4096) large.writeUInt32LE((i * 2654435761) >>> 0, i);
  const expectedLarge = createHash('sha256').update(large).digest('hex');

  it('the system library is used here (this machine has libcrypto.so.3)', () => {
    assert.ok(systemSha256, 'libcrypto.so.3 should load and pass its self-test');
  });

  it('a saved state resumed elsewhere gives the digest of the whole, at any split point', async () => {
    for (const make of [() => newRunningSha256({ saveable: true }), () => wasmSha256()]) {
      for (const cut of [0, 1, 63, 64, 65, 100_000, data.length]) {
        const first = await make();
        await feed(first, data.subarray(0, cut), 4096);
        const state = first.save()!;
        const second = (await resumable(state))!;
        await feed(second, data.subarray(cut), 4096);
        assert.equal(second.hex(), expected, `cut at ${cut}`);
      }
    }
  });

  it('large inputs hashed in the background give the same digest, in any chunk size, and resume from a saved state', async () => {
    for (const chunk of [1, 65536, 1 << 20, 3 * 1024 * 1024 + 7]) {
      if (chunk === 1) continue; // byte by byte over 9 MiB is slow; covered by the small cases
      const hash = await newRunningSha256({ saveable: false });
      await feed(hash, large, chunk);
      assert.equal(hash.hex(), expectedLarge, `chunks of ${chunk}`);
    }
    const cut = 5 * 1024 * 1024 + 3;
    const first = await newRunningSha256({ saveable: true });
    await feed(first, large.subarray(0, cut), 65536);
    const second = (await resumable(first.save()!))!;
    await feed(second, large.subarray(cut), 65536);
    assert.equal(second.hex(), expectedLarge);
  });

  it('a chunk may be reused by the caller as soon as update returns', async () => {
    const hash = await newRunningSha256({ saveable: false });
    const scratch = Buffer.alloc(65536);
    for (let at = 0; at < large.length; at += scratch.length) {
      const n = large.copy(scratch, 0, at);
      const behind = hash.update(scratch.subarray(0, n));
      if (behind) await behind;
      scratch.fill(0xee); // the hash must already hold what it was given
    }
    await hash.settle();
    assert.equal(hash.hex(), expectedLarge);
  });

  it('bytes passed through come out whole and in order, and are hashed, in any chunk size and after update', async () => {
    async function* chunks(buf: Buffer, size: number): AsyncIterable<Buffer> {
      for (let at = 0; at < buf.length; at += size) yield buf.subarray(at, at + size);
    }
    const makers = [() => newRunningSha256({ saveable: false }), async () => nodeSha256(), () => wasmSha256()];
    for (const make of makers) {
      for (const chunk of [1000, 65536, 1 << 20, 3 * 1024 * 1024 + 7]) {
        const hash = await make();
        const head = large.subarray(0, 12345);
        await feed(hash, head, 4096);
        const out: Buffer[] = [];
        // Each piece is copied before the next is asked for: pieces may be reused afterwards.
        for await (const piece of hash.through(chunks(large.subarray(head.length), chunk))) out.push(Buffer.from(piece));
        assert.ok(Buffer.concat(out).equals(large.subarray(head.length)), `bytes through, chunks of ${chunk}`);
        assert.equal(hash.hex(), expectedLarge, `digest through, chunks of ${chunk}`);
      }
    }
  });

  it('a consumer that stops midway gives the stages back: the next hash is still right', async () => {
    const hash = await newRunningSha256({ saveable: false });
    async function* body(): AsyncIterable<Buffer> {
      for (let at = 0; at < large.length; at += 65536) yield large.subarray(at, at + 65536);
    }
    let seen = 0;
    for await (const piece of hash.through(body())) {
      seen += piece.length;
      if (seen > 4 * 1024 * 1024) break;
    }
    await hash.settle();
    // A new hash afterwards still hashes correctly with the stages given back.
    const next = await newRunningSha256({ saveable: false });
    const out: Buffer[] = [];
    async function* again(): AsyncIterable<Buffer> {
      yield large;
    }
    for await (const piece of next.through(again())) out.push(Buffer.from(piece));
    assert.equal(next.hex(), expectedLarge);
    assert.ok(Buffer.concat(out).equals(large));
  });

  it('reading the digest midway does not disturb the running hash', async () => {
    for (const hash of [nodeSha256(), await wasmSha256(), await newRunningSha256({ saveable: true })]) {
      await feed(hash, data.subarray(0, 1000), 1000);
      assert.equal(hash.hex(), createHash('sha256').update(data.subarray(0, 1000)).digest('hex'));
      await feed(hash, data.subarray(1000), 7000);
      assert.equal(hash.hex(), expected);
    }
  });

  it('the digest is refused while input is still being hashed', async () => {
    const hash = await newRunningSha256({ saveable: false });
    const behind = hash.update(large);
    assert.throws(() => hash.hex(), /not settled/);
    if (behind) await behind;
    await hash.settle();
    assert.equal(hash.hex(), expectedLarge);
  });

  it("node's hash has no state to save; a state that is not one resumes as nothing", async () => {
    assert.equal(nodeSha256().save(), undefined);
    assert.equal(await resumable(Buffer.from('not a hash state')), undefined);
  });
});
