// Encryption at rest end to end: a layer with a known marker pushed with skopeo to an AES256 and to
// a KMS repository (key and alias made with the aws kms CLI) is nowhere in plaintext under the data
// dir; skopeo and podman pull it back byte for byte; a disabled key makes the KMS repository
// unreadable with ECR's KMS error until it is enabled again; kill -9 and restart lose nothing.
// Bytes damaged on disk are answered with an OCI error while nothing is sent, else the pull aborts.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetDownloadUrlForLayerCommand } from '@aws-sdk/client-ecr';
import { AWS, awsCliEnv } from '../helpers/aws-cli.js';
import { startBerth, type Berth } from '../helpers/berth.js';
import { expectError, memImage, pushMemImage, request, type MemImage } from '../helpers/oci.js';
import { createPodman, run, skopeo, skopeoCreds, tempDir, type Podman } from '../helpers/tools.js';
import { FsBlobStore } from '../../src/store/blob/fs-blob-store.js';
import { MetadataStore } from '../../src/store/meta/metadata-store.js';
import { migrate } from '../../src/store/meta/migrations.js';
import { SqliteDb } from '../../src/store/meta/sqlite.js';

const MARKER = 'BERTH-E2E-MARKER-c0ffee-encryption-at-rest';

/** Every file under `dir` whose bytes contain `needle`. */
async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if ((await readFile(path)).includes(needle)) found.push(path);
  }
  return found;
}

/** Writes an in-memory image into an OCI layout under `tag`, for skopeo. */
async function writeLayout(layout: string, tag: string, img: MemImage): Promise<string> {
  await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  for (const blob of [...img.blobs, { digest: img.digest, data: img.manifest }]) {
    await writeFile(join(layout, 'blobs', 'sha256', blob.digest.slice(7)), blob.data);
  }
  await writeFile(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: img.digest, size: img.manifest.length, annotations: { 'org.opencontainers.image.ref.name': tag } }],
    }),
  );
  return `oci:${layout}:${tag}`;
}

