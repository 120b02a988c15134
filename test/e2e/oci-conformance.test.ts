// The checks of the OCI distribution-spec conformance suite (v1.1.1), one by one, over raw HTTP.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startBerth, type Berth } from '../helpers/berth.js';
import {
  MediaType,
  blobPath,
  errorCodes,
  expectError,
  expectStatus,
  finishUpload,
  getManifest,
  listTags,
  putManifest,
  request,
  sha256,
  startUpload,
  uploadBlob,
  type Exchange,
} from '../helpers/oci.js';

const REPO = 'conformance/main';
const CROSS = 'conformance/cross';
const SPEC_CODES = [
  'BLOB_UNKNOWN', 'BLOB_UPLOAD_INVALID', 'BLOB_UPLOAD_UNKNOWN', 'DIGEST_INVALID', 'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID', 'MANIFEST_UNKNOWN', 'NAME_INVALID', 'NAME_UNKNOWN', 'SIZE_INVALID', 'UNAUTHORIZED',
  'DENIED', 'UNSUPPORTED', 'TOOMANYREQUESTS',
];
const ARTIFACT_A = 'application/vnd.example.type-a';
const ARTIFACT_B = 'application/vnd.example.type-b';

let b: Berth;

function config(n: number): Buffer {
  return Buffer.from(JSON.stringify({ author: `author-${n}-${randomBytes(4).toString('hex')}`, architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
}
const layer = randomBytes(64);
const emptyJson = Buffer.from('{}');

/** Tab-indented like the suite's manifests, so the bytes (and digest) must be kept exactly. */
function manifest(cfg: Buffer, extra: Record<string, unknown> = {}, layers: Buffer[] = [layer]): Buffer {
  return Buffer.from(
    JSON.stringify(
      {
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: { mediaType: MediaType.ociConfig, digest: sha256(cfg), size: cfg.length, data: cfg.toString('base64'), newUnspecifiedField: 'x' },
        layers: layers.map((l) => ({ mediaType: MediaType.ociLayerGzip, digest: sha256(l), size: l.length })),
        ...extra,
      },
      null,
      '\t',
    ),
  );
}

function loc(ex: Exchange): string {
  const l = ex.headers.get('location');
  assert.ok(l, `no Location:\n${ex.describe()}`);
  return new URL(l, b.url).toString();
}

before(async () => {
  b = await startBerth({ env: { BERTH_CREATE_ON_PUSH: 'true' } });
});
after(async () => b?.destroy());

describe('pull', () => {
  const cfg0 = config(0);
  const cfg1 = config(1);
  const m0 = manifest(cfg0);
  const m1 = manifest(cfg1);

  it('setup: blobs via POST + PUT ?digest=, manifest 0 by tag, manifest 1 by digest', async () => {
    for (const blob of [cfg0, cfg1, layer]) await uploadBlob(b, REPO, blob);
    expectStatus(await putManifest(b, REPO, 'tagtest0', m0, MediaType.ociManifest), 201);
    const put1 = await putManifest(b, REPO, sha256(m1), m1, MediaType.ociManifest);
    expectStatus(put1, 201);
    assert.equal(put1.headers.get('docker-content-digest'), sha256(m1));
    assert.equal(new URL(loc(put1)).pathname, `/v2/${REPO}/manifests/${sha256(m1)}`);
  });

  it('HEAD/GET nonexistent blob -> 404', async () => {
    const missing = sha256('hello world');
    expectStatus(await request(b, 'HEAD', blobPath(REPO, missing)), 404);
    expectError(await request(b, 'GET', blobPath(REPO, missing)), 404, 'BLOB_UNKNOWN');
  });

  it('HEAD/GET existing blob -> 200 with the right digest and bytes', async () => {
    const head = await request(b, 'HEAD', blobPath(REPO, sha256(layer)));
    expectStatus(head, 200);
    assert.equal(head.headers.get('docker-content-digest'), sha256(layer));
    assert.equal(head.headers.get('content-length'), String(layer.length));
    const get = await request(b, 'GET', blobPath(REPO, sha256(layer)));
    expectStatus(get, 200);
    assert.deepEqual(get.body, layer);
  });

  it('HEAD/GET nonexistent manifest (.INVALID_MANIFEST_NAME) -> 404', async () => {
    expectStatus(await getManifest(b, REPO, '.INVALID_MANIFEST_NAME', 'HEAD'), 404);
    expectError(await getManifest(b, REPO, '.INVALID_MANIFEST_NAME'), 404, 'MANIFEST_UNKNOWN');
  });

  it('HEAD/GET manifests by digest and by tag -> 200, exact bytes and digest', async () => {
    for (const [ref, body] of [[sha256(m0), m0], [sha256(m1), m1], ['tagtest0', m0]] as const) {
      const head = await getManifest(b, REPO, ref, 'HEAD');
      expectStatus(head, 200);
      assert.equal(head.headers.get('docker-content-digest'), sha256(body));
      const get = await getManifest(b, REPO, ref);
      expectStatus(get, 200);
      assert.deepEqual(get.body, body);
      assert.equal(get.headers.get('content-type'), MediaType.ociManifest);
    }
  });

  it('GET /manifests/sha256:totallywrong -> 400 with a spec error code (or 404)', async () => {
    const ex = await getManifest(b, REPO, 'sha256:totallywrong');
    expectStatus(ex, 400, 404);
    if (ex.status === 400) assert.ok(SPEC_CODES.includes(errorCodes(ex)[0]!), ex.describe());
  });
});

describe('push', () => {
  const blobA = randomBytes(42);
  const blobB = randomBytes(42);

  it('streamed: POST, PATCH without Content-Range -> 202, PUT ?digest= empty body -> 201', async () => {
    const post = await startUpload(b, REPO);
    expectStatus(post, 202);
    const patch = await request(b, 'PATCH', post.location, { headers: { 'content-type': 'application/octet-stream' }, body: blobA });
    expectStatus(patch, 202);
    assert.equal(patch.headers.get('range'), '0-41');
    const put = await finishUpload(b, loc(patch), sha256(blobA));
    expectStatus(put, 201);
    assert.equal(new URL(loc(put)).pathname, blobPath(REPO, sha256(blobA)));
  });

  it('monolithic POST ?digest= with body -> 201, then GET -> 200', async () => {
    const data = randomBytes(100);
    const post = await request(b, 'POST', `/v2/${REPO}/blobs/uploads/?digest=${sha256(data)}`, {
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.length) },
      body: data,
    });
    expectStatus(post, 201);
    assert.equal(new URL(loc(post)).pathname, blobPath(REPO, sha256(data)));
    const get = await request(b, 'GET', blobPath(REPO, sha256(data)));
    expectStatus(get, 200);
    assert.deepEqual(get.body, data);
  });

  it('the empty blob: monolithic POST and a session finished without chunks -> 201, GET -> 200 empty', async () => {
    const empty = Buffer.alloc(0);
    const post = await request(b, 'POST', `/v2/${REPO}/blobs/uploads/?digest=${sha256(empty)}`, { headers: { 'content-length': '0' } });
    expectStatus(post, 201);
    const session = await startUpload(b, CROSS);
    expectStatus(await finishUpload(b, session.location, sha256(empty)), 201);
    for (const repo of [REPO, CROSS]) {
      const get = await request(b, 'GET', blobPath(repo, sha256(empty)));
      expectStatus(get, 200);
      assert.equal(get.body.length, 0);
    }
  });

  it('chunked: out-of-order first chunk -> 416', async () => {
    const post = await startUpload(b, REPO);
    const ex = await request(b, 'PATCH', post.location, {
      headers: { 'content-type': 'application/octet-stream', 'content-range': '22-41', 'content-length': '20' },
      body: blobB.subarray(22),
    });
    expectStatus(ex, 416);
  });

  it('chunked: first chunk 202, retry on the POST URL 416, stale GET 204 + Range, second chunk 202, PUT 201', async () => {
    const post = await startUpload(b, REPO);
    const chunk = (start: number, end: number) => ({
      headers: { 'content-type': 'application/octet-stream', 'content-range': `${start}-${end}`, 'content-length': String(end - start + 1) },
      body: blobB.subarray(start, end + 1),
    });
    const first = await request(b, 'PATCH', post.location, chunk(0, 21));
    expectStatus(first, 202);
    assert.equal(first.headers.get('range'), '0-21');
    loc(first);
    const retry = await request(b, 'PATCH', post.location, chunk(0, 21));
    expectStatus(retry, 416);
    assert.equal(retry.headers.get('range'), '0-21');
    const status = await request(b, 'GET', post.location);
    expectStatus(status, 204);
    assert.equal(status.headers.get('range'), '0-21');
    const second = await request(b, 'PATCH', loc(status), chunk(22, 41));
    expectStatus(second, 202);
    assert.equal(second.headers.get('range'), '0-41');
    const put = await finishUpload(b, loc(second), sha256(blobB));
    expectStatus(put, 201);
    loc(put);
    const get = await request(b, 'GET', blobPath(REPO, sha256(blobB)));
    assert.deepEqual(get.body, blobB);
  });

  it('mount without from -> 202 session in the second repository', async () => {
    const ex = await request(b, 'POST', `/v2/${CROSS}/blobs/uploads/?mount=${sha256('unknown')}`, { headers: { 'content-length': '0' } });
    expectStatus(ex, 202);
    assert.ok(new URL(loc(ex)).pathname.startsWith(`/v2/${CROSS}/blobs/uploads/`));
  });

  it('mount with from -> 201 with exactly /v2/<second>/blobs/<digest>, and GET there -> 200', async () => {
    const ex = await request(b, 'POST', `/v2/${CROSS}/blobs/uploads/?mount=${sha256(blobA)}&from=${REPO}`, { headers: { 'content-length': '0' } });
    expectStatus(ex, 201);
    assert.equal(ex.headers.get('location')?.replace(/^https?:\/\/[^/]+/, ''), `/v2/${CROSS}/blobs/${sha256(blobA)}`);
    const get = await request(b, 'GET', blobPath(CROSS, sha256(blobA)));
    expectStatus(get, 200);
    assert.deepEqual(get.body, blobA);
  });

  it('mount of a nonexistent blob -> 202 session', async () => {
    const ex = await request(b, 'POST', `/v2/${CROSS}/blobs/uploads/?mount=${sha256('nope')}&from=${REPO}`, { headers: { 'content-length': '0' } });
    expectStatus(ex, 202);
    assert.ok(new URL(loc(ex)).pathname.startsWith(`/v2/${CROSS}/blobs/uploads/`));
  });

  it('manifest under test0..test3 -> 201 each; no-layers manifest -> 201 with Location; GET by digest 200', async () => {
    const cfg = config(2);
    await uploadBlob(b, REPO, cfg);
    const m = manifest(cfg);
    for (const t of ['test0', 'test1', 'test2', 'test3']) {
      const put = await putManifest(b, REPO, t, m, MediaType.ociManifest);
      expectStatus(put, 201);
      loc(put);
    }
    const noLayers = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { mediaType: MediaType.ociConfig, digest: sha256(cfg), size: cfg.length }, layers: [] }, null, '\t'));
    const empty = await putManifest(b, REPO, 'emptylayer', noLayers, MediaType.ociManifest);
    expectStatus(empty, 201);
    loc(empty);
    const got = await getManifest(b, REPO, sha256(m));
    expectStatus(got, 200);
    assert.deepEqual(got.body, m);
  });
});

