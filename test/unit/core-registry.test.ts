// The registry domain over the embedded stores, and the /v2 catalog handler, without HTTP.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { Registry } from '../../src/domain/registry/registry.js';
import type { Repository } from '../../src/domain/registry/model.js';
import { toOciError } from '../../src/doors/oci/errors.js';
import { FsBlobStore } from '../../src/store/blob/fs-blob-store.js';
import { MetadataStore } from '../../src/store/meta/metadata-store.js';
import { migrate } from '../../src/store/meta/migrations.js';
import { SqliteDb } from '../../src/store/meta/sqlite.js';
import { catalog } from '../../src/doors/oci/manifests.js';
import type { OciContext } from '../../src/doors/oci/context.js';
import type { OciAccess } from '../../src/doors/oci/access.js';

const ACCOUNT = '111122223333';
const dg = (b: Buffer | string) => 'sha256:' + createHash('sha256').update(b).digest('hex');

async function* body(...parts: Array<Buffer | string>): AsyncIterable<Buffer> {
  for (const p of parts) yield Buffer.from(p);
}
async function* brokenBody(part: string): AsyncIterable<Buffer> {
  yield Buffer.from(part);
  throw new Error('connection reset');
}

let dir: string;
let db: SqliteDb;
let meta: MetadataStore;
let registry: Registry;
let repo: Repository;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-core-registry-'));
  db = new SqliteDb(join(dir, 'metadata.db'));
  await migrate(db);
  meta = new MetadataStore(db);
  const blobs = new FsBlobStore(dir);
  await blobs.init();
  registry = new Registry(meta, blobs);
  repo = await registry.repositories.create({ registryId: ACCOUNT, name: 'app' }, { imageTagMutability: 'MUTABLE' });
});
afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

function rejectsWith(p: Promise<unknown>, code: string, status?: number) {
  return assert.rejects(p, (e: unknown) => toOciError(e).code === code && (status === undefined || toOciError(e).status === status));
}

async function pushBlob(data: string): Promise<string> {
  return (await registry.uploads.whole(repo, dg(data), body(data))).digest;
}

