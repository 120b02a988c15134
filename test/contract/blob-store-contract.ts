// The BlobStore contract, run against every blob store implementation.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import type { BlobStore } from '../../src/store/blob/blob-store.js';
import type { StoreHandle } from './metadata-store-contract.js';

const dg = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

async function* chunks(...parts: Buffer[]): AsyncIterable<Buffer> {
  for (const p of parts) yield p;
}

async function* failingAfter(part: Buffer): AsyncIterable<Buffer> {
  yield part;
  throw new Error('client went away');
}

async function readAll(s: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of s) out.push(c as Buffer);
  return Buffer.concat(out);
}

async function readBlob(blobs: BlobStore, digest: string, range?: { start: number; end: number }, bufferBytes = 7): Promise<Buffer> {
  const reader = await blobs.openReader(digest, range);
  assert.ok(reader, `${digest} is readable`);
  const out: Buffer[] = [];
  try {
    for (;;) {
      const buf = Buffer.alloc(bufferBytes);
      const n = await reader.read(buf);
      if (n === 0) break;
      out.push(buf.subarray(0, n));
    }
  } finally {
    await reader.close();
  }
  return Buffer.concat(out);
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

export function blobStoreContract(name: string, makeStore: () => Promise<StoreHandle<BlobStore>>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let h: StoreHandle<BlobStore>;
    let blobs: BlobStore;
    beforeEach(async () => {
      h = await makeStore();
      blobs = h.store;
    });
    afterEach(async () => h.close());

    it('uploads grow by chunks at offsets, commit under a digest, then read whole and by range', async () => {
      const id = randomUUID();
      const a = Buffer.from('hello ');
      const b = Buffer.from('world');
      assert.equal(await blobs.appendUpload(id, 0, chunks(a)), 6);
      assert.equal(await blobs.appendUpload(id, 6, chunks(b.subarray(0, 2), b.subarray(2))), 5);
      assert.equal((await readAll(blobs.readUpload(id, 11))).toString(), 'hello world');
      assert.equal((await readAll(blobs.readUpload(id, 4))).toString(), 'hell');
      const whole = Buffer.concat([a, b]);
      const digest = dg(whole);
      assert.equal(await blobs.stat(digest), undefined);
      await blobs.commitUpload(id, digest, whole.length);
      assert.equal(await blobs.stat(digest), 11);
      assert.equal((await readBlob(blobs, digest)).toString(), 'hello world');
      assert.equal((await readBlob(blobs, digest, { start: 6, end: 10 })).toString(), 'world');
      assert.equal((await readBlob(blobs, digest, { start: 0, end: 0 })).toString(), 'h');
      assert.deepEqual(await collect(blobs.list()), [digest]);
      assert.deepEqual(await collect(blobs.listUploads()), [], 'the upload is gone after commit');
    });

    it('an append that failed midway is not part of the upload: the retry at the counted length is', async () => {
      const id = randomUUID();
      await blobs.appendUpload(id, 0, chunks(Buffer.from('abc')));
      await assert.rejects(blobs.appendUpload(id, 3, failingAfter(Buffer.from('PARTIAL-GARBAGE'))));
      assert.equal(await blobs.appendUpload(id, 3, chunks(Buffer.from('de'))), 2);
      assert.equal((await readAll(blobs.readUpload(id, 5))).toString(), 'abcde');
      const digest = dg(Buffer.from('abcde'));
      await blobs.commitUpload(id, digest, 5);
      assert.equal((await readBlob(blobs, digest)).toString(), 'abcde');
    });

    it('commit keeps only the first size bytes', async () => {
      const id = randomUUID();
      await blobs.appendUpload(id, 0, chunks(Buffer.from('abcdef')));
      const digest = dg(Buffer.from('abc'));
      await blobs.commitUpload(id, digest, 3);
      assert.equal((await readBlob(blobs, digest)).toString(), 'abc');
    });

    it('committing content that already exists is idempotent and removes the upload', async () => {
      const data = Buffer.from('same bytes');
      const digest = dg(data);
      for (let i = 0; i < 2; i++) {
        const id = randomUUID();
        await blobs.appendUpload(id, 0, chunks(data));
        await blobs.commitUpload(id, digest, data.length);
      }
      assert.equal((await readBlob(blobs, digest)).toString(), 'same bytes');
      assert.deepEqual(await collect(blobs.listUploads()), []);
    });

    it('empty blobs and empty chunks', async () => {
      const id = randomUUID();
      assert.equal(await blobs.appendUpload(id, 0, chunks()), 0);
      const digest = dg(Buffer.alloc(0));
      await blobs.commitUpload(id, digest, 0);
      assert.equal(await blobs.stat(digest), 0);
      assert.equal((await readBlob(blobs, digest)).length, 0);
    });

    it('an upload that never received a chunk commits as the empty blob', async () => {
      const digest = dg(Buffer.alloc(0));
      await blobs.commitUpload(randomUUID(), digest, 0);
      assert.equal(await blobs.stat(digest), 0);
    });

    it('listUploads shows staged uploads with a modification time; cancelUpload removes them (idempotently)', async () => {
      const id = randomUUID();
      const before = Date.now() - 1000;
      await blobs.appendUpload(id, 0, chunks(Buffer.from('x')));
      const listed = await collect(blobs.listUploads());
      assert.equal(listed.length, 1);
      assert.equal(listed[0]!.id, id);
      assert.ok(listed[0]!.modifiedAt >= before);
      await blobs.cancelUpload(id);
      await blobs.cancelUpload(id);
      assert.deepEqual(await collect(blobs.listUploads()), []);
    });

    it('delete removes a blob (idempotently); stat of unknown digests is undefined', async () => {
      const data = Buffer.from('gone soon');
      const digest = dg(data);
      const id = randomUUID();
      await blobs.appendUpload(id, 0, chunks(data));
      await blobs.commitUpload(id, digest, data.length);
      await blobs.delete(digest);
      await blobs.delete(digest);
      assert.equal(await blobs.stat(digest), undefined);
      assert.equal(await blobs.openReader(digest), undefined);
      assert.deepEqual(await collect(blobs.list()), []);
    });

    it('large uploads in many chunks keep their bytes exactly', async () => {
      const id = randomUUID();
      const parts = Array.from({ length: 8 }, (_, i) => Buffer.alloc(300_000 + i, i));
      let offset = 0;
      for (const p of parts) offset += await blobs.appendUpload(id, offset, chunks(p.subarray(0, 1000), p.subarray(1000)));
      const whole = Buffer.concat(parts);
      const digest = dg(whole);
      await blobs.commitUpload(id, digest, whole.length);
      assert.equal(dg(await readBlob(blobs, digest)), digest);
    });

    it('a 40 MiB upload of odd-sized chunks, written with many writes in flight, keeps its bytes exactly', async () => {
      const id = randomUUID();
      const whole = Buffer.alloc(40 * 1024 * 1024);
      for (let i = 0; i < whole.length; i += 4) whole.writeUInt32LE((i * 2654435761) >>> 0, i);
      async function* oddChunks(): AsyncIterable<Buffer> {
        let at = 0;
        for (let i = 0; at < whole.length; i++) {
          const size = 1 + ((i * 7919) % 200_000);
          yield whole.subarray(at, Math.min(whole.length, at + size));
          at += size;
        }
      }
      assert.equal(await blobs.appendUpload(id, 0, oddChunks()), whole.length);
      const digest = dg(whole);
      await blobs.commitUpload(id, digest, whole.length);
      assert.equal(await blobs.stat(digest), whole.length);
      assert.equal(dg(await readBlob(blobs, digest, { start: 0, end: whole.length - 1 }, 1 << 20)), digest);
    });
  });
}