describe('content discovery', () => {
  const REF_REPO = 'conformance/discovery';
  const cfg4 = config(4);
  const m4 = manifest(cfg4);
  const subject = { mediaType: MediaType.ociManifest, digest: sha256(m4), size: m4.length };
  const refBlobA = randomBytes(42);
  const refBlobB = randomBytes(42);
  const artifacts: Array<{ body: Buffer; mediaType: string; subject: string }> = [];

  function artifact(opts: { configType?: string; artifactType?: string; layerBlob?: Buffer; annotation: string; subjectDigest?: typeof subject }): Buffer {
    const doc: Record<string, unknown> = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: opts.configType ?? 'application/vnd.oci.empty.v1+json', digest: sha256(emptyJson), size: 2 },
      layers: opts.layerBlob ? [{ mediaType: 'application/octet-stream', digest: sha256(opts.layerBlob), size: opts.layerBlob.length }] : [],
      subject: opts.subjectDigest ?? subject,
      annotations: { 'org.opencontainers.conformance.test': opts.annotation },
    };
    if (opts.artifactType) doc.artifactType = opts.artifactType;
    return Buffer.from(JSON.stringify(doc, null, '\t'));
  }

  it('tags setup, then listing with n and last', async () => {
    const cfg = config(3);
    for (const blob of [cfg, layer]) await uploadBlob(b, REF_REPO, blob);
    const m = manifest(cfg);
    for (const t of ['test3', 'test0', 'test2', 'test1', 'Test4']) expectStatus(await putManifest(b, REF_REPO, t, m, MediaType.ociManifest), 201);
    const all = await listTags(b, REF_REPO);
    expectStatus(all, 200);
    assert.deepEqual(all.tags, ['Test4', 'test0', 'test1', 'test2', 'test3']);
    assert.equal(all.headers.get('link'), null);

    const page1 = await request(b, 'GET', `/v2/${REF_REPO}/tags/list?n=2`);
    expectStatus(page1, 200);
    assert.deepEqual(page1.json<{ tags: string[] }>().tags, ['Test4', 'test0']);
    const link = page1.headers.get('link');
    assert.match(link ?? '', /^<\/v2\/conformance\/discovery\/tags\/list\?n=2&last=test0>; rel="next"$/);
    const page2 = await request(b, 'GET', link!.slice(1, link!.indexOf('>')));
    assert.deepEqual(page2.json<{ tags: string[] }>().tags, ['test1', 'test2']);
    const page3 = await request(b, 'GET', `/v2/${REF_REPO}/tags/list?n=2&last=test2`);
    assert.deepEqual(page3.json<{ tags: string[] }>().tags, ['test3']);
    assert.equal(page3.headers.get('link'), null, 'no next page after the last one');
    const exact = await request(b, 'GET', `/v2/${REF_REPO}/tags/list?n=5`);
    assert.equal(exact.json<{ tags: string[] }>().tags.length, 5);
    assert.equal(exact.headers.get('link'), null, 'a page ending exactly at the last tag has no next');
    const none = await request(b, 'GET', `/v2/${REF_REPO}/tags/list?n=0`);
    assert.deepEqual(none.json<{ tags: string[] }>().tags, []);
  });

  it('references setup: every PUT with a subject answers OCI-Subject, even for a missing subject', async () => {
    for (const blob of [emptyJson, refBlobA, refBlobB, cfg4, layer]) await uploadBlob(b, REF_REPO, blob);
    const a1 = artifact({ configType: ARTIFACT_A, annotation: 'a-config' });
    const a2 = artifact({ artifactType: ARTIFACT_A, layerBlob: refBlobA, annotation: 'a-explicit' });
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociIndex,
        artifactType: 'application/vnd.food.stand',
        manifests: [
          { mediaType: MediaType.ociManifest, digest: sha256(a1), size: a1.length },
          { mediaType: MediaType.ociManifest, digest: sha256(a2), size: a2.length },
        ],
        subject,
        annotations: { 'org.opencontainers.conformance.test': 'index' },
      }),
    );
    const b1 = artifact({ artifactType: ARTIFACT_B, layerBlob: refBlobB, annotation: 'b-1' });
    const b2 = artifact({ configType: ARTIFACT_B, annotation: 'b-2' });
    const m3 = manifest(config(33));
    const orphan = artifact({ artifactType: ARTIFACT_B, annotation: 'orphan', subjectDigest: { mediaType: MediaType.ociManifest, digest: sha256(m3), size: m3.length } });
    const before4 = [
      { body: a1, mediaType: MediaType.ociManifest },
      { body: a2, mediaType: MediaType.ociManifest },
      { body: index, mediaType: MediaType.ociIndex },
    ];
    for (const x of before4) {
      const put = await putManifest(b, REF_REPO, sha256(x.body), x.body, x.mediaType);
      expectStatus(put, 201);
      assert.equal(put.headers.get('oci-subject'), subject.digest, put.describe());
      artifacts.push({ ...x, subject: subject.digest });
    }
    const put4 = await putManifest(b, REF_REPO, 'tagtest0', m4, MediaType.ociManifest);
    expectStatus(put4, 201);
    assert.equal(put4.headers.get('oci-subject'), null, 'no subject, no header');
    for (const x of [b1, b2]) {
      const put = await putManifest(b, REF_REPO, sha256(x), x, MediaType.ociManifest);
      expectStatus(put, 201);
      assert.equal(put.headers.get('oci-subject'), subject.digest);
      artifacts.push({ body: x, mediaType: MediaType.ociManifest, subject: subject.digest });
    }
    const putOrphan = await putManifest(b, REF_REPO, sha256(orphan), orphan, MediaType.ociManifest);
    expectStatus(putOrphan, 201);
    assert.equal(putOrphan.headers.get('oci-subject'), sha256(m3));
    artifacts.push({ body: orphan, mediaType: MediaType.ociManifest, subject: sha256(m3) });
  });

  interface Index {
    schemaVersion: number;
    mediaType: string;
    manifests: Array<{ mediaType: string; digest: string; size: number; artifactType?: string; annotations?: Record<string, string> }>;
  }
  async function referrers(digest: string, query = ''): Promise<Exchange & { index: Index }> {
    const ex = await request(b, 'GET', `/v2/${REF_REPO}/referrers/${digest}${query}`);
    expectStatus(ex, 200);
    assert.equal(ex.headers.get('content-type'), MediaType.ociIndex);
    const index = ex.json<Index>();
    assert.equal(index.schemaVersion, 2);
    assert.equal(index.mediaType, MediaType.ociIndex);
    return Object.assign(ex, { index });
  }

  it('referrers of an unknown digest: 200 with an empty index', async () => {
    assert.deepEqual((await referrers(sha256('nothing'))).index.manifests, []);
  });

  it('referrers of manifest 4: all five, each with its annotation, artifactType and exact size', async () => {
    const { index } = await referrers(subject.digest);
    const expected = artifacts.filter((a) => a.subject === subject.digest);
    assert.equal(index.manifests.length, 5);
    for (const a of expected) {
      const doc = JSON.parse(a.body.toString()) as { artifactType?: string; config?: { mediaType: string }; annotations: Record<string, string> };
      const d = index.manifests.find((m) => m.digest === sha256(a.body));
      assert.ok(d, `missing ${sha256(a.body)}`);
      assert.equal(d.size, a.body.length);
      assert.equal(d.mediaType, a.mediaType);
      assert.equal(d.artifactType, doc.artifactType ?? doc.config?.mediaType);
      assert.deepEqual(d.annotations, doc.annotations);
    }
  });

  it('referrers filtered by artifactType: OCI-Filters-Applied and exactly the two type-A artifacts', async () => {
    const ex = await referrers(subject.digest, `?artifactType=${encodeURIComponent(ARTIFACT_A)}`);
    assert.equal(ex.headers.get('oci-filters-applied'), 'artifactType');
    assert.equal(ex.index.manifests.length, 2);
    assert.ok(ex.index.manifests.every((m) => m.artifactType === ARTIFACT_A));
    const none = await referrers(subject.digest, `?artifactType=${encodeURIComponent('application/x-none')}`);
    assert.deepEqual(none.index.manifests, []);
  });

  it('referrers of a manifest never pushed: the one artifact pointing to it', async () => {
    const orphan = artifacts[artifacts.length - 1]!;
    const { index } = await referrers(orphan.subject);
    assert.deepEqual(index.manifests.map((m) => m.digest), [sha256(orphan.body)]);
  });

  it('deleting a referrer removes it from the referrers list', async () => {
    const victim = artifacts.find((a) => a.subject === subject.digest)!;
    expectStatus(await request(b, 'DELETE', `/v2/${REF_REPO}/manifests/${sha256(victim.body)}`), 202);
    const { index } = await referrers(subject.digest);
    assert.equal(index.manifests.length, 4);
    assert.ok(!index.manifests.some((m) => m.digest === sha256(victim.body)));
  });
});

