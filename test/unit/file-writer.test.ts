import assert from 'node:assert/strict';
import { constants } from 'node:fs';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileWriter } from '../../src/store/blob/file-writer.js';

async function withFile(fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'file-writer-'));
  try {
    await fn(join(dir, 'f'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let j = 0; j < n; j++) b[j] = (j * 31 + seed) & 0xff;
  return b;
}

/** Writes `chunks` from `start` the way the blob store does: finish, then truncate to the real end. */
async function writeChunks(path: string, start: number, chunks: Buffer[], direct: boolean): Promise<void> {
  const fh = await open(path, constants.O_RDWR | constants.O_CREAT | (direct ? constants.O_DIRECT : 0));
  try {
    const writer = await FileWriter.open(fh, start, { direct, flush: async () => undefined });
    for (const c of chunks) await writer.write(c);
    await writer.finish();
    await fh.truncate(start + chunks.reduce((n, c) => n + c.length, 0));
  } finally {
    await fh.close();
  }
}

test('buffered: writes chunks in order from the start offset and flushes in the background', async () => {
  await withFile(async (path) => {
    await writeFile(path, 'head:');
    const fh = await open(path, 'r+');
    let flushes = 0;
    const writer = await FileWriter.open(fh, 5, {
      direct: false,
      flush: async () => {
        flushes++;
      },
    });
    const chunks = Array.from({ length: 300 }, (_, i) => Buffer.alloc(64 * 1024, i % 251));
    for (const c of chunks) await writer.write(c);
    await writer.finish();
    await fh.close();
    const data = await readFile(path);
    assert.equal(data.subarray(0, 5).toString(), 'head:');
    assert.ok(data.subarray(5).equals(Buffer.concat(chunks)));
    assert.ok(flushes >= 2, `expected background flushes, saw ${flushes}`);
  });
});

for (const direct of [false, true]) {
  const mode = direct ? 'O_DIRECT' : 'buffered';

  test(`${mode}: chunks of any size, larger or smaller than its buffers, land byte for byte`, async () => {
    await withFile(async (path) => {
      const sizes = [1, 1000, (1 << 19) - 1, 3.5 * (1 << 20), 7, 65_536, 2 << 20, 13];
      const chunks = sizes.map((n, i) => pattern(n, i));
      await writeChunks(path, 0, chunks, direct);
      assert.ok((await readFile(path)).equals(Buffer.concat(chunks)));
    });
  });

  test(`${mode}: appends at unaligned offsets keep the bytes before them`, async () => {
    await withFile(async (path) => {
      const parts = [pattern(1000, 1), pattern(5000, 2), pattern(1, 3), pattern(600_000, 4), pattern(4096, 5)];
      let end = 0;
      for (const part of parts) {
        await writeChunks(path, end, [part], direct);
        end += part.length;
      }
      assert.ok((await readFile(path)).equals(Buffer.concat(parts)));
    });
  });
}

test('a failed write surfaces from write() or finish(), and settle() still waits for the rest', async () => {
  await withFile(async (path) => {
    await writeFile(path, '');
    const fh = await open(path, 'r'); // read-only: every write fails
    const writer = await FileWriter.open(fh, 0, { direct: false, flush: async () => undefined });
    await assert.rejects(async () => {
      for (let i = 0; i < 64; i++) await writer.write(Buffer.alloc(256 * 1024, 1));
      await writer.finish();
    }, /EBADF/);
    await writer.settle();
    await fh.close();
  });
});
