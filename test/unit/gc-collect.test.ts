import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { collectGarbage } from '../../src/domain/gc/collect.js';
import { digestOf } from '../../src/domain/registry/digest.js';
import { openFixture, withFixture, pushImage, putBlob, type Fixture } from './lifecycle-fixture.js';

const GRACE = 5_000;
/** A GC pass as if run `ms` from now. */
const later = (f: Fixture, ms: number, dryRun = false) => collectGarbage(f.meta, f.blobs, { graceMs: GRACE, now: Date.now() + ms, dryRun });

async function blobFiles(f: Fixture): Promise<string[]> {
  const out: string[] = [];
  for await (const d of f.blobs.list()) out.push(d);
  return out.sort();
}

async function* once(data: Buffer): AsyncIterable<Buffer> {
  yield data;
}

describe('garbage collection', () => {
  it('keeps every blob a manifest needs, tagged or untagged, however old', () =>
    withFixture(async (f) => {
      const tagged = await pushImage(f, 'tagged', ['v1'], 100);
      const untagged = await pushImage(f, 'untagged', [], 100);
      const before = await blobFiles(f);
      for (let i = 0; i < 3; i++) {
        const r = await later(f, 60_000);
        assert.equal(r.blobsDeleted + r.linksRemoved + r.orphanFilesDeleted, 0);
      }
      assert.deepEqual(await blobFiles(f), before);
      assert.ok(await f.meta.getManifest(f.repo.id, tagged));
      assert.ok(await f.meta.getManifest(f.repo.id, untagged));
    }),
  );

  it('removes an unreferenced blob only after the grace period: link first, then row and file', () =>
    withFixture(async (f) => {
      const { digest, size } = await putBlob(f, Buffer.from('uploaded but never used by a manifest'));
      let r = await later(f, 1_000);
      assert.deepEqual([r.linksRemoved, r.blobsDeleted], [0, 0], 'inside the grace period');
      r = await later(f, 10_000);
      assert.deepEqual([r.linksRemoved, r.blobsDeleted], [1, 0], 'the link goes first');
      assert.equal(await f.meta.getRepoBlob(f.repo.id, digest), undefined);
      assert.ok(await f.meta.getBlob(digest), 'the row waits one more pass');
      r = await later(f, 10_000);
      assert.deepEqual([r.blobsDeleted, r.bytesFreed], [1, size]);
      assert.equal(await f.meta.getBlob(digest), undefined);
      assert.equal(await f.blobs.stat(digest), undefined);
    }),
  );

  it('keeps a blob another repository still links or a manifest references', () =>
    withFixture(async (f) => {
      const other = (await f.meta.createRepository(f.repo.registryId, 'other'))!;
      const image = await pushImage(f, 'shared', ['v1'], 0);
      const m = (await f.meta.getManifest(f.repo.id, image))!;
      const layer = (JSON.parse(m.body.toString()) as { layers: Array<{ digest: string }> }).layers[0]!.digest;
      await f.meta.linkBlob(other.id, layer, Date.now());
      await later(f, 10_000);
      await later(f, 10_000);
      assert.equal(await f.meta.getRepoBlob(other.id, layer), undefined, 'unused link in the other repository goes');
      assert.ok(await f.meta.getRepoBlob(f.repo.id, layer), 'the link the manifest needs stays');
      assert.ok(await f.blobs.stat(layer));
    }),
  );

  it('restores a link a manifest needs but its repository lost', () =>
    withFixture(async (f) => {
      const image = await pushImage(f, 'img', ['v1'], 0);
      const m = (await f.meta.getManifest(f.repo.id, image))!;
      const layer = (JSON.parse(m.body.toString()) as { layers: Array<{ digest: string }> }).layers[0]!.digest;
      await f.meta.unlinkBlob(f.repo.id, layer);
      const r = await later(f, 10_000);
      assert.equal(r.linksRestored, 1);
      assert.ok(await f.meta.getRepoBlob(f.repo.id, layer));
      assert.ok(await f.blobs.stat(layer));
    }),
  );

  it('removes blob files without a row once they have been orphaned for the grace period', () =>
    withFixture(async (f) => {
      const data = Buffer.from('a file nobody recorded');
      const digest = digestOf('sha256', data);
      const hex = digest.slice('sha256:'.length);
      await mkdir(join(f.dir, 'blobs', 'sha256', hex.slice(0, 2)), { recursive: true });
      await writeFile(join(f.dir, 'blobs', 'sha256', hex.slice(0, 2), hex), data);
      let r = await later(f, 0);
      assert.equal(r.orphanFilesDeleted, 0, 'first sighting only records it');
      r = await later(f, 1_000);
      assert.equal(r.orphanFilesDeleted, 0, 'still inside the grace period');
      r = await later(f, 10_000);
      assert.deepEqual([r.orphanFilesDeleted, r.bytesFreed], [1, data.length]);
      assert.equal(await f.blobs.stat(digest), undefined);
    }),
  );

  it('removes abandoned uploads (row and file) after the grace period, not active ones', () =>
    withFixture(async (f) => {
      const upload = await f.registry.uploads.start(f.repo);
      await f.registry.uploads.append(f.repo, upload.id, once(Buffer.from('partial')), {});
      assert.equal((await later(f, 1_000)).uploadsRemoved, 0);
      assert.equal((await later(f, 10_000)).uploadsRemoved, 1);
      assert.equal(await f.meta.getUpload(upload.id), undefined);
      assert.deepEqual(await readdir(join(f.dir, 'uploads')), []);
    }),
  );

  it('dry run reports and removes nothing', () =>
    withFixture(async (f) => {
      const { digest } = await putBlob(f, Buffer.from('dry'));
      const upload = await f.registry.uploads.start(f.repo);
      const r = await later(f, 10_000, true);
      assert.deepEqual([r.dryRun, r.linksRemoved, r.uploadsRemoved], [true, 1, 1]);
      assert.ok(await f.meta.getRepoBlob(f.repo.id, digest));
      assert.ok(await f.blobs.stat(digest));
      assert.ok(await f.meta.getUpload(upload.id));
    }),
  );
});