describe('encryption at rest with skopeo, podman and the aws CLI', () => {
  let b: Berth;
  let work: { path: string; remove: () => Promise<void> };
  let podman: Podman | undefined;
  let env: Record<string, string>;
  let password: string;
  let img: MemImage;
  let source: string;
  let keyId: string;

  const aws = async (args: string[], check = true) => {
    const res = await run(AWS, ['--endpoint-url', b.url, '--output', 'json', ...args], { env, check: false, timeoutMs: 60_000 });
    if (check && res.code !== 0) assert.fail(`aws ${args.join(' ')} exited ${res.code}: ${res.stderr}\n${b.output().slice(-2000)}`);
    return res;
  };
  const pull = (repo: string, dest: string) =>
    skopeo(['copy', '--src-tls-verify=false', '--dest-oci-accept-uncompressed-layers', ...skopeoCreds('--src-creds', password), `docker://${b.host}/${repo}:v1`, `oci:${dest}:v1`], { check: false });

  before(async () => {
    b = await startBerth();
    work = await tempDir('encryption');
    env = await awsCliEnv(b);
    // An uncompressed layer, so the marker would be in the pushed bytes as they are; a few
    // segments long, with the marker in the config too.
    const filler = randomBytes(400_000).toString('base64');
    img = memImage([{ 'secret.txt': `${MARKER}\n${filler}\n${MARKER}\n` }], { note: 'encrypted' });
    const config = JSON.parse(img.config.toString()) as Record<string, any>;
    config.config = { Env: [`MARKER=${MARKER}`] };
    img = rebuildWithConfig(img, Buffer.from(JSON.stringify(config)));
    source = await writeLayout(join(work.path, 'src'), 'v1', img);
  });

  after(async () => {
    await podman?.cleanup();
    await b?.destroy();
    await work?.remove();
  });

  test('push to AES256 and KMS repositories: no plaintext anywhere under the data dir; pulls byte for byte', async () => {
    keyId = JSON.parse((await aws(['kms', 'create-key', '--description', 'e2e repository key'])).stdout).KeyMetadata.KeyId;
    await aws(['kms', 'create-alias', '--alias-name', 'alias/e2e-repo', '--target-key-id', keyId]);
    const aesRepo = JSON.parse((await aws(['ecr', 'create-repository', '--repository-name', 'enc/aes'])).stdout).repository;
    assert.deepEqual(aesRepo.encryptionConfiguration, { encryptionType: 'AES256' });
    const kmsRepo = JSON.parse((await aws(['ecr', 'create-repository', '--repository-name', 'enc/kms', '--encryption-configuration', 'encryptionType=KMS,kmsKey=alias/e2e-repo'])).stdout).repository;
    assert.equal(kmsRepo.encryptionConfiguration.encryptionType, 'KMS');
    assert.match(kmsRepo.encryptionConfiguration.kmsKey, new RegExp(`:key/${keyId}$`));
    const missing = await aws(['ecr', 'create-repository', '--repository-name', 'enc/nokey', '--encryption-configuration', 'encryptionType=KMS,kmsKey=alias/none'], false);
    assert.match(missing.stderr, /KmsException/);

    password = (await aws(['ecr', 'get-login-password'])).stdout.trim();
    for (const repo of ['enc/aes', 'enc/kms']) {
      await skopeo(['copy', '--preserve-digests', '--dest-tls-verify=false', ...skopeoCreds('--dest-creds', password), source, `docker://${b.host}/${repo}:v1`]);
    }
    assert.deepEqual(await filesContaining(b.dataDir, MARKER), [], 'the marker is in no blob, upload or database file');

    for (const repo of ['enc/aes', 'enc/kms']) {
      const dest = join(work.path, repo.replace('/', '-'));
      const res = await pull(repo, dest);
      assert.equal(res.code, 0, res.stderr);
      const pulled = await readdir(join(dest, 'blobs', 'sha256'));
      for (const blob of img.blobs) {
        assert.ok(pulled.includes(blob.digest.slice(7)), `${repo}: ${blob.digest} not among ${pulled.join(', ')}; source: ${img.blobs.map((b) => b.digest).join(', ')} manifest ${img.digest}`);
        assert.ok((await readFile(join(dest, 'blobs', 'sha256', blob.digest.slice(7)))).equals(blob.data), `${repo} ${blob.digest}`);
      }
    }
    podman = await createPodman();
    await podman.login(b.host, password);
    for (const repo of ['enc/aes', 'enc/kms']) {
      // podman verifies every blob against its digest as it pulls: the bytes are the pushed ones
      await podman.cmd(['pull', '--tls-verify=false', `${b.host}/${repo}:v1`]);
      const digest = (await podman.cmd(['image', 'inspect', '--format', '{{.Digest}}', `${b.host}/${repo}:v1`])).stdout.trim();
      assert.equal(digest, img.digest, `podman ${repo}`);
    }

    // a ranged read decrypts what it serves
    const layer = img.blobs[1]!;
    const ranged = await request(b, 'GET', `/v2/enc/kms/blobs/${layer.digest}`, { headers: { Range: 'bytes=70000-140000' } });
    assert.equal(ranged.status, 206);
    assert.ok(ranged.body.equals(layer.data.subarray(70000, 140001)));
  });

  test('a disabled key makes the KMS repository unreadable with the KMS error; enabled again, it pulls', async () => {
    await aws(['kms', 'disable-key', '--key-id', keyId]);
    const denied = await pull('enc/kms', join(work.path, 'denied'));
    assert.notEqual(denied.code, 0, 'skopeo must not pull from a repository whose key is disabled');
    const manifest = await request(b, 'GET', '/v2/enc/kms/manifests/v1', { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(manifest.status, 403);
    const blob = await request(b, 'GET', `/v2/enc/kms/blobs/${img.blobs[1]!.digest}`);
    assert.equal(blob.status, 403);
    const batch = JSON.parse((await aws(['ecr', 'batch-get-image', '--repository-name', 'enc/kms', '--image-ids', 'imageTag=v1'])).stdout);
    assert.equal(batch.failures[0]?.failureCode, 'KmsError');
    const push = await skopeo(['copy', '--dest-tls-verify=false', ...skopeoCreds('--dest-creds', password), source, `docker://${b.host}/enc/kms:v2`], { check: false });
    assert.notEqual(push.code, 0, 'nothing new is encrypted under a disabled key');
    assert.equal((await pull('enc/aes', join(work.path, 'aes-still'))).code, 0, 'the AES256 repository sharing the layer still pulls');

    await aws(['kms', 'enable-key', '--key-id', keyId]);
    const again = await pull('enc/kms', join(work.path, 'again'));
    assert.equal(again.code, 0, again.stderr);
    for (const blob of img.blobs) assert.ok((await readFile(join(work.path, 'again', 'blobs', 'sha256', blob.digest.slice(7)))).equals(blob.data));
  });

  test('pulling from a KMS repository needs kms:Decrypt on its key', async () => {
    const policy = (actions: string[]) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] });
    const ecrPull = ['ecr:GetAuthorizationToken', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'];
    await aws(['iam', 'create-user', '--user-name', 'puller']);
    await aws(['iam', 'put-user-policy', '--user-name', 'puller', '--policy-name', 'pull', '--policy-document', policy(ecrPull)]);
    const key = JSON.parse((await aws(['iam', 'create-access-key', '--user-name', 'puller'])).stdout).AccessKey;
    const asPuller = { ...env, AWS_ACCESS_KEY_ID: key.AccessKeyId, AWS_SECRET_ACCESS_KEY: key.SecretAccessKey };
    const pullerPassword = (await run(AWS, ['--endpoint-url', b.url, 'ecr', 'get-login-password'], { env: asPuller })).stdout.trim();
    const pullAs = (repo: string, dest: string) =>
      skopeo(['copy', '--src-tls-verify=false', '--dest-oci-accept-uncompressed-layers', ...skopeoCreds('--src-creds', pullerPassword), `docker://${b.host}/${repo}:v1`, `oci:${dest}:v1`], { check: false });
    assert.equal((await pullAs('enc/aes', join(work.path, 'puller-aes'))).code, 0, 'an AES256 repository needs no KMS permission');
    const denied = await pullAs('enc/kms', join(work.path, 'puller-kms-denied'));
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /kms:Decrypt/);
    // The ECR API's reads of image contents need it too.
    const ecrAs = (args: string[]) => run(AWS, ['--endpoint-url', b.url, 'ecr', ...args], { env: asPuller, check: false });
    const layer = img.blobs[img.blobs.length - 1]!.digest;
    for (const repo of ['enc/aes', 'enc/kms']) {
      const manifest = await ecrAs(['batch-get-image', '--repository-name', repo, '--image-ids', 'imageTag=v1']);
      const url = await ecrAs(['get-download-url-for-layer', '--repository-name', repo, '--layer-digest', layer]);
      if (repo === 'enc/aes') {
        assert.equal(manifest.code, 0, manifest.stderr);
        assert.equal(url.code, 0, url.stderr);
      } else {
        for (const res of [manifest, url]) {
          assert.notEqual(res.code, 0);
          assert.match(res.stderr, /AccessDeniedException.*kms:Decrypt/s);
        }
      }
    }
    await aws(['iam', 'put-user-policy', '--user-name', 'puller', '--policy-name', 'pull', '--policy-document', policy([...ecrPull, 'kms:Decrypt'])]);
    const allowed = await pullAs('enc/kms', join(work.path, 'puller-kms'));
    assert.equal(allowed.code, 0, allowed.stderr);
    const manifest = await ecrAs(['batch-get-image', '--repository-name', 'enc/kms', '--image-ids', 'imageTag=v1']);
    assert.equal(manifest.code, 0, manifest.stderr);
    assert.equal(JSON.parse(manifest.stdout).images.length, 1);
    const url = await ecrAs(['get-download-url-for-layer', '--repository-name', 'enc/kms', '--layer-digest', layer]);
    assert.equal(url.code, 0, url.stderr);
  });

  test('kill -9 and restart: every image still pulls; the master key file is kept with mode 0600', async () => {
    await b.kill9();
    await b.restart();
    password = (await aws(['ecr', 'get-login-password'])).stdout.trim();
    for (const repo of ['enc/aes', 'enc/kms']) {
      const res = await pull(repo, join(work.path, `restart-${repo.replace('/', '-')}`));
      assert.equal(res.code, 0, res.stderr);
    }
    const { mode } = await stat(join(b.dataDir, 'master.key'));
    assert.equal(mode & 0o777, 0o600);
    assert.deepEqual(await filesContaining(b.dataDir, MARKER), []);
  });
});

