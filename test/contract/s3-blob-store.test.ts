// The blob store contract against S3BlobStore on a real S3 server (Ceph RADOS Gateway on loopback):
// one gateway for the file, a fresh key prefix per test; plus what only an object store does.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { HeadBucketCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { S3BlobStore } from '../../src/store/blob/s3-blob-store.js';
import { createS3Client } from '../../src/store/blob/s3-client.js';
import { startRgw, type Rgw } from '../helpers/rgw.js';
import { blobStoreContract } from './blob-store-contract.js';

let rgw: Rgw;
const clients: S3Client[] = [];
let prefixes = 0;
const BUCKET = 'contract';

before(async () => {
  rgw = await startRgw();
});

after(async () => {
  for (const c of clients) c.destroy();
  await rgw?.stop();
});

function client(): S3Client {
  const c = createS3Client({
    endpoint: rgw.endpoint,
    region: rgw.region,
    forcePathStyle: true,
    accessKeyId: rgw.accessKeyId,
    secretAccessKey: rgw.secretAccessKey,
  });
  clients.push(c);
  return c;
}

/** A store on its own prefix (so no test sees another's objects); `nodes` stores share it, each with its own client. */
async function openStores(nodes = 1, bucket = BUCKET, sseKms = false): Promise<S3BlobStore[]> {
  const prefix = `t${++prefixes}/blobs-root`;
  const serverSideEncryption = sseKms ? { type: 'aws:kms' as const, kmsKeyId: rgw.sseKmsKeyId } : undefined;
  const stores = Array.from({ length: nodes }, () => new S3BlobStore(client(), { bucket, prefix, serverSideEncryption }));
  for (const s of stores) await s.init();
  return stores;
}

blobStoreContract('S3 (Ceph RADOS Gateway)', async () => {
  const [store] = await openStores();
  return { store: store!, close: async () => undefined };
});

// Every object written under the store's own encryption (BERTH_S3_SSE=aws:kms): staged parts,
// composed blobs (multipart, and whole-object copies, which Ceph 16 cannot do as CopyObject).
blobStoreContract('S3 with SSE-KMS (Ceph RADOS Gateway)', async () => {
  const [store] = await openStores(1, BUCKET, true);
  return { store: store!, close: async () => undefined };
});

const dg = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');
const MiB = 1024 * 1024;

function pattern(length: number, seed: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i + 4 <= length; i += 4) b.writeUInt32LE(((i + seed) * 2654435761) >>> 0, i);
  return b;
}

async function* chunks(...parts: Buffer[]): AsyncIterable<Buffer> {
  for (const p of parts) yield p;
}

async function readAll(s: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of s) out.push(c);
  return Buffer.concat(out);
}

async function readBlob(store: S3BlobStore, digest: string, range?: { start: number; end: number }): Promise<Buffer> {
  const reader = await store.openReader(digest, range);
  assert.ok(reader, `${digest} is readable`);
  const out: Buffer[] = [];
  try {
    for (;;) {
      const buf = Buffer.alloc(256 * 1024);
      const n = await reader.read(buf);
      if (n === 0) break;
      assert.ok(n === buf.length || (await reader.read(Buffer.alloc(1))) === 0, 'a reader fills the buffer unless the blob ends');
      out.push(buf.subarray(0, n));
    }
  } finally {
    await reader.close();
  }
  return Buffer.concat(out);
}

async function keysUnder(store: S3Client, prefix: string): Promise<string[]> {
  const res = await store.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (res.Contents ?? []).map((o) => o.Key!);
}

