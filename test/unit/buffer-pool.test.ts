import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BufferPool } from '../../src/runtime/buffer-pool.js';
import { pageAlignedBuffers } from '../../src/store/blob/aligned-buffers.js';

test('a pool hands back what it was given, keeping at most `keep` buffers', () => {
  let allocations = 0;
  const pool = new BufferPool(1024, 2, (bytes) => {
    allocations++;
    return [Buffer.alloc(bytes)];
  });
  const [a, b, c] = [pool.take(), pool.take(), pool.take()];
  assert.equal(allocations, 3);
  for (const buf of [a, b, c]) pool.give(buf);
  assert.equal(pool.take(), b);
  assert.equal(pool.take(), a);
  pool.take();
  assert.equal(allocations, 4, 'the third given buffer was over the limit and not kept');
  pool.give(Buffer.alloc(10));
  pool.take();
  assert.equal(allocations, 5, 'a buffer of another size is not kept');
});

test('page-aligned buffers come as a batch of distinct, non-overlapping slices, handed out from the start', () => {
  const buffers = pageAlignedBuffers(65536);
  assert.equal(buffers.length, 16);
  const offsets = buffers.map((b) => b.byteOffset).sort((x, y) => x - y);
  assert.deepEqual(offsets, Array.from({ length: 16 }, (_, i) => i * 65536));
  assert.equal(buffers.at(-1)!.byteOffset, 0);
  assert.throws(() => pageAlignedBuffers(1000), /multiple of 64 KiB/);
});
