// The whole data dir on a small tmpfs, filled by a push: berth answers with a spec-shaped 5xx, keeps
// serving pulls, reports itself not ready, and takes pushes again once the API has freed the space.
// Skipped where mounting a tmpfs is not allowed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBerth, type Berth } from '../helpers/berth.js';
import { mountTmpfs, unmount } from '../helpers/tmpfs.js';
import { blobPath, deleteManifest, memImage, pushMemImage, request, startUpload, uploadBlob } from '../helpers/oci.js';

const MiB = 1024 * 1024;
const REPO = 'full/disk';
let dataDir: string;
let mounted = false;
let b: Berth | undefined;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'berth-e2e-full-'));
  mounted = mountTmpfs(dataDir, '40m');
  if (!mounted) return;
  b = await startBerth({ dataDir, env: { BERTH_CREATE_ON_PUSH: 'true', BERTH_MIN_FREE_BYTES: String(24 * MiB) } });
});

after(async () => {
  await b?.stop();
  if (mounted) unmount(dataDir);
  await rm(dataDir, { recursive: true, force: true });
});

/** PATCH with a streamed (chunked) body of `size` random bytes: no Content-Length, so only the disk can stop it. */
async function patchStreamed(location: string, size: number): Promise<{ status: number; body: string }> {
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= size) return controller.close();
      const part = randomBytes(Math.min(MiB, size - sent));
      sent += part.length;
      controller.enqueue(new Uint8Array(part));
    },
  });
  const res = await b!.fetch(location, { method: 'PATCH', headers: { 'content-type': 'application/octet-stream' }, body, duplex: 'half' } as RequestInit);
  return { status: res.status, body: await res.text() };
}

describe('a data dir that fills up during a push', () => {
  it('fails the push with 507, keeps serving pulls, and recovers through the API alone', { timeout: 60_000 }, async (t) => {
    if (!mounted || !b) return t.skip('mounting a tmpfs is not allowed here');
    const kept = randomBytes(2 * MiB);
    const { digest } = await uploadBlob(b, REPO, kept);

    const session = await startUpload(b, REPO);
    const first = await patchStreamed(session.location, 20 * MiB);
    assert.equal(first.status, 202, first.body);
    const full = await patchStreamed(session.location, 30 * MiB);
    assert.equal(full.status, 507, full.body);
    assert.equal((JSON.parse(full.body) as { errors: Array<{ code: string }> }).errors[0]!.code, 'UNKNOWN');
    assert.match(full.body, /no space left/);

    const pull = await request(b, 'GET', blobPath(REPO, digest));
    assert.equal(pull.status, 200, 'pulls go on');
    assert.ok(pull.body.equals(kept));
    assert.equal((await fetch(`${b.url}/readyz`)).status, 503, 'the node says it is short of space');

    const cancelled = await request(b, 'DELETE', session.location);
    assert.equal(cancelled.status, 204, cancelled.describe());
    assert.equal((await fetch(`${b.url}/readyz`)).status, 200, 'ready again once the upload is gone');

    const again = randomBytes(12 * MiB);
    const pushed = await uploadBlob(b, REPO, again);
    const back = await request(b, 'GET', blobPath(REPO, pushed.digest));
    assert.equal(back.status, 200);
    assert.ok(back.body.equals(again), 'a push after the recovery round-trips');
  });
});

/** Writes a file in `dir` until the file system has no byte left; returns how much it wrote. */
async function fillUp(dir: string): Promise<number> {
  const file = await open(join(dir, 'filler'), 'w');
  const block = Buffer.alloc(64 * 1024, 1);
  let written = 0;
  try {
    for (;;) {
      const { bytesWritten } = await file.write(block);
      written += bytesWritten;
      if (bytesWritten < block.length) break;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    await file.close();
  }
  return written;
}

describe('a data dir filled to the last byte by something else', () => {
  let fullDir: string;
  let fullMounted = false;
  let fb: Berth | undefined;
  before(async () => {
    fullDir = await mkdtemp(join(tmpdir(), 'berth-e2e-full-meta-'));
    fullMounted = mountTmpfs(fullDir, '48m');
    if (!fullMounted) return;
    fb = await startBerth({
      dataDir: fullDir,
      env: { BERTH_CREATE_ON_PUSH: 'true', BERTH_MIN_FREE_BYTES: String(4 * MiB), BERTH_GC_INTERVAL: '1', BERTH_GC_GRACE: '5' },
    });
  });
  after(async () => {
    await fb?.stop();
    if (fullMounted) unmount(fullDir);
    await rm(fullDir, { recursive: true, force: true });
  });

  it('deletes an image through the API although the metadata database cannot grow, and takes pushes again', { timeout: 90_000 }, async (t) => {
    if (!fullMounted || !fb) return t.skip('mounting a tmpfs is not allowed here');
    const big = memImage([{ 'data.bin': randomBytes(20 * MiB) }]);
    await pushMemImage(fb, 'meta/full', 'big', big);
    const small = memImage([{ 'small.txt': 'kept' }]);
    await pushMemImage(fb, 'meta/full', 'small', small);
    assert.ok((await fillUp(fullDir)) > 0);

    const refused = await request(fb, 'PUT', `/v2/meta/full/manifests/other`, {
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      body: small.manifest,
    });
    assert.ok(refused.status === 507 || refused.status === 201, refused.describe());

    const deleted = await deleteManifest(fb, 'meta/full', big.digest);
    assert.equal(deleted.status, 202, deleted.describe());
    const gone = await request(fb, 'GET', `/v2/meta/full/manifests/${big.digest}`);
    assert.equal(gone.status, 404);
    const kept = await request(fb, 'GET', `/v2/meta/full/manifests/small`);
    assert.equal(kept.status, 200, 'pulls go on');

    // Garbage collection gives the deleted image's bytes back; then pushes work again, no restart.
    const again = memImage([{ 'again.bin': randomBytes(4 * MiB) }]);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ready = (await fetch(`${fb.url}/readyz`)).status === 200;
      if (ready) break;
      assert.ok(Date.now() < deadline, 'the deleted image\'s space came back');
      await new Promise((r) => setTimeout(r, 500));
    }
    await pushMemImage(fb, 'meta/full', 'again', again);
    const back = await request(fb, 'GET', blobPath('meta/full', again.blobs[1]!.digest));
    assert.ok(back.body.equals(again.layers[0]!));
  });
});
