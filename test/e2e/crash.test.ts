// kill -9 in the middle of work, restart on the same data dir: everything acknowledged (201) is intact,
// nothing half-written is visible, and the server carries on normally.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ListImagesCommand, type ImageIdentifier } from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.js';
import {
  MediaType,
  PatternBlob,
  blobPath,
  errorCodes,
  expectError,
  expectStatus,
  finishUpload,
  getBlob,
  getManifest,
  hashBlob,
  listTags,
  memImage,
  patchChunk,
  putManifest,
  request,
  sha256,
  startUpload,
  pushMemImage,
  descriptor,
  type MemImage,
} from '../helpers/oci.js';

const MiB = 1024 * 1024;

function parseRange(value: string | null | undefined): number | undefined {
  // OCI: "Range: 0-<last byte offset>" (inclusive); returns the number of bytes held.
  const m = /^(?:bytes=)?0-(\d+)$/.exec(value ?? '');
  return m ? Number(m[1]) + 1 : undefined;
}

describe('crash: kill -9 during a large chunked upload', () => {
  let b: Berth;
  const repo = 'crash/big';
  const SIZE = 300 * MiB;
  const CHUNK = 64 * MiB;
  const blob = new PatternBlob('berth-e2e-crash-big', SIZE);

  before(async () => {
    b = await startBerth({ env: { BERTH_CREATE_ON_PUSH: 'true' } });
  });
  after(async () => {
    await b?.destroy();
  });

  test('acknowledged data survives, the interrupted blob never appears, the upload resumes or is gone', { timeout: 120_000 }, async () => {
    const ctx = (msg: string) => `${msg}\n--- server output ---\n${b.output().slice(-3000)}`;

    // Acknowledged before the crash: a small image.
    const small = memImage([{ 'before.txt': 'pushed before the crash\n' }]);
    await pushMemImage(b, repo, 'before', small);

    const digest = blob.digest();
    const post = await startUpload(b, repo);
    expectStatus(post, 202);
    let location = post.location;
    let acked = 0;
    for (let i = 0; i < 2; i++) {
      const res = await patchChunk(b, location, blob, acked, acked + CHUNK).done;
      assert.equal(res.status, 202, ctx(`PATCH ${acked}-${acked + CHUNK - 1} -> ${res.status} ${res.body}`));
      assert.equal(parseRange(res.headers.range), acked + CHUNK, `Range header after PATCH: ${res.headers.range}`);
      assert.ok(res.headers.location, 'PATCH response has a Location');
      location = new URL(res.headers.location, b.url).toString();
      acked += CHUNK;
    }

    // Third chunk: kill -9 once half of it has been handed to the socket.
    let killing: Promise<void> | undefined;
    const third = patchChunk(b, location, blob, acked, acked + CHUNK, (sent) => {
      if (!killing && sent >= CHUNK / 2) killing = b.kill9();
    });
    const outcome = await third.done.then(
      (res) => `HTTP ${res.status} ${res.body}`,
      (err: Error) => err,
    );
    await killing;
    assert.ok(outcome instanceof Error, `the interrupted PATCH got an answer instead of a broken connection: ${String(outcome)}`);
    const sent = acked + third.sent();

    await b.restart();

    // 1. What was acknowledged is intact.
    const m = await getManifest(b, repo, 'before');
    expectStatus(m, 200);
    assert.ok(m.body.equals(small.manifest), m.describe());
    assert.equal(m.headers.get('docker-content-digest'), small.digest);
    for (const bl of small.blobs) {
      const got = await getBlob(b, repo, bl.digest);
      expectStatus(got, 200);
      assert.ok(got.body.equals(bl.data), `blob ${bl.digest} differs after restart`);
    }

    // 2. The interrupted blob is not visible, and nothing can reference it.
    expectStatus(await request(b, 'HEAD', blobPath(repo, digest)), 404);
    expectError(await getBlob(b, repo, digest), 404, 'BLOB_UNKNOWN');
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [digest] } }));
    const bigManifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: descriptor(MediaType.ociConfig, config),
        layers: [{ mediaType: MediaType.ociLayerTar, digest, size: SIZE }],
      }),
    );
    const cfgUp = await startUpload(b, repo);
    expectStatus(await finishUpload(b, cfgUp.location, sha256(config), config), 201);
    const early = await putManifest(b, repo, 'big', bigManifest, MediaType.ociManifest);
    assert.ok(early.status === 400 || early.status === 404, `manifest referencing a missing blob accepted:\n${early.describe()}`);
    assert.ok(errorCodes(early).includes('MANIFEST_BLOB_UNKNOWN'), early.describe());

    // 3. The upload session (as a client would address it: the last Location it was given) either
    //    resumes from an offset we really sent, or it is gone.
    const status = await request(b, 'GET', location);
    let resumeFrom: number;
    let uploadUrl: string;
    if (status.status === 204) {
      const held = parseRange(status.headers.get('range'));
      assert.ok(held !== undefined, `204 without a usable Range header:\n${status.describe()}`);
      assert.ok(held >= acked, `upload lost acknowledged bytes: holds ${held}, ${acked} were acknowledged\n${status.describe()}`);
      assert.ok(held <= sent, `upload claims ${held} bytes, only ${sent} were sent\n${status.describe()}`);
      assert.ok(status.headers.get('location'), status.describe());
      uploadUrl = new URL(status.headers.get('location')!, b.url).toString();
      resumeFrom = held;
    } else {
      // Distribution 2.8 answers BLOB_UPLOAD_INVALID here (its hash state no longer matches); allowed only for it.
      const gone = b.target === 'distribution' && errorCodes(status).includes('BLOB_UPLOAD_INVALID') ? 'BLOB_UPLOAD_INVALID' : 'BLOB_UPLOAD_UNKNOWN';
      expectError(status, 404, gone);
      const patchGone = await patchChunk(b, location, blob, acked, acked + MiB).done.catch((e: Error) => e);
      assert.ok(!(patchGone instanceof Error) && patchGone.status === 404, `PATCH to a gone session: ${JSON.stringify(patchGone)}`);
      const fresh = await startUpload(b, repo);
      expectStatus(fresh, 202);
      uploadUrl = fresh.location;
      resumeFrom = 0;
    }
    for (let off = resumeFrom; off < SIZE; off += 100 * MiB) {
      const end = Math.min(SIZE, off + 100 * MiB);
      const res = await patchChunk(b, uploadUrl, blob, off, end).done;
      assert.equal(res.status, 202, ctx(`resume PATCH ${off}-${end - 1} -> ${res.status} ${res.body}`));
      assert.equal(parseRange(res.headers.range), end, `Range after resume PATCH: ${res.headers.range}`);
      uploadUrl = new URL(res.headers.location ?? uploadUrl, b.url).toString();
    }
    const done = await finishUpload(b, uploadUrl, digest);
    expectStatus(done, 201);
    assert.equal(done.headers.get('docker-content-digest'), digest, done.describe());

    // 4. The finished blob is byte-identical, and the server works normally.
    const head = await request(b, 'HEAD', blobPath(repo, digest));
    expectStatus(head, 200);
    assert.equal(Number(head.headers.get('content-length')), SIZE, head.describe());
    const got = await hashBlob(b, repo, digest);
    assert.equal(got.status, 200, got.body);
    assert.equal(got.size, SIZE);
    assert.equal(got.digest, digest);
    expectStatus(await putManifest(b, repo, 'big', bigManifest, MediaType.ociManifest), 201);
    const bigBack = await getManifest(b, repo, 'big');
    expectStatus(bigBack, 200);
    assert.ok(bigBack.body.equals(bigManifest));
  });
});

