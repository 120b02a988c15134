// Real clients (skopeo, podman) against a running berth: images go in and come back out unchanged,
// deletes and cross-repository mounts behave like ECR over the OCI Distribution API.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetAccountSettingCommand, PutAccountSettingCommand } from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.js';
import {
  buildImage,
  buildMultiPlatformIndex,
  buildRunnableImage,
  readBlob,
  readLayoutImage,
  readLayoutManifest,
  layoutEntry,
  verifyLayoutBlobs,
} from '../helpers/images.js';
import {
  MediaType,
  blobPath,
  deleteManifest,
  errorCodes,
  expectError,
  expectStatus,
  getBlob,
  getManifest,
  listTags,
  memImage,
  pushMemImage,
  putManifest,
  request,
  sha256,
  startUpload,
} from '../helpers/oci.js';
import { createPodman, skopeo, skopeoCreds, tempDir, type Podman } from '../helpers/tools.js';

describe('real clients against berth', () => {
  let b: Berth;
  let work: { path: string; remove: () => Promise<void> };
  let podman: Podman | undefined;
  const isBerth = () => b.target === 'berth';

  const dest = (repo: string, tag: string) => `docker://${b.host}/${repo}:${tag}`;
  const copyIn = (src: string, to: string, extra: string[] = []) =>
    skopeo(['copy', '--preserve-digests', '--dest-tls-verify=false', ...skopeoCreds('--dest-creds', b.password), ...extra, src, to]);
  const copyOut = (from: string, to: string, extra: string[] = []) =>
    skopeo(['copy', '--preserve-digests', '--src-tls-verify=false', ...skopeoCreds('--src-creds', b.password), ...extra, from, to]);
  const inspect = (ref: string, extra: string[] = [], check = true) =>
    skopeo(['inspect', '--tls-verify=false', ...skopeoCreds('--creds', b.password), ...extra, ref], { check });
  const withLog = (msg: string) => `${msg}\n--- server output ---\n${b.output().slice(-3000)}`;

  before(async () => {
    b = await startBerth();
    work = await tempDir('clients');
    for (const repo of ['e2e/single', 'e2e/multi', 'e2e/runnable', 'e2e/pushed', 'e2e/deletes', 'e2e/deletes-digest', 'e2e/mount-a', 'e2e/mount-b', 'e2e/mount-c']) {
      await b.createRepository(repo);
    }
  });

  after(async () => {
    await podman?.cleanup();
    await b?.destroy();
    await work?.remove();
  });

  test('skopeo copies a single image in and back out unchanged', async () => {
    const src = await buildImage({
      layout: join(work.path, 'single'),
      tag: 'v1',
      files: [
        { path: '/etc/motd', content: 'hello from a berth e2e test\n' },
        { path: '/usr/share/data.bin', content: Buffer.alloc(200_000, 7) },
        { path: '/etc/os-release', content: 'ID=berth-e2e\n' },
      ],
      entrypoint: ['/bin/sh'],
    });
    assert.equal(src.layerDigests.length, 3);
    await copyIn(src.ref, dest('e2e/single', 'v1'));

    // The registry serves the manifest byte for byte, by tag and by digest.
    const byTag = await getManifest(b, 'e2e/single', 'v1');
    expectStatus(byTag, 200);
    assert.equal(byTag.headers.get('docker-content-digest'), src.digest, byTag.describe());
    assert.equal(byTag.headers.get('content-type'), MediaType.ociManifest, byTag.describe());
    assert.ok(byTag.body.equals(src.manifest), withLog(`manifest bytes differ:\n${byTag.describe()}`));
    const byDigest = await getManifest(b, 'e2e/single', src.digest);
    expectStatus(byDigest, 200);
    assert.ok(byDigest.body.equals(src.manifest));
    const head = await getManifest(b, 'e2e/single', 'v1', 'HEAD');
    expectStatus(head, 200);
    assert.equal(head.headers.get('docker-content-digest'), src.digest, head.describe());
    assert.equal(Number(head.headers.get('content-length')), src.manifest.length, head.describe());

    // skopeo inspect sees the same digest and layers.
    const info = JSON.parse((await inspect(dest('e2e/single', 'v1'))).stdout) as { Digest: string; Layers: string[] };
    assert.equal(info.Digest, src.digest);
    assert.deepEqual(info.Layers, src.layerDigests);

    // Out again, into a fresh layout: same manifest, same config and layer blobs.
    const outLayout = join(work.path, 'single-out');
    await copyOut(dest('e2e/single', 'v1'), `oci:${outLayout}:copy`);
    const out = await readLayoutImage(outLayout, 'copy');
    assert.equal(out.digest, src.digest);
    assert.ok(out.manifest.equals(src.manifest));
    assert.equal(out.configDigest, src.configDigest);
    assert.deepEqual(out.layerDigests, src.layerDigests);
    await verifyLayoutBlobs(outLayout);
    for (const d of [src.configDigest, ...src.layerDigests]) {
      assert.ok((await readBlob(outLayout, d)).equals(await readBlob(src.layout, d)), `blob ${d} differs`);
      const blob = await getBlob(b, 'e2e/single', d);
      expectStatus(blob, 200);
      assert.equal(sha256(blob.body), d);
    }
  });

  test('skopeo copy --all round-trips a multi-platform OCI index', async () => {
    const src = await buildMultiPlatformIndex(join(work.path, 'multi'), 'multi');
    await copyIn(src.ref, dest('e2e/multi', 'multi'), ['--all']);

    const idx = await getManifest(b, 'e2e/multi', 'multi');
    expectStatus(idx, 200);
    assert.equal(idx.headers.get('content-type'), MediaType.ociIndex, idx.describe());
    assert.equal(idx.headers.get('docker-content-digest'), src.digest, idx.describe());
    assert.ok(idx.body.equals(src.index), withLog(`index bytes differ:\n${idx.describe()}`));
    for (const child of src.children) {
      const m = await getManifest(b, 'e2e/multi', child.digest);
      expectStatus(m, 200);
      assert.ok(m.body.equals(child.manifest), `child ${child.platform.architecture} differs:\n${m.describe()}`);
    }

    // Platform selection picks the right child.
    const arm = JSON.parse((await inspect(dest('e2e/multi', 'multi'), ['--override-arch', 'arm64', '--override-os', 'linux'])).stdout) as {
      Digest: string;
      Architecture: string;
      Layers: string[];
    };
    assert.equal(arm.Digest, src.digest, 'skopeo inspect reports the digest of the index it was given');
    assert.equal(arm.Architecture, 'arm64');
    assert.deepEqual(arm.Layers, src.children[1]!.layerDigests);

    const outLayout = join(work.path, 'multi-out');
    await copyOut(dest('e2e/multi', 'multi'), `oci:${outLayout}:copy`, ['--all']);
    const entry = await layoutEntry(outLayout, 'copy');
    assert.equal(entry.digest, src.digest);
    assert.equal(entry.mediaType, MediaType.ociIndex);
    assert.ok((await readBlob(outLayout, src.digest)).equals(src.index));
    for (const child of src.children) {
      const out = await readLayoutManifest(outLayout, 'copy', child.digest);
      assert.ok(out.manifest.equals(child.manifest));
      for (const d of [child.configDigest, ...child.layerDigests]) {
        assert.ok((await readBlob(outLayout, d)).equals(await readBlob(src.layout, d)), `blob ${d} differs`);
      }
    }
    await verifyLayoutBlobs(outLayout);
  });

  test('a push to a repository that was never created fails, like ECR (create-on-push off)', async (t) => {
    if (!isBerth()) return t.skip('Distribution creates repositories on push');
    const src = await buildImage({ layout: join(work.path, 'nocreate'), tag: 'v1', files: [{ path: '/x', content: 'x' }] });
    const res = await skopeo(['copy', '--dest-tls-verify=false', ...skopeoCreds('--dest-creds', b.password), src.ref, dest('e2e/never-created', 'v1')], {
      check: false,
    });
    assert.notEqual(res.code, 0, `skopeo copy into a missing repository succeeded:\n${res.stdout}`);
    assert.match(res.stderr, /name unknown|does not exist|NAME_UNKNOWN|not found/i, res.stderr);
    const post = await startUpload(b, 'e2e/never-created');
    expectError(post, 404, 'NAME_UNKNOWN');
    const m = await getManifest(b, 'e2e/never-created', 'v1');
    expectStatus(m, 404);
  });

  test('podman pulls an image from berth and runs it', async () => {
    const message = `berth-e2e-run-${process.pid}`;
    const src = await buildRunnableImage(join(work.path, 'runnable'), 'v1', message);
    await copyIn(src.ref, dest('e2e/runnable', 'v1'));

    podman = await createPodman();
    await podman.login(b.host, b.password);
    const image = `${b.host}/e2e/runnable:v1`;
    await podman.cmd(['pull', '--tls-verify=false', image]);
    const digest = (await podman.cmd(['image', 'inspect', '--format', '{{.Digest}}', image])).stdout.trim();
    assert.equal(digest, src.digest);
    const res = await podman.runContainer(image);
    assert.equal(res.stdout.trim(), message);
  });

  test('podman pushes an image into berth; it pulls back and runs', async (t) => {
    if (!podman) return t.skip('needs the image pulled by the previous test');
    const message = `berth-e2e-run-${process.pid}`;
    const original = `${b.host}/e2e/runnable:v1`;
    const pushed = `${b.host}/e2e/pushed:v2`;
    await podman.cmd(['tag', original, pushed]);
    const digestFile = join(work.path, 'pushed.digest');
    await podman.cmd(['push', '--tls-verify=false', '--format', 'oci', '--digestfile', digestFile, pushed]);
    const pushedDigest = (await readFile(digestFile, 'utf8')).trim();

    // Berth serves what podman pushed, and every blob it references.
    const m = await getManifest(b, 'e2e/pushed', 'v2');
    expectStatus(m, 200);
    assert.equal(m.headers.get('docker-content-digest'), pushedDigest, m.describe());
    assert.equal(sha256(m.body), pushedDigest);
    const manifest = m.json<{ config: { digest: string }; layers: { digest: string; size: number }[] }>();
    for (const d of [manifest.config, ...manifest.layers]) {
      const head = await request(b, 'HEAD', blobPath('e2e/pushed', d.digest));
      expectStatus(head, 200);
    }
    // Same filesystem as the original: the config's diff_ids match.
    const cfgOrig = JSON.parse((await inspect(`docker://${original}`, ['--config'])).stdout) as { rootfs: { diff_ids: string[] } };
    const cfgPushed = JSON.parse((await inspect(`docker://${pushed}`, ['--config'])).stdout) as { rootfs: { diff_ids: string[] } };
    assert.deepEqual(cfgPushed.rootfs.diff_ids, cfgOrig.rootfs.diff_ids);

    // Forget everything locally, then run from the pushed copy.
    await podman.cmd(['rmi', '--all', '--force']);
    const res = await podman.runContainer(pushed);
    assert.equal(res.stdout.trim(), message);
  });

  test('DELETE /v2/<name>/manifests/<tag> removes only that tag', async () => {
    const repo = 'e2e/deletes';
    const img = memImage([{ 'hello.txt': 'untag me\n' }], { 'org.example.case': 'delete-tag' });
    await pushMemImage(b, repo, 'one', img);
    expectStatus(await putManifest(b, repo, 'two', img.manifest, MediaType.ociManifest), 201);
    assert.deepEqual((await listTags(b, repo)).tags.sort(), ['one', 'two']);

    const delTag = await deleteManifest(b, repo, 'one');
    expectStatus(delTag, 202);
    expectError(await getManifest(b, repo, 'one'), 404, 'MANIFEST_UNKNOWN');
    expectStatus(await getManifest(b, repo, 'one', 'HEAD'), 404);
    const two = await getManifest(b, repo, 'two');
    expectStatus(two, 200);
    assert.ok(two.body.equals(img.manifest));
    expectStatus(await getManifest(b, repo, img.digest), 200);
    assert.deepEqual((await listTags(b, repo)).tags, ['two']);
    const inspOne = await inspect(dest(repo, 'one'), [], false);
    assert.notEqual(inspOne.code, 0, inspOne.stdout);
    assert.match(inspOne.stderr, /manifest unknown/i, inspOne.stderr);
    const inspTwo = JSON.parse((await inspect(dest(repo, 'two'))).stdout) as { Digest: string };
    assert.equal(inspTwo.Digest, img.digest);
  });

  test('DELETE /v2/<name>/manifests/<digest> removes the image and all its tags', async () => {
    const repo = 'e2e/deletes-digest';
    const img = memImage([{ 'hello.txt': 'delete me\n' }], { 'org.example.case': 'delete-digest' });
    await pushMemImage(b, repo, 'd1', img);
    expectStatus(await putManifest(b, repo, 'd2', img.manifest, MediaType.ociManifest), 201);
    const keep = memImage([{ 'keep.txt': 'keep me\n' }]);
    await pushMemImage(b, repo, 'keep', keep);

    const delDigest = await deleteManifest(b, repo, img.digest);
    expectStatus(delDigest, 202);
    expectError(await getManifest(b, repo, img.digest), 404, 'MANIFEST_UNKNOWN');
    expectStatus(await getManifest(b, repo, img.digest, 'HEAD'), 404);
    expectError(await getManifest(b, repo, 'd1'), 404, 'MANIFEST_UNKNOWN');
    expectError(await getManifest(b, repo, 'd2'), 404, 'MANIFEST_UNKNOWN');
    const inspDigest = await inspect(`docker://${b.host}/${repo}@${img.digest}`, [], false);
    assert.notEqual(inspDigest.code, 0, inspDigest.stdout);
    assert.match(inspDigest.stderr, /manifest unknown/i, inspDigest.stderr);
    const pull = await copyOut(dest(repo, 'd2'), `oci:${join(work.path, 'deleted-out')}:x`).then(
      () => 'skopeo copy succeeded',
      (err: Error) => err.message,
    );
    assert.match(pull, /manifest unknown/i);
    assert.deepEqual((await listTags(b, repo)).tags, ['keep']);
    const kept = await getManifest(b, repo, 'keep');
    expectStatus(kept, 200);
    assert.ok(kept.body.equals(keep.manifest));
    expectError(await deleteManifest(b, repo, img.digest), 404, 'MANIFEST_UNKNOWN');
  });

  test('removing the last tag of an image deletes the image (ECR semantics)', async (t) => {
    if (!isBerth()) return t.skip('ECR behaviour; Distribution has no tag delete');
    const repo = 'e2e/deletes';
    const img = memImage([{ 'solo.txt': 'only one tag\n' }]);
    await pushMemImage(b, repo, 'solo', img);
    expectStatus(await deleteManifest(b, repo, 'solo'), 202);
    expectError(await getManifest(b, repo, 'solo'), 404, 'MANIFEST_UNKNOWN');
    expectError(await getManifest(b, repo, img.digest), 404, 'MANIFEST_UNKNOWN');
  });

  test('a blob mounts across repositories (POST ?mount=&from= → 201)', async () => {
    if (b.ecr) await b.ecr.send(new PutAccountSettingCommand({ name: 'BLOB_MOUNTING', value: 'ENABLED' }));
    const img = memImage([{ 'mount.txt': `mount me ${Date.now()}\n` }]);
    await pushMemImage(b, 'e2e/mount-a', 'v1', img);
    const layer = img.blobs[1]!;

    // Not visible in b before the mount, even though b's registry has the bytes.
    expectError(await getBlob(b, 'e2e/mount-b', layer.digest), 404, 'BLOB_UNKNOWN');

    const mount = await startUpload(b, 'e2e/mount-b', `?mount=${layer.digest}&from=e2e/mount-a`);
    expectStatus(mount, 201);
    assert.equal(new URL(mount.location).pathname, `/v2/e2e/mount-b/blobs/${layer.digest}`, mount.describe());
    assert.equal(mount.headers.get('docker-content-digest'), layer.digest, mount.describe());
    const got = await getBlob(b, 'e2e/mount-b', layer.digest);
    expectStatus(got, 200);
    assert.ok(got.body.equals(layer.data));

    // A manifest in b can now reference the mounted blob (config mounted too).
    expectStatus(await startUpload(b, 'e2e/mount-b', `?mount=${img.blobs[0]!.digest}&from=e2e/mount-a`), 201);
    expectStatus(await putManifest(b, 'e2e/mount-b', 'mounted', img.manifest, MediaType.ociManifest), 201);
    const m = await getManifest(b, 'e2e/mount-b', 'mounted');
    expectStatus(m, 200);
    assert.ok(m.body.equals(img.manifest));
  });

  test('mounting a blob the source repository does not have starts a plain upload (202)', async () => {
    const stray = memImage([{ 'stray.txt': `not in a ${Date.now()}\n` }]);
    await pushMemImage(b, 'e2e/mount-c', 'v1', stray);
    const d = stray.blobs[1]!.digest;
    const res = await startUpload(b, 'e2e/mount-b', `?mount=${d}&from=e2e/mount-a`);
    expectStatus(res, 202);
    assert.ok(new URL(res.location).pathname.startsWith('/v2/e2e/mount-b/blobs/uploads/'), res.describe());
    expectError(await getBlob(b, 'e2e/mount-b', d), 404, 'BLOB_UNKNOWN');
    // The session it returned is usable.
    const put = await request(b, 'PUT', `${res.location}${res.location.includes('?') ? '&' : '?'}digest=${d}`, {
      headers: { 'content-type': 'application/octet-stream' },
      body: stray.blobs[1]!.data,
    });
    expectStatus(put, 201);
    expectStatus(await getBlob(b, 'e2e/mount-b', d), 200);
  });

  test('with BLOB_MOUNTING disabled, a mount request falls back to an upload (202)', async (t) => {
    if (!b.ecr) return t.skip('ECR account setting');
    await b.ecr.send(new PutAccountSettingCommand({ name: 'BLOB_MOUNTING', value: 'DISABLED' }));
    try {
      const setting = await b.ecr.send(new GetAccountSettingCommand({ name: 'BLOB_MOUNTING' }));
      assert.equal(setting.value, 'DISABLED');
      const img = memImage([{ 'nomount.txt': `no mount ${Date.now()}\n` }]);
      await pushMemImage(b, 'e2e/mount-a', 'nomount', img);
      const d = img.blobs[1]!.digest;
      const res = await startUpload(b, 'e2e/mount-c', `?mount=${d}&from=e2e/mount-a`);
      expectStatus(res, 202);
      assert.ok(res.location.length > 0, res.describe());
      const blob = await getBlob(b, 'e2e/mount-c', d);
      expectStatus(blob, 404);
      assert.deepEqual(errorCodes(blob), ['BLOB_UNKNOWN'], blob.describe());
    } finally {
      await b.ecr.send(new PutAccountSettingCommand({ name: 'BLOB_MOUNTING', value: 'ENABLED' }));
    }
  });
});