describe('uploads', () => {
  it('an empty blob uploads in one request and in a session finished with no chunk', async () => {
    const empty = dg('');
    assert.deepEqual(await registry.uploads.whole(repo, empty, body(), 0), { digest: empty, size: 0 });
    await meta.unlinkBlob(repo.id, empty);
    const u = await registry.uploads.start(repo);
    assert.deepEqual(await registry.uploads.complete(repo, u.id, empty), { digest: empty, size: 0 });
    assert.equal(await registry.blobs.stat(repo, empty), 0);
  });

  it('a chunk that breaks midway commits nothing; the retry from the same offset wins', async () => {
    const u = await registry.uploads.start(repo);
    await registry.uploads.append(repo, u.id, body('abc'), { range: { start: 0, end: 2 }, expectedLength: 3 });
    await assert.rejects(registry.uploads.append(repo, u.id, brokenBody('GARBAGE'), { range: { start: 3, end: 9 }, expectedLength: 7 }));
    assert.equal((await registry.uploads.get(repo, u.id)).size, 3);
    await registry.uploads.append(repo, u.id, body('def'), { range: { start: 3, end: 5 }, expectedLength: 3 });
    const done = await registry.uploads.complete(repo, u.id, dg('abcdef'));
    assert.deepEqual(done, { digest: dg('abcdef'), size: 6 });
  });

  it('a short chunk is SIZE_INVALID and does not move the offset', async () => {
    const u = await registry.uploads.start(repo);
    await rejectsWith(registry.uploads.append(repo, u.id, body('ab'), { expectedLength: 5 }), 'SIZE_INVALID', 400);
    assert.equal((await registry.uploads.get(repo, u.id)).size, 0);
    await registry.uploads.append(repo, u.id, body('xyz'));
    assert.deepEqual(await registry.uploads.complete(repo, u.id, dg('xyz')), { digest: dg('xyz'), size: 3 });
  });

  it('concurrent chunks at the same offset: one is accepted, the other gets 416', async () => {
    const u = await registry.uploads.start(repo);
    const results = await Promise.allSettled([
      registry.uploads.append(repo, u.id, body('aaa'), { range: { start: 0, end: 2 } }),
      registry.uploads.append(repo, u.id, body('bbb'), { range: { start: 0, end: 2 } }),
    ]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.equal(toOciError(failed.reason).status, 416);
    const winner = (await registry.uploads.get(repo, u.id)).size;
    assert.equal(winner, 3);
  });

  it('a wrong digest cancels the session; the bytes are not stored', async () => {
    const u = await registry.uploads.start(repo);
    await rejectsWith(registry.uploads.complete(repo, u.id, dg('other'), body('data')), 'DIGEST_INVALID', 400);
    await rejectsWith(registry.uploads.get(repo, u.id), 'BLOB_UPLOAD_UNKNOWN', 404);
    await rejectsWith(registry.blobs.stat(repo, dg('data')), 'BLOB_UNKNOWN', 404);
  });

  it('sha512 digests are verified too', async () => {
    const data = 'sha512 content';
    const digest = 'sha512:' + createHash('sha512').update(data).digest('hex');
    assert.equal((await registry.uploads.whole(repo, digest, body(data))).digest, digest);
  });

  it('sessions belong to their repository', async () => {
    const other = await registry.repositories.create({ registryId: ACCOUNT, name: 'other' }, {});
    const u = await registry.uploads.start(repo);
    await rejectsWith(registry.uploads.get(other, u.id), 'BLOB_UPLOAD_UNKNOWN');
  });
});

describe('manifests and tags', () => {
  async function image(tagged: string, extra: Record<string, unknown> = {}): Promise<Buffer> {
    const cfg = await pushBlob(`config-${tagged}`);
    return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cfg, size: `config-${tagged}`.length }, layers: [], ...extra }));
  }

  it('pushManifest refuses bad input before create-on-push creates the repository', async () => {
    await meta.setSetting(`account:${ACCOUNT}:CREATE_ON_PUSH`, 'ENABLED');
    await rejectsWith(registry.images.push({ registryId: ACCOUNT, name: 'fresh' }, 'latest', Buffer.from('{'), undefined), 'MANIFEST_INVALID');
    await rejectsWith(registry.images.push({ registryId: ACCOUNT, name: 'fresh' }, dg('x'), Buffer.from('{}'), undefined), 'DIGEST_INVALID');
    await rejectsWith(registry.images.push({ registryId: ACCOUNT, name: 'Fresh' }, 'latest', Buffer.from('{}'), undefined), 'NAME_INVALID');
    assert.equal(await meta.getRepository(ACCOUNT, 'fresh'), undefined);
  });

  it('pushManifest to a missing repository without create-on-push is NAME_UNKNOWN', async () => {
    const m = await image('a');
    await rejectsWith(registry.images.push({ registryId: ACCOUNT, name: 'missing' }, 'latest', m, undefined), 'NAME_UNKNOWN', 404);
  });

  it('immutable tags cannot move, but re-pushing the same image is fine', async () => {
    const a = await image('a');
    const b = await image('b');
    await registry.images.put(repo, 'v1', a, undefined);
    await registry.repositories.changeSettings(repo, { imageTagMutability: 'IMMUTABLE' });
    const locked = await registry.repositories.get({ registryId: ACCOUNT, name: 'app' });
    await registry.images.put(locked, 'v1', a, undefined);
    await rejectsWith(registry.images.put(locked, 'v1', b, undefined), 'TAG_INVALID', 400);
    assert.equal((await registry.images.get(locked, 'v1')).digest, dg(a));
    assert.equal((await meta.getManifest(repo.id, dg(b))), undefined, 'the refused push left nothing behind');
  });

  it('a tag moves to the new image; deleting a tag keeps the manifest while another tag remains', async () => {
    const a = await image('a');
    const b = await image('b');
    await registry.images.put(repo, 'latest', a, undefined);
    const res = await registry.images.put(repo, 'latest', b, undefined);
    await registry.images.put(repo, 'stable', b, undefined);
    assert.equal(res.created, true);
    assert.equal((await registry.images.get(repo, 'latest')).digest, dg(b));
    await registry.images.untag(repo, 'latest');
    await rejectsWith(registry.images.get(repo, 'latest'), 'MANIFEST_UNKNOWN', 404);
    assert.ok(await registry.images.get(repo, dg(b)));
    await rejectsWith(registry.images.untag(repo, 'latest'), 'MANIFEST_UNKNOWN', 404);
    await rejectsWith(registry.images.untag(repo, '.bad'), 'MANIFEST_UNKNOWN', 404);
    await registry.images.deleteByDigest(repo, dg(b));
    await rejectsWith(registry.images.get(repo, 'stable'), 'MANIFEST_UNKNOWN', 404);
    await rejectsWith(registry.images.deleteByDigest(repo, dg(b)), 'MANIFEST_UNKNOWN', 404);
  });

  it('findManifest: by tag or digest; NAME_UNKNOWN for a missing repository, MANIFEST_UNKNOWN for a missing tag', async () => {
    const a = await image('a');
    await registry.images.put(repo, 'v1', a, undefined);
    const ref = { registryId: ACCOUNT, name: 'app' };
    const byTag = await registry.images.find(ref, 'v1');
    assert.equal(byTag.repository.id, repo.id);
    assert.equal(byTag.manifest.digest, dg(a));
    assert.equal((await registry.images.find(ref, dg(a))).manifest.digest, dg(a));
    await rejectsWith(registry.images.find(ref, 'v2'), 'MANIFEST_UNKNOWN', 404);
    await rejectsWith(registry.images.find(ref, '.INVALID_MANIFEST_NAME'), 'MANIFEST_UNKNOWN', 404);
    await rejectsWith(registry.images.find({ registryId: ACCOUNT, name: 'missing' }, 'v1'), 'NAME_UNKNOWN', 404);
    await rejectsWith(registry.images.find({ registryId: ACCOUNT, name: 'Bad' }, 'v1'), 'NAME_INVALID', 400);
    await rejectsWith(registry.images.find(ref, 'sha256:nope'), 'DIGEST_INVALID', 400);
  });

  it('untag removes the image with its last tag, unless an index lists it', async () => {
    const a = await image('a');
    await registry.images.put(repo, 'one', a, undefined);
    await registry.images.put(repo, 'two', a, undefined);
    assert.deepEqual(await registry.images.untag(repo, 'one'), { digest: dg(a), imageDeleted: false });
    assert.ok(await registry.images.get(repo, dg(a)));
    assert.deepEqual(await registry.images.untag(repo, 'two'), { digest: dg(a), imageDeleted: true });
    await rejectsWith(registry.images.get(repo, dg(a)), 'MANIFEST_UNKNOWN', 404);
    await rejectsWith(registry.images.untag(repo, 'two'), 'MANIFEST_UNKNOWN', 404);
    await rejectsWith(registry.images.untag(repo, '.bad'), 'MANIFEST_UNKNOWN', 404);

    const child = await image('child');
    await registry.images.put(repo, 'child', child, undefined);
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: dg(child), size: child.length }] }));
    await registry.images.put(repo, 'index', index, undefined);
    assert.deepEqual(await registry.images.untag(repo, 'child'), { digest: dg(child), imageDeleted: false });
    assert.ok(await registry.images.get(repo, dg(child)), 'still listed by the index');
  });

  it('referrers carry artifactType and annotations, filtered by artifactType', async () => {
    await pushBlob('{}');
    const subject = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: dg('s'), size: 1 };
    const art = (t: string, ann: string) =>
      Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: t, digest: dg('{}'), size: 2 }, layers: [], subject, annotations: { k: ann } }));
    const r1 = await registry.images.put(repo, dg(art('application/x-a', '1')), art('application/x-a', '1'), undefined);
    assert.equal(r1.subject, subject.digest);
    await registry.images.put(repo, dg(art('application/x-b', '2')), art('application/x-b', '2'), undefined);
    const all = await registry.images.referrers(repo, subject.digest);
    assert.equal(all.length, 2);
    assert.deepEqual(all.map((d) => d.annotations?.k).sort(), ['1', '2']);
    const onlyA = await registry.images.referrers(repo, subject.digest, 'application/x-a');
    assert.deepEqual(onlyA.map((d) => d.artifactType), ['application/x-a']);
  });
});

