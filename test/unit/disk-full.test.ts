// A full disk during a push, for real: blobs on a small tmpfs (skipped where mounting is not allowed).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectGarbage } from '../../src/domain/gc/collect.js';
import { isRegistryError } from '../../src/domain/registry/errors.js';
import type { Repository } from '../../src/domain/registry/model.js';
import { Registry } from '../../src/domain/registry/registry.js';
import { FsBlobStore } from '../../src/store/blob/fs-blob-store.js';
import { MetadataStore } from '../../src/store/meta/metadata-store.js';
import { migrate } from '../../src/store/meta/migrations.js';
import { SqliteDb } from '../../src/store/meta/sqlite.js';
import { mountTmpfs, unmount } from '../helpers/tmpfs.js';

const MiB = 1024 * 1024;
let dir: string;
let blobDir: string;
let mounted = false;
let meta: MetadataStore;
let registry: Registry;
let blobs: FsBlobStore;
let repo: Repository;

async function* chunks(data: Buffer, size = 256 * 1024): AsyncIterable<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

const digest = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

async function uploadBytes(): Promise<number> {
  let total = 0;
  for (const name of await readdir(join(blobDir, 'uploads'))) total += (await stat(join(blobDir, 'uploads', name))).size;
  return total;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-disk-full-'));
  blobDir = await mkdtemp(join(tmpdir(), 'berth-disk-full-blobs-'));
  mounted = mountTmpfs(blobDir, '8m');
  if (!mounted) return;
  const db = new SqliteDb(join(dir, 'metadata.db'));
  await migrate(db);
  meta = new MetadataStore(db);
  blobs = new FsBlobStore(blobDir);
  await blobs.init();
  registry = new Registry(meta, blobs);
  repo = await registry.repositories.create({ registryId: '123456789012', name: 'full/disk' }, {});
});

after(async () => {
  await meta?.close();
  if (mounted) unmount(blobDir);
  await rm(blobDir, { recursive: true, force: true });
  await rm(dir, { recursive: true, force: true });
});

describe('a full disk during a push', () => {
  it('fails the chunk with StorageFull, gives its space back, and pushes again once space exists, without a restart', async (t) => {
    if (!mounted) return t.skip('mounting a tmpfs is not allowed here');
    const first = randomBytes(5 * MiB);
    const kept = await registry.uploads.whole(repo, digest(first), chunks(first));
    assert.equal(kept.size, first.length);

    const upload = await registry.uploads.start(repo);
    const tooMuch = randomBytes(4 * MiB);
    await assert.rejects(registry.uploads.append(repo, upload.id, chunks(tooMuch)), (e: unknown) => isRegistryError(e, 'StorageFull'));
    assert.equal((await registry.uploads.get(repo, upload.id)).size, 0, 'the upload did not advance');
    assert.equal(await uploadBytes(), 0, 'the failed chunk left no bytes behind');

    const announced = registry.uploads.append(repo, upload.id, chunks(tooMuch), { expectedLength: tooMuch.length });
    await assert.rejects(announced, (e: unknown) => isRegistryError(e, 'UploadTooLarge'), 'an announced chunk that cannot fit is refused before writing');

    const readiness = await registry.readiness(4 * MiB);
    assert.equal(readiness.lowDisk, true);
    assert.equal(readiness.ready, false);

    await registry.uploads.cancel(repo, upload.id);
    await registry.blobs.unlink(repo, kept.digest);
    // The operator frees space the ordinary way: garbage collection removes the unreferenced blob.
    for (let pass = 0; pass < 2; pass++) await collectGarbage(meta, blobs, { graceMs: 0, now: Date.now() + 1000 });
    const again = randomBytes(2 * MiB);
    assert.equal((await registry.uploads.whole(repo, digest(again), chunks(again))).size, again.length);
    assert.equal((await registry.readiness(1 * MiB)).ready, true);
  });
});
