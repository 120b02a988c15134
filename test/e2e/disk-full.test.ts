// The whole data dir on a small tmpfs, filled by a push: berth answers with a spec-shaped 5xx, keeps
// serving pulls, reports itself not ready, and takes pushes again once the API has freed the space.
// Skipped where mounting a tmpfs is not allowed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBerth, type Berth } from '../helpers/berth.js';
import { mountTmpfs, unmount } from '../helpers/tmpfs.js';
import { blobPath, request, startUpload, uploadBlob } from '../helpers/oci.js';

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