describe('content management', () => {
  const MGMT = 'conformance/management';
  const cfg = config(5);
  const m = manifest(cfg);

  it('DELETE by tag -> 202 and the tag list shrinks by exactly one; the manifest stays', async () => {
    for (const blob of [cfg, layer]) await uploadBlob(b, MGMT, blob);
    for (const t of ['tagtest0', 'other1', 'other2']) expectStatus(await putManifest(b, MGMT, t, m, MediaType.ociManifest), 201);
    const before = await listTags(b, MGMT);
    assert.equal(before.tags.length, 3);
    expectStatus(await request(b, 'DELETE', `/v2/${MGMT}/manifests/tagtest0`), 202);
    const after = await listTags(b, MGMT);
    expectStatus(after, 200);
    assert.deepEqual(after.tags, ['other1', 'other2']);
    expectStatus(await getManifest(b, MGMT, sha256(m)), 200);
    expectError(await getManifest(b, MGMT, 'tagtest0'), 404, 'MANIFEST_UNKNOWN');
    expectError(await request(b, 'DELETE', `/v2/${MGMT}/manifests/tagtest0`), 404, 'MANIFEST_UNKNOWN');
  });

  it('DELETE by digest -> 202, then GET -> 404 and its tags are gone', async () => {
    expectStatus(await request(b, 'DELETE', `/v2/${MGMT}/manifests/${sha256(m)}`), 202);
    expectStatus(await getManifest(b, MGMT, sha256(m)), 404);
    expectStatus(await request(b, 'DELETE', `/v2/${MGMT}/manifests/${sha256(m)}`), 404);
    assert.deepEqual((await listTags(b, MGMT)).tags, []);
  });

  it('DELETE blob -> 202, then GET -> 404', async () => {
    for (const blob of [cfg, layer]) {
      expectStatus(await request(b, 'DELETE', blobPath(MGMT, sha256(blob))), 202);
      expectError(await request(b, 'GET', blobPath(MGMT, sha256(blob))), 404, 'BLOB_UNKNOWN');
    }
    expectError(await request(b, 'DELETE', blobPath(MGMT, sha256(cfg))), 404, 'BLOB_UNKNOWN');
  });
});