interface Item {
  repo: string;
  tag: string;
  img: MemImage;
  attempted: boolean;
  blobAcked: boolean[];
  manifestAcked: boolean;
  error?: string;
}

describe('crash: kill -9 during a burst of concurrent pushes', () => {
  let b: Berth;
  const repos = ['crash/burst-a', 'crash/burst-b', 'crash/burst-c'];
  const items: Item[] = [];

  before(async () => {
    b = await startBerth({ env: { BERTH_CREATE_ON_PUSH: 'true' } });
  });
  after(async () => {
    await b?.destroy();
  });

  async function pushItem(it: Item, stop: () => boolean): Promise<void> {
    it.attempted = true;
    try {
      for (let i = 0; i < it.img.blobs.length; i++) {
        if (stop()) return;
        const data = it.img.blobs[i]!.data;
        const post = await startUpload(b, it.repo);
        if (post.status !== 202) throw new Error(post.describe());
        const put = await finishUpload(b, post.location, sha256(data), data);
        if (put.status !== 201) throw new Error(put.describe());
        it.blobAcked[i] = true;
      }
      if (stop()) return;
      const put = await putManifest(b, it.repo, it.tag, it.img.manifest, MediaType.ociManifest);
      if (put.status !== 201) throw new Error(put.describe());
      if (put.headers.get('docker-content-digest') !== it.img.digest) {
        throw new Error(`201 with wrong Docker-Content-Digest:\n${put.describe()}`);
      }
      it.manifestAcked = true;
    } catch (err) {
      it.error = err instanceof Error ? err.message : String(err);
    }
  }

  async function burst(round: number, count: number, killAfter: number): Promise<Item[]> {
    const batch: Item[] = [];
    for (let i = 0; i < count; i++) {
      const img = memImage(
        [{ [`round${round}/item${i}.bin`]: randomBytes(16 * 1024 + i) }],
        { 'org.example.round': String(round), 'org.example.item': String(i) },
      );
      batch.push({ repo: repos[i % repos.length]!, tag: `r${round}-i${i}`, img, attempted: false, blobAcked: [], manifestAcked: false });
    }
    items.push(...batch);
    let next = 0;
    let ackedManifests = 0;
    let killing: Promise<void> | undefined;
    const stop = () => killing !== undefined;
    const worker = async () => {
      while (!stop() && next < batch.length) {
        const it = batch[next++]!;
        await pushItem(it, stop);
        if (it.manifestAcked && ++ackedManifests >= killAfter && !killing) killing = b.kill9();
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    assert.ok(killing, `burst ${round} finished before ${killAfter} pushes were acknowledged: ${batch.find((x) => x.error)?.error}`);
    await killing;
    const interrupted = batch.filter((x) => x.attempted && !x.manifestAcked);
    assert.ok(interrupted.length > 0, 'the kill did not interrupt any push');
    return batch;
  }

  async function verifyAll(when: string): Promise<void> {
    const fail = (msg: string) => assert.fail(`${when}: ${msg}\n--- server output ---\n${b.output().slice(-3000)}`);
    for (const it of items.filter((x) => x.attempted)) {
      // Blobs: acknowledged ones byte-identical; the others absent or complete.
      for (let i = 0; i < it.img.blobs.length; i++) {
        const { digest, data } = it.img.blobs[i]!;
        const got = await getBlob(b, it.repo, digest);
        if (got.status === 200) {
          if (!got.body.equals(data)) fail(`blob ${digest} in ${it.repo} is not byte-identical (${got.body.length}/${data.length} bytes)`);
        } else if (it.blobAcked[i]) {
          fail(`acknowledged blob lost:\n${got.describe()}`);
        } else if (got.status !== 404) {
          fail(`unexpected answer for an unacknowledged blob:\n${got.describe()}`);
        }
      }
      // Manifests: acknowledged ones exact, by tag and digest; the others absent or exact.
      const byTag = await getManifest(b, it.repo, it.tag);
      const byDigest = await getManifest(b, it.repo, it.img.digest);
      for (const ex of [byTag, byDigest]) {
        if (ex.status === 200) {
          if (!ex.body.equals(it.img.manifest)) fail(`manifest ${it.repo}:${it.tag} is not byte-identical:\n${ex.describe()}`);
          if (ex.headers.get('docker-content-digest') !== it.img.digest) fail(`wrong digest header:\n${ex.describe()}`);
          if (ex.headers.get('content-type') !== MediaType.ociManifest) fail(`wrong content type:\n${ex.describe()}`);
        } else if (it.manifestAcked) {
          fail(`acknowledged manifest ${it.repo}:${it.tag} lost:\n${ex.describe()}`);
        } else if (ex.status !== 404) {
          fail(`unexpected answer for an unacknowledged manifest:\n${ex.describe()}`);
        }
      }
      if (byTag.status === 200 && byDigest.status !== 200) fail(`tag ${it.tag} resolves but its digest does not:\n${byDigest.describe()}`);
      // A visible manifest never points at missing blobs.
      if (byDigest.status === 200) {
        for (const { digest } of it.img.blobs) {
          const head = await request(b, 'HEAD', blobPath(it.repo, digest));
          if (head.status !== 200) fail(`manifest ${it.img.digest} is visible but its blob is not:\n${head.describe()}`);
        }
      }
    }
    // Tag lists: every acknowledged tag listed, every listed tag resolves.
    for (const repo of repos) {
      const list = await listTags(b, repo);
      expectStatus(list, 200);
      for (const it of items.filter((x) => x.repo === repo && x.manifestAcked)) {
        if (!list.tags.includes(it.tag)) fail(`acknowledged tag ${repo}:${it.tag} missing from tags/list`);
      }
      for (const tag of list.tags) {
        const ex = await getManifest(b, repo, tag, 'HEAD');
        if (ex.status !== 200) fail(`tags/list shows ${repo}:${tag} but it does not resolve:\n${ex.describe()}`);
      }
    }
  }

  test('two rounds of kill -9 mid-burst: acknowledged pushes intact, nothing partial visible', { timeout: 120_000 }, async () => {
    const round1 = await burst(1, 160, 40);
    await b.restart();
    await verifyAll('after crash 1');
    const round2 = await burst(2, 100, 5);
    await b.restart();
    await verifyAll('after crash 2');
    const acked = [...round1, ...round2].filter((x) => x.manifestAcked).length;
    assert.ok(acked >= 45, `only ${acked} manifests acknowledged`);
  });

  test('after the crashes, retried pushes succeed and the server works normally', { timeout: 60_000 }, async () => {
    const retry = items.filter((x) => !x.manifestAcked);
    assert.ok(retry.length > 0);
    for (const it of retry) {
      it.error = undefined;
      await pushItem(it, () => false);
      assert.ok(it.manifestAcked, `retry of ${it.repo}:${it.tag} failed: ${it.error}\n--- server output ---\n${b.output().slice(-3000)}`);
    }
    await verifyAll('after retries');
    for (const repo of repos) {
      const list = await listTags(b, repo);
      assert.deepEqual(
        [...list.tags].sort(),
        items.filter((x) => x.repo === repo).map((x) => x.tag).sort(),
      );
    }
  });

  test('ECR ListImages agrees with /v2 after the crashes', { timeout: 60_000 }, async (t) => {
    if (!b.ecr) return t.skip('no ECR API on this target');
    for (const repo of repos) {
      const seen: ImageIdentifier[] = [];
      let nextToken: string | undefined;
      do {
        const page = await b.ecr.send(new ListImagesCommand({ repositoryName: repo, nextToken, maxResults: 1000 }));
        seen.push(...(page.imageIds ?? []));
        nextToken = page.nextToken;
      } while (nextToken);
      const pairs = new Set(seen.map((id) => `${id.imageDigest}@${id.imageTag}`));
      for (const it of items.filter((x) => x.repo === repo && x.manifestAcked)) {
        assert.ok(pairs.has(`${it.img.digest}@${it.tag}`), `ListImages(${repo}) lacks ${it.tag} -> ${it.img.digest}`);
      }
      assert.equal(seen.length, items.filter((x) => x.repo === repo).length, `ListImages(${repo}) has extra entries`);
    }
  });
});
