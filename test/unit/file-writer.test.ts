import assert from 'node:assert/strict';
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

test('writes chunks in order from the start offset and flushes in the background', async () => {
  await withFile(async (path) => {
    await writeFile(path, 'head:');
    const fh = await open(path, 'r+');
    let flushes = 0;
    const writer = new FileWriter(fh, 5, async () => {
      flushes++;
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

test('a failed write surfaces from write() or finish(), and settle() still waits for the rest', async () => {
  await withFile(async (path) => {
    await writeFile(path, '');
    const fh = await open(path, 'r'); // read-only: every write fails
    const writer = new FileWriter(fh, 0, async () => undefined);
    await assert.rejects(async () => {
      for (let i = 0; i < 64; i++) await writer.write(Buffer.alloc(256 * 1024, 1));
      await writer.finish();
    }, /EBADF/);
    await writer.settle();
    await fh.close();
  });
});

test('chunks of any size, larger or smaller than its buffers, land byte for byte', async () => {
  await withFile(async (path) => {
    const fh = await open(path, 'w+');
    const writer = new FileWriter(fh, 0, async () => undefined);
    const sizes = [1, 1000, (1 << 20) - 1, 3.5 * (1 << 20), 7, 65_536, 2 << 20, 13];
    const chunks = sizes.map((n, i) => {
      const b = Buffer.allocUnsafe(n);
      for (let j = 0; j < n; j++) b[j] = (j * 31 + i) & 0xff;
      return b;
    });
    for (const c of chunks) await writer.write(c);
    await writer.finish();
    await fh.close();
    assert.ok((await readFile(path)).equals(Buffer.concat(chunks)));
  });
});