describe('catalog pagination', () => {
  function fakeCtx(query: string, visible: (name: string) => boolean): { ctx: OciContext; out: { status: number; headers: Record<string, string>; body: string } } {
    const out = { status: 0, headers: {} as Record<string, string>, body: '' };
    const res = {
      writeHead(status: number, headers: Record<string, string>) {
        out.status = status;
        out.headers = headers;
      },
      end(text: string) {
        out.body = text;
      },
    } as unknown as ServerResponse;
    const access = { canList: async (_c: unknown, r: { name: string }) => visible(r.name) } as unknown as OciAccess;
    const ctx = { url: new URL(`http://x/v2/_catalog${query}`), registry, access, caller: { registryId: ACCOUNT, principalArn: '', anonymous: false }, res } as unknown as OciContext;
    return { ctx, out };
  }

  async function page(query: string, visible: (name: string) => boolean = () => true) {
    const { ctx, out } = fakeCtx(query, visible);
    await catalog(ctx);
    return { names: (JSON.parse(out.body) as { repositories: string[] }).repositories, link: out.headers.Link };
  }

  it('a page that ends exactly at a 500-row batch boundary still links to the next', async () => {
    await meta.deleteRepository(repo.id);
    for (let i = 0; i < 1001; i++) await meta.createRepository(ACCOUNT, `r${String(i).padStart(4, '0')}`);
    const p500 = await page('?n=500');
    assert.equal(p500.names.length, 500);
    assert.equal(p500.link, '</v2/_catalog?n=500&last=r0499>; rel="next"');
    const p1000 = await page('?n=1000');
    assert.equal(p1000.names.length, 1000);
    assert.ok(p1000.link, 'one repository remains');
    const p1001 = await page('?n=1001');
    assert.equal(p1001.names.length, 1001);
    assert.equal(p1001.link, undefined);
    const last = await page('?n=500&last=r0999');
    assert.deepEqual(last.names, ['r1000']);
    assert.equal(last.link, undefined);
  });

  it('hidden repositories neither fill the page nor produce a Link', async () => {
    await meta.deleteRepository(repo.id);
    for (let i = 0; i < 1200; i++) await meta.createRepository(ACCOUNT, `r${String(i).padStart(4, '0')}`);
    const even = (n: string) => Number(n.slice(1)) % 2 === 0;
    const p = await page('?n=300', even);
    assert.equal(p.names.length, 300);
    assert.ok(p.names.every(even));
    assert.equal(p.link, '</v2/_catalog?n=300&last=r0598>; rel="next"');
    const rest = await page('?n=300&last=r0598', even);
    assert.equal(rest.names.length, 300);
    assert.equal(rest.link, undefined, 'all visible names were listed');
    const onlyFirst = await page('?n=1', (n) => n === 'r0000');
    assert.deepEqual(onlyFirst.names, ['r0000']);
    assert.equal(onlyFirst.link, undefined);
  });
});
