// berth with its blobs in S3 (`--blob-store s3://…`, here BERTH_BLOB_STORE) on a real S3 server, Ceph's
// RADOS Gateway on loopback; metadata in SQLite. Real clients push and pull through it, ranges and
// pre-signed download URLs work, garbage collection empties the bucket of what nothing references.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetDownloadUrlForLayerCommand } from '@aws-sdk/client-ecr';
import { DeleteObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '../../src/store/blob/s3-client.js';
import { AWS, awsCliEnv } from '../helpers/aws-cli.js';
import { REPO_ROOT, startBerth, type Berth } from '../helpers/berth.js';
import { buildImage, readBlob, readLayoutImage, verifyLayoutBlobs, type LayoutImage } from '../helpers/images.js';
import { expectStatus, finishUpload, request, sha256, startUpload, uploadBlob } from '../helpers/oci.js';
import { startRgw, type Rgw } from '../helpers/rgw.js';
import { run, skopeo, skopeoCreds, tempDir } from '../helpers/tools.js';

const BUCKET = 'berth-e2e';
const PREFIX = 'registry/blobs';
const MiB = 1024 * 1024;

describe('berth with its blobs in S3 (Ceph RADOS Gateway)', () => {
  let rgw: Rgw;
  let s3: S3Client;
  let b: Berth;
  let work: { path: string; remove: () => Promise<void> };
  let image: LayoutImage;
  /** The image's layer of incompressible bytes, larger than one staged object (8 MiB). */
  let bigLayer: string;

  const berthEnv = () => ({ ...rgw.berthEnv, BERTH_BLOB_STORE: `s3://${BUCKET}/${PREFIX}` });
  const blobKey = (digest: string) => {
    const hex = digest.slice('sha256:'.length);
    return `${PREFIX}/blobs/sha256/${hex.slice(0, 2)}/${hex}`;
  };
  const inBucket = async (digest: string) =>
    s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: blobKey(digest) })).then(
      () => true,
      (e: { $metadata?: { httpStatusCode?: number } }) => {
        if (e.$metadata?.httpStatusCode === 404) return false;
        throw e;
      },
    );
  const keys = async (prefix: string) => {
    const out: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const res = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken }));
      out.push(...(res.Contents ?? []).map((o) => o.Key!));
      ContinuationToken = res.NextContinuationToken;
    } while (ContinuationToken);
    return out;
  };
  const berthCli = (args: string[], env: Record<string, string> = {}) =>
    run('node', [join(REPO_ROOT, 'bin', 'berth.js'), ...args], { check: false, env: { BERTH_LOG_LEVEL: 'warn', ...env } });

  before(async () => {
    rgw = await startRgw();
    s3 = createS3Client({ endpoint: rgw.endpoint, region: rgw.region, forcePathStyle: true, accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey });
    // No periodic collection: the test drives it with `berth admin gc --blob-store`.
    b = await startBerth({ env: { ...berthEnv(), BERTH_GC_INTERVAL: '0', BERTH_LIFECYCLE_INTERVAL: '0' } });
    for (const repo of ['s3/app', 's3/chunks', 's3/gc']) await b.createRepository(repo);
    work = await tempDir('s3');
    image = await buildImage({
      layout: join(work.path, 'src'),
      tag: 'v1',
      files: [
        { path: '/etc/motd', content: 'blobs in S3\n' },
        { path: '/data/big.bin', content: randomBytes(12 * MiB + 12345) },
      ],
    });
    for (const digest of image.layerDigests) {
      if ((await readBlob(join(work.path, 'src'), digest)).length > 8 * MiB) bigLayer = digest;
    }
    assert.ok(bigLayer!, 'the image has a layer larger than 8 MiB');
  });

  after(async () => {
    await b?.destroy();
    s3?.destroy();
    await work?.remove();
    await rgw?.stop();
  });

  it('skopeo pushes an image whose blobs land in the bucket, not the data dir, and pulls it back unchanged', async () => {
    await skopeo(['copy', '--preserve-digests', '--dest-tls-verify=false', ...skopeoCreds('--dest-creds', b.password), image.ref, `docker://${b.host}/s3/app:v1`]);
    for (const digest of [image.configDigest, ...image.layerDigests]) {
      assert.ok(await inBucket(digest), `${digest} is an object in the bucket`);
      const hex = digest.slice('sha256:'.length);
      assert.ok(!existsSync(join(b.dataDir, 'blobs', 'sha256', hex.slice(0, 2), hex)), `${digest} is not in the data dir`);
    }
    assert.deepEqual(await keys(`${PREFIX}/uploads/`), [], 'no staged upload objects are left');

    const out = join(work.path, 'pulled');
    await skopeo(['copy', '--preserve-digests', '--src-tls-verify=false', ...skopeoCreds('--src-creds', b.password), `docker://${b.host}/s3/app:v1`, `oci:${out}:v1`]);
    const pulled = await readLayoutImage(out, 'v1');
    assert.equal(pulled.digest, image.digest);
    assert.deepEqual(pulled.manifest, image.manifest);
    assert.deepEqual((await verifyLayoutBlobs(out)).sort(), [image.digest, image.configDigest, ...image.layerDigests].sort());
    for (const digest of image.layerDigests) assert.deepEqual(await readBlob(out, digest), await readBlob(join(work.path, 'src'), digest));
  });

  it('a blob pushed in chunks (PATCHes of odd sizes) reads back whole and by range on /v2', async () => {
    const data = randomBytes(9 * MiB + 7);
    const up = await startUpload(b, 's3/chunks');
    expectStatus(up, 202);
    let location = up.location;
    for (const [start, end] of [
      [0, 1],
      [1, 6 * MiB],
      [6 * MiB, 6 * MiB + 3],
      [6 * MiB + 3, data.length],
    ] as const) {
      const patch = await request(b, 'PATCH', location, {
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${start}-${end - 1}`, 'content-length': String(end - start) },
        body: data.subarray(start, end),
      });
      expectStatus(patch, 202);
      location = new URL(patch.headers.get('location')!, b.url).toString();
    }
    const digest = sha256(data);
    expectStatus(await finishUpload(b, location, digest), 201);
    assert.ok(await inBucket(digest));

    const whole = await request(b, 'GET', `/v2/s3/chunks/blobs/${digest}`);
    expectStatus(whole, 200);
    assert.equal(sha256(whole.body), digest);
    const start = 6 * MiB - 100;
    const end = 8 * MiB + 100;
    const part = await request(b, 'GET', `/v2/s3/chunks/blobs/${digest}`, { headers: { range: `bytes=${start}-${end}` } });
    expectStatus(part, 206);
    assert.equal(part.headers.get('content-range'), `bytes ${start}-${end}/${data.length}`);
    assert.deepEqual(part.body, data.subarray(start, end + 1));
  });

  it('GetDownloadUrlForLayer answers a URL that serves the layer decrypted, never the stored ciphertext', async () => {
    const layerDigest = bigLayer;
    const { downloadUrl } = await b.ecr!.send(new GetDownloadUrlForLayerCommand({ repositoryName: 's3/app', layerDigest }));
    assert.ok(!downloadUrl!.startsWith(rgw.endpoint), `an encrypted layer is not handed out from the object store: ${downloadUrl}`);
    const res = await fetch(downloadUrl!);
    assert.equal(res.status, 200);
    assert.equal(sha256(Buffer.from(await res.arrayBuffer())), layerDigest);
  });

  it('berth admin gc --blob-store removes unreferenced blobs and abandoned uploads from the bucket, and keeps what images use', async () => {
    const garbage = (await uploadBlob(b, 's3/gc', randomBytes(1000))).digest;
    const up = await startUpload(b, 's3/gc');
    const patch = await request(b, 'PATCH', up.location, { headers: { 'content-type': 'application/octet-stream' }, body: randomBytes(2000) });
    expectStatus(patch, 202);
    const uploadId = new URL(up.location).pathname.split('/').pop()!;
    assert.ok(await inBucket(garbage));
    // 2,000 bytes are less than one encrypted segment: they wait in the upload's tail slot.
    const ofUpload = async () => (await keys(`${PREFIX}/uploads/`)).filter((k) => k.includes(`/uploads/${uploadId}`));
    assert.ok((await ofUpload()).length >= 1);

    // Inside the grace period nothing goes.
    const early = await berthCli(['admin', 'gc', '--data-dir', b.dataDir, '--blob-store', `s3://${BUCKET}/${PREFIX}`], { ...rgw.berthEnv, BERTH_GC_GRACE: '3600' });
    assert.equal(early.code, 0, early.stderr);
    assert.ok(await inBucket(garbage), 'a fresh blob survives the grace period');

    // The first pass removes the blob's link, the next one the blob (see collectGarbage).
    const removed: string[] = [];
    for (let pass = 0; pass < 2; pass++) {
      await new Promise((r) => setTimeout(r, 1100));
      const gc = await berthCli(['admin', 'gc', '--data-dir', b.dataDir, '--blob-store', `s3://${BUCKET}/${PREFIX}`], { ...rgw.berthEnv, BERTH_GC_GRACE: '1' });
      assert.equal(gc.code, 0, gc.stderr);
      removed.push(gc.stdout.trim());
    }
    assert.match(removed[1]!, /^gc: removed [1-9]\d* blobs \([1-9]\d* bytes freed\)/, removed.join('\n'));
    assert.equal(await inBucket(garbage), false, 'the unreferenced blob is gone from the bucket');
    assert.deepEqual(await ofUpload(), [], 'the abandoned upload is gone from the bucket');
    expectStatus(await request(b, 'HEAD', `/v2/s3/gc/blobs/${garbage}`), 404);
    for (const digest of [image.configDigest, ...image.layerDigests]) assert.ok(await inBucket(digest), `${digest} of s3/app:v1 is kept`);
  });

  it('BERTH_S3_REDIRECT=true without BERTH_S3_SSE is refused at start: an object-store URL would serve ciphertext', async () => {
    const refused = await berthCli(['serve', '--listen', '127.0.0.1:0', '--data-dir', join(work.path, 'redirect')], {
      ...rgw.berthEnv,
      BERTH_BLOB_STORE: `s3://${BUCKET}/redirecting`,
      BERTH_S3_REDIRECT: 'true',
    });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /BERTH_S3_REDIRECT=true needs BERTH_S3_SSE/);
  });

  it('with BERTH_S3_REDIRECT and SSE-KMS, blobs download from the object store by pre-signed URL and are encrypted at rest by it; a disabled KMS key stops them', async () => {
    const redirectPrefix = 'redirecting';
    const r = await startBerth({
      env: {
        ...rgw.berthEnv,
        BERTH_BLOB_STORE: `s3://${BUCKET}/${redirectPrefix}`,
        BERTH_S3_REDIRECT: 'true',
        BERTH_S3_SSE: 'aws:kms',
        BERTH_S3_SSE_KMS_KEY_ID: rgw.sseKmsKeyId,
        BERTH_GC_INTERVAL: '0',
        BERTH_LIFECYCLE_INTERVAL: '0',
      },
    });
    try {
      await r.createRepository('sse/app');
      await skopeo(['copy', '--preserve-digests', '--dest-tls-verify=false', ...skopeoCreds('--dest-creds', r.password), image.ref, `docker://${r.host}/sse/app:v1`]);
      const layer = await readBlob(join(work.path, 'src'), bigLayer);
      const key = (digest: string) => `${redirectPrefix}/blobs/sha256/${digest.slice(7, 9)}/${digest.slice(7)}`;
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key(bigLayer) }));
      assert.equal(head.ServerSideEncryption, 'aws:kms', 'the object store encrypts the blob');
      assert.equal(head.ContentLength, layer.length, 'the object is the blob itself, for the URL to serve');

      // /v2 blob GET: a 307 to the object store, whose URL serves the blob to a client without credentials.
      const res = await r.fetch(`/v2/sse/app/blobs/${bigLayer}`, { redirect: 'manual' });
      assert.equal(res.status, 307);
      const location = res.headers.get('location')!;
      assert.ok(location.startsWith(`${rgw.endpoint}/`), location);
      const direct = Buffer.from(await (await fetch(location)).arrayBuffer());
      assert.equal(sha256(direct), bigLayer);
      const { downloadUrl } = await r.ecr!.send(new GetDownloadUrlForLayerCommand({ repositoryName: 'sse/app', layerDigest: bigLayer }));
      assert.ok(downloadUrl!.startsWith(`${rgw.endpoint}/`), downloadUrl);
      assert.equal(sha256(Buffer.from(await (await fetch(downloadUrl!)).arrayBuffer())), bigLayer);

      // skopeo follows the redirects and gets the image back unchanged.
      const out = join(work.path, 'pulled-sse');
      await skopeo(['copy', '--preserve-digests', '--src-tls-verify=false', ...skopeoCreds('--src-creds', r.password), `docker://${r.host}/sse/app:v1`, `oci:${out}:v1`]);
      assert.equal((await readLayoutImage(out, 'v1')).digest, image.digest);
      assert.deepEqual((await verifyLayoutBlobs(out)).sort(), [image.digest, image.configDigest, ...image.layerDigests].sort());

      // At rest, below the gateway, the layer's bytes appear nowhere; an object written without
      // encryption shows the same scan finds them.
      const marker = layer.subarray(1_000_000, 1_000_064);
      const stored = async () => (await rgw.radosObjects('default.rgw.buckets.data')).some((o) => o.includes(marker));
      assert.equal(await stored(), false, 'the layer is stored encrypted');
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'control/plain', Body: marker }));
      assert.equal(await stored(), true, 'the scan finds bytes stored in plaintext');
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'control/plain' }));

      // A KMS repository: its key must be usable for a URL to be handed out.
      const env = await awsCliEnv(r);
      const aws = async (args: string[]) => run(AWS, ['--endpoint-url', r.url, '--output', 'json', ...args], { env, check: false });
      const keyId = JSON.parse((await aws(['kms', 'create-key'])).stdout).KeyMetadata.KeyId as string;
      const created = await aws(['ecr', 'create-repository', '--repository-name', 'sse/kms', '--encryption-configuration', `encryptionType=KMS,kmsKey=${keyId}`]);
      assert.equal(created.code, 0, created.stderr);
      // The same layers again, now also linked from the KMS repository.
      await skopeo(['copy', '--preserve-digests', '--dest-tls-verify=false', ...skopeoCreds('--dest-creds', r.password), image.ref, `docker://${r.host}/sse/kms:v1`]);
      const digest = bigLayer;
      assert.equal((await r.fetch(`/v2/sse/kms/blobs/${digest}`, { redirect: 'manual' })).status, 307);
      assert.equal((await aws(['kms', 'disable-key', '--key-id', keyId])).code, 0);
      assert.equal((await r.fetch(`/v2/sse/kms/blobs/${digest}`, { redirect: 'manual' })).status, 403, 'no URL while the key is disabled');
      const url = await aws(['ecr', 'get-download-url-for-layer', '--repository-name', 'sse/kms', '--layer-digest', digest]);
      assert.notEqual(url.code, 0);
      assert.match(url.stderr, /KmsException/);
      assert.equal((await aws(['kms', 'enable-key', '--key-id', keyId])).code, 0);
      assert.equal((await r.fetch(`/v2/sse/kms/blobs/${digest}`, { redirect: 'manual' })).status, 307);
      const again = await aws(['ecr', 'get-download-url-for-layer', '--repository-name', 'sse/kms', '--layer-digest', digest]);
      assert.equal(again.code, 0, again.stderr);
      assert.ok((JSON.parse(again.stdout).downloadUrl as string).startsWith(`${rgw.endpoint}/`));
    } finally {
      await r.destroy();
    }
  });

  it('a bad blob store setting or an unreachable object store stops berth with a message naming it', async () => {
    const bad = await berthCli(['serve', '--listen', '127.0.0.1:0', '--data-dir', join(work.path, 'bad'), '--blob-store', 'S3://Bucket']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--blob-store \/ BERTH_BLOB_STORE must be s3:\/\/BUCKET/);
    const unreachable = await berthCli(['admin', 'gc', '--data-dir', join(work.path, 'unreachable')], {
      ...rgw.berthEnv,
      BERTH_BLOB_STORE: 's3://nowhere/x',
      BERTH_S3_ENDPOINT: 'http://127.0.0.1:9',
    });
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /the blob store s3:\/\/nowhere\/x cannot be opened/);
  });

  it('/readyz answers 503 while the object store does not answer, and 200 again once it does', async () => {
    // A relay between berth and the gateway that the test can cut.
    const upstream = new URL(rgw.endpoint);
    let cut = false;
    const open = new Set<Socket>();
    const relay = createServer((client) => {
      if (cut) return client.destroy();
      const server = connect(Number(upstream.port), upstream.hostname);
      for (const s of [client, server]) {
        open.add(s);
        s.on('close', () => open.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(server).pipe(client);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const port = (relay.address() as AddressInfo).port;
    const node = await startBerth({ env: { ...berthEnv(), BERTH_S3_ENDPOINT: `http://127.0.0.1:${port}`, BERTH_GC_INTERVAL: '0' } });
    try {
      const ready = async () => {
        const res = await fetch(`${node.url}/readyz`);
        return { status: res.status, body: (await res.json()) as { blobs?: string; metadata?: string } };
      };
      assert.deepEqual(await ready(), { status: 200, body: { ...(await ready()).body, blobs: 'ok', metadata: 'ok' } });
      cut = true;
      for (const s of open) s.destroy();
      const down = await ready();
      assert.equal(down.status, 503);
      assert.equal(down.body.blobs, 'unavailable');
      assert.equal(down.body.metadata, 'ok');
      assert.equal((await fetch(`${node.url}/healthz`)).status, 200, 'the process itself is alive');
      cut = false;
      assert.equal((await ready()).status, 200);
    } finally {
      await node.destroy();
      relay.close();
      for (const s of open) s.destroy();
    }
  });
});