describe('S3BlobStore on Ceph RADOS Gateway', () => {
  it('creates its bucket when missing, and opens an existing one', async () => {
    const bucket = `made-${randomUUID().slice(0, 8)}`;
    const c = client();
    await assert.rejects(c.send(new HeadBucketCommand({ Bucket: bucket })));
    await openStores(1, bucket);
    await c.send(new HeadBucketCommand({ Bucket: bucket }));
    const [again] = await openStores(1, bucket);
    assert.equal(await again!.stat(dg(Buffer.from('x'))), undefined);
  });

  it('chunks of one upload taken by different nodes compose into one blob; only the blob is left', async () => {
    const [a, b, c] = await openStores(3);
    const id = randomUUID();
    const parts = [pattern(3 * MiB, 1), pattern(20 * MiB + 5, 2), pattern(1 * MiB, 3), pattern(2 * MiB, 4), pattern(7, 5), pattern(9 * MiB, 6)];
    let offset = 0;
    const nodes = [a!, b!, c!];
    for (let i = 0; i < parts.length; i++) offset += await nodes[i % 3]!.appendUpload(id, offset, chunks(parts[i]!));
    const whole = Buffer.concat(parts);
    assert.equal(offset, whole.length);
    assert.equal(dg(await readAll(c!.readUpload(id, whole.length))), dg(whole));
    const digest = dg(whole);
    await a!.commitUpload(id, digest, whole.length);
    assert.equal(await b!.stat(digest), whole.length);
    assert.equal(dg(await readBlob(c!, digest)), digest);
    const mid = { start: 3 * MiB - 10, end: 23 * MiB + 100 };
    assert.deepEqual(await readBlob(b!, digest, mid), whole.subarray(mid.start, mid.end + 1));
    const listed: string[] = [];
    for await (const d of a!.list()) listed.push(d);
    assert.deepEqual(listed, [digest]);
    const uploads: string[] = [];
    for await (const u of a!.listUploads()) uploads.push(u.id);
    assert.deepEqual(uploads, []);
  });

  it('with server-side encryption, staged objects and composed blobs (whole copies, multipart, small puts) are all stored encrypted', async () => {
    const [store] = await openStores(1, BUCKET, true);
    const s3 = client();
    const encryption = async (key: string) => (await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).ServerSideEncryption;
    const keys = async () => ((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `t${prefixes}/` }))).Contents ?? []).map((o) => o.Key!);
    // One staged object of 6 MiB (a whole-object copy), one of 20 MiB in three staged objects (multipart), one of 1 KiB (a put).
    for (const data of [pattern(6 * MiB, 7), pattern(20 * MiB, 8), pattern(1024, 9)]) {
      const id = randomUUID();
      await store!.appendUpload(id, 0, chunks(data));
      for (const key of (await keys()).filter((k) => k.includes(`/uploads/${id}/`))) assert.equal(await encryption(key), 'aws:kms', key);
      await store!.commitUpload(id, dg(data), data.length);
      assert.equal(dg(await readBlob(store!, dg(data))), dg(data));
    }
    const blobs = (await keys()).filter((k) => k.includes('/blobs/sha256/'));
    assert.equal(blobs.length, 3);
    for (const key of blobs) assert.equal(await encryption(key), 'aws:kms', key);
  });

  it('a failed append leaves staged objects past the counted length that neither reads nor commits use', async () => {
    const [store] = await openStores();
    const id = randomUUID();
    const head = pattern(2 * MiB, 7);
    await store!.appendUpload(id, 0, chunks(head));
    async function* dies(): AsyncIterable<Buffer> {
      yield pattern(17 * MiB, 8); // two full staged objects are written before the client goes away
      throw new Error('client went away');
    }
    await assert.rejects(store!.appendUpload(id, head.length, dies()), /client went away/);
    const tail = pattern(5 * MiB + 3, 9);
    assert.equal(await store!.appendUpload(id, head.length, chunks(tail)), tail.length);
    const whole = Buffer.concat([head, tail]);
    assert.equal(dg(await readAll(store!.readUpload(id, whole.length))), dg(whole));
    const digest = dg(whole);
    await store!.commitUpload(id, digest, whole.length);
    assert.equal(dg(await readBlob(store!, digest)), digest);
    const uploads: string[] = [];
    for await (const u of store!.listUploads()) uploads.push(u.id);
    assert.deepEqual(uploads, [], 'every staged object is gone after commit, the stale ones too');
  });

  it('the blob is not visible before its commit completes', async () => {
    const [store] = await openStores();
    const id = randomUUID();
    const data = pattern(12 * MiB, 10);
    await store!.appendUpload(id, 0, chunks(data));
    const digest = dg(data);
    assert.equal(await store!.stat(digest), undefined);
    assert.equal(await store!.openReader(digest), undefined);
    const committing = store!.commitUpload(id, digest, data.length);
    const seen = await store!.stat(digest);
    assert.ok(seen === undefined || seen === data.length, `a half-composed blob is never visible (saw ${seen})`);
    await committing;
    assert.equal(await store!.stat(digest), data.length);
  });

  it('directUrl is a pre-signed GET any HTTP client can fetch, with ranges, until it expires', async () => {
    const [store] = await openStores();
    const data = pattern(3 * MiB + 1, 11);
    const id = randomUUID();
    await store!.appendUpload(id, 0, chunks(data));
    const digest = dg(data);
    await store!.commitUpload(id, digest, data.length);
    const url = await store!.directUrl(digest, 60);
    assert.match(url, /X-Amz-Signature=/);
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(dg(Buffer.from(await res.arrayBuffer())), digest);
    const part = await fetch(url, { headers: { Range: 'bytes=10-19' } });
    assert.equal(part.status, 206);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), data.subarray(10, 20));
    const unsigned = await fetch(url.split('?')[0]!);
    assert.equal(unsigned.status, 403, 'the object itself is not public');
    const shortLived = await store!.directUrl(digest, 1);
    await new Promise((r) => setTimeout(r, 2100));
    assert.equal((await fetch(shortLived)).status, 403, 'an expired URL is refused');
  });

  it('list and listUploads pass over objects berth did not write under its prefix', async () => {
    const [store] = await openStores();
    const c = client();
    const root = `t${prefixes}/blobs-root`;
    for (const Key of [`${root}/uploads/README`, `${root}/uploads/not an id/0`, `${root}/blobs/sha256/ab/not-hex`, `${root}/blobs/notes.txt`]) {
      await c.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: 'x' }));
    }
    const id = randomUUID();
    await store!.appendUpload(id, 0, chunks(Buffer.from('mine')));
    const uploads: string[] = [];
    for await (const u of store!.listUploads()) uploads.push(u.id);
    assert.deepEqual(uploads, [id]);
    const blobs: string[] = [];
    for await (const d of store!.list()) blobs.push(d);
    assert.deepEqual(blobs, []);
  });

  it('keeps every object under its prefix', async () => {
    const [store] = await openStores();
    const data = Buffer.from('under the prefix');
    const id = randomUUID();
    await store!.appendUpload(id, 0, chunks(data));
    const c = client();
    const staged = await keysUnder(c, `t${prefixes}/blobs-root/uploads/${id}/`);
    assert.equal(staged.length, 1);
    await store!.commitUpload(id, dg(data), data.length);
    const hex = dg(data).slice('sha256:'.length);
    assert.deepEqual(await keysUnder(c, `t${prefixes}/`), [`t${prefixes}/blobs-root/blobs/sha256/${hex.slice(0, 2)}/${hex}`]);
  });
});