/** The same image with another config blob. */
function rebuildWithConfig(img: MemImage, config: Buffer): MemImage {
  const sha256 = (data: Buffer) => 'sha256:' + createHash('sha256').update(data).digest('hex');
  const manifest = JSON.parse(img.manifest.toString()) as Record<string, any>;
  manifest.config = { ...manifest.config, digest: sha256(config), size: config.length };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return { config, layers: img.layers, manifest: manifestBytes, digest: sha256(manifestBytes), blobs: [{ digest: sha256(config), data: config }, ...img.blobs.slice(1)] };
}

describe('a data dir written before encryption', () => {
  let b: Berth | undefined;
  let work: { path: string; remove: () => Promise<void> };

  before(async () => {
    work = await tempDir('pre-encryption');
  });
  after(async () => {
    await b?.destroy();
    await work?.remove();
  });

  test('keeps serving every image, byte for byte, in AES256 and KMS repositories; new pushes are encrypted', async () => {
    // What an earlier version left: blobs written as they came, manifest bodies in plain text,
    // a KMS repository naming an alias that was never resolved, and no master key.
    const dataDir = join(work.path, 'data');
    await mkdir(dataDir, { recursive: true });
    const db = new SqliteDb(join(dataDir, 'metadata.db'));
    const images: Array<{ repo: string; img: MemImage }> = [];
    try {
      await migrate(db);
      const meta = new MetadataStore(db);
      const blobs = new FsBlobStore(dataDir);
      await blobs.init();
      const account = await meta.ensureDefaultAccount(() => '123456789012', 'us-east-1');
      for (const [name, settings] of [
        ['old/aes', {}],
        ['old/kms', { encryptionConfiguration: { encryptionType: 'KMS', kmsKey: 'alias/never-made' } }],
      ] as const) {
        const repo = (await meta.createRepository(account, name, settings))!;
        const img = memImage([{ 'old.txt': `${MARKER} written before encryption into ${name}\n${randomBytes(200_000).toString('hex')}` }]);
        for (const blob of img.blobs) {
          const id = randomUUID();
          await blobs.appendUpload(id, 0, (async function* () {
            yield blob.data;
          })());
          await blobs.commitUpload(id, blob.digest, blob.data.length);
          await meta.commitBlob(repo.id, blob.digest, blob.data.length);
        }
        const manifest = JSON.parse(img.manifest.toString()) as { config: { digest: string; mediaType: string } };
        await meta.insertManifest(
          {
            repoId: repo.id,
            digest: img.digest,
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            artifactType: null,
            configMediaType: manifest.config.mediaType,
            subject: null,
            annotations: null,
            size: img.manifest.length,
            layersSize: img.layers.reduce((n, l) => n + l.length, 0),
            body: img.manifest,
            pushedAt: Date.now(),
            lastPulledAt: null,
          },
          img.blobs.map((blob) => ({ child: blob.digest, kind: 'blob' as const })),
        );
        await meta.putTag(repo.id, 'v1', img.digest);
        images.push({ repo: name, img });
      }
    } finally {
      await db.close();
    }
    assert.ok((await filesContaining(dataDir, MARKER)).length > 0, 'the old data dir holds the marker in plain text');

    b = await startBerth({ dataDir });
    const password = b.password;
    for (const { repo, img } of images) {
      const dest = join(work.path, `pulled-${repo.replace('/', '-')}`);
      const res = await skopeo(
        ['copy', '--src-tls-verify=false', '--dest-oci-accept-uncompressed-layers', ...skopeoCreds('--src-creds', password), `docker://${b.host}/${repo}:v1`, `oci:${dest}:v1`],
        { check: false },
      );
      assert.equal(res.code, 0, res.stderr);
      for (const blob of [...img.blobs, { digest: img.digest, data: img.manifest }]) {
        assert.ok((await readFile(join(dest, 'blobs', 'sha256', blob.digest.slice(7)))).equals(blob.data), `${repo} ${blob.digest}`);
      }
    }
    assert.equal((await stat(join(dataDir, 'master.key'))).mode & 0o777, 0o600, 'the master key was created on first start');

    // In the background, berth encrypts what it can in place: the AES256 repository's blobs (the
    // KMS repository names an alias that never existed, so its blobs stay as they are). Pulls go on.
    const deadline = Date.now() + 60_000;
    while ((await filesContaining(dataDir, `${MARKER} written before encryption into old/aes`)).length > 0) {
      assert.ok(Date.now() < deadline, `the old AES256 blobs were not encrypted in place:\n${b.output().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const again = join(work.path, 'pulled-again');
    const res = await skopeo(['copy', '--src-tls-verify=false', '--dest-oci-accept-uncompressed-layers', ...skopeoCreds('--src-creds', password), `docker://${b.host}/old/aes:v1`, `oci:${again}:v1`], { check: false });
    assert.equal(res.code, 0, res.stderr);
    for (const blob of images.find((i) => i.repo === 'old/aes')!.img.blobs) {
      assert.ok((await readFile(join(again, 'blobs', 'sha256', blob.digest.slice(7)))).equals(blob.data), `old/aes ${blob.digest} after encryption in place`);
    }

    // a new image pushed into the old repository is encrypted
    const fresh = memImage([{ 'new.txt': `NEW-${MARKER}` }]);
    const source = await writeLayout(join(work.path, 'fresh'), 'v2', fresh);
    await skopeo(['copy', '--preserve-digests', '--dest-tls-verify=false', ...skopeoCreds('--dest-creds', password), source, `docker://${b.host}/old/aes:v2`]);
    assert.deepEqual(await filesContaining(dataDir, `NEW-${MARKER}`), []);
  });
});

describe('stored bytes that fail to decrypt', () => {
  const SEGMENT = 64 * 1024;
  const SEALED_SEGMENT = SEGMENT + 28; // nonce and tag: see src/domain/encryption/segments.ts
  let b: Berth;

  before(async () => {
    b = await startBerth();
    await b.createRepository('enc/damaged');
  });
  after(async () => {
    await b?.destroy();
  });

  /**
   * Pushes an image whose layer spans a dozen segments, under `tag`, and flips one byte of the
   * layer's segment `segment` in its file under the data dir.
   */
  async function damagedLayer(tag: string, segment: number): Promise<{ digest: string; data: Buffer }> {
    const img = memImage([{ 'data.bin': randomBytes(12 * SEGMENT) }]);
    await pushMemImage(b, 'enc/damaged', tag, img);
    const { digest, data } = img.blobs[1]!;
    const file = join(b.dataDir, 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7));
    const stored = await readFile(file);
    const rest = data.length % SEGMENT;
    assert.equal(stored.length, Math.floor(data.length / SEGMENT) * SEALED_SEGMENT + (rest && rest + 28), 'the layer is stored encrypted, in segments');
    const at = segment * SEALED_SEGMENT + 100;
    stored[at] = stored[at]! ^ 0x01;
    await writeFile(file, stored);
    return { digest, data };
  }

  test('in the first segment: the pull is answered with an OCI error (UNKNOWN, 500), and the fault is logged; a download URL answers InternalError', async () => {
    const { digest } = await damagedLayer('first', 0);
    for (const headers of [{}, { Range: 'bytes=10-20000' }] as Record<string, string>[]) {
      const pulled = await request(b, 'GET', `/v2/enc/damaged/blobs/${digest}`, { headers });
      expectError(pulled, 500, 'UNKNOWN');
      assert.equal(pulled.headers.get('content-type'), 'application/json');
    }
    const logged = () => b.output().split('\n').filter((line) => line.includes('unexpected error on /v2') && line.includes(`${digest}, segment 0: stored bytes failed authentication`));
    // The server's log reaches us through a pipe, perhaps after the answer.
    for (let i = 0; i < 50 && logged().length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(logged().length, 2, `each failed pull is logged with the blob and segment:\n${b.output().slice(-3000)}`);
    // The connection is answered, not cut: the server goes on serving what is intact.
    const head = await request(b, 'HEAD', `/v2/enc/damaged/blobs/${digest}`);
    assert.equal(head.status, 200);
    // The ECR API's layer URL serves the same bytes, and answers as S3 does for its own faults.
    const { downloadUrl } = await b.ecr!.send(new GetDownloadUrlForLayerCommand({ repositoryName: 'enc/damaged', layerDigest: digest }));
    const download = await fetch(downloadUrl!);
    assert.equal(download.status, 500);
    assert.match(await download.text(), /<Code>InternalError<\/Code>/);
  });

  test('in a later segment: the response, begun, is aborted, so no client takes a short body for the whole blob', async () => {
    const { digest, data } = await damagedLayer('later', 10);
    const res = await b.fetch(new URL(`/v2/enc/damaged/blobs/${digest}`, b.url).toString());
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), String(data.length));
    await assert.rejects(res.arrayBuffer(), 'the body ends in an error, not as if complete');
    // A range that starts in the damaged segment fails before anything is sent.
    const ranged = await request(b, 'GET', `/v2/enc/damaged/blobs/${digest}`, { headers: { Range: `bytes=${10 * SEGMENT}-${10 * SEGMENT + 10}` } });
    expectError(ranged, 500, 'UNKNOWN');
    const intact = await request(b, 'GET', `/v2/enc/damaged/blobs/${digest}`, { headers: { Range: `bytes=0-${SEGMENT}` } });
    assert.equal(intact.status, 206);
    assert.ok(intact.body.equals(data.subarray(0, SEGMENT + 1)));
  });
});