describe('catalog', () => {
  it('lists repositories in order with n/last and a Link only when more follow', async () => {
    const all = await request(b, 'GET', '/v2/_catalog');
    expectStatus(all, 200);
    const names = all.json<{ repositories: string[] }>().repositories;
    assert.deepEqual(names, [...names].sort());
    for (const r of [REPO, CROSS, 'conformance/discovery', 'conformance/management']) assert.ok(names.includes(r), r);
    const page = await request(b, 'GET', '/v2/_catalog?n=1');
    assert.deepEqual(page.json<{ repositories: string[] }>().repositories, [names[0]]);
    assert.match(page.headers.get('link') ?? '', /rel="next"/);
    const last = await request(b, 'GET', `/v2/_catalog?n=${names.length}`);
    assert.equal(last.headers.get('link'), null);
  });
});

describe('range reads', () => {
  it('GET with Range -> 206 and the bytes; unsatisfiable -> 416', async () => {
    const data = randomBytes(100);
    await uploadBlob(b, REPO, data);
    const part = await request(b, 'GET', blobPath(REPO, sha256(data)), { headers: { range: 'bytes=10-19' } });
    expectStatus(part, 206);
    assert.deepEqual(part.body, data.subarray(10, 20));
    assert.equal(part.headers.get('content-range'), 'bytes 10-19/100');
    expectStatus(await request(b, 'GET', blobPath(REPO, sha256(data)), { headers: { range: 'bytes=200-' } }), 416);
  });
});
