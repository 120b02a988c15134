// The MetadataStore contract, run against every database implementation.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { ManifestRow, MetadataStore } from '../../src/store/meta/metadata-store.js';

export interface StoreHandle<S> {
  store: S;
  close(): Promise<void>;
}

const dg = (s: string) => 'sha256:' + createHash('sha256').update(s).digest('hex');

export function manifestRow(repoId: string, name: string, extra: Partial<ManifestRow> = {}): ManifestRow {
  const body = Buffer.from(`{"name":"${name}"}`);
  return {
    repoId,
    digest: dg(name),
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: null,
    configMediaType: 'application/vnd.oci.image.config.v1+json',
    subject: null,
    annotations: null,
    size: body.length,
    layersSize: 10,
    body,
    pushedAt: 1000,
    lastPulledAt: null,
    imageStatus: 'ACTIVE',
    lastArchivedAt: null,
    lastActivatedAt: null,
    ...extra,
  };
}

export function metadataStoreContract(name: string, makeStore: () => Promise<StoreHandle<MetadataStore>>): void {
  describe(`MetadataStore contract: ${name}`, () => {
    let h: StoreHandle<MetadataStore>;
    let meta: MetadataStore;
    beforeEach(async () => {
      h = await makeStore();
      meta = h.store;
    });
    afterEach(async () => h.close());

    async function repo(n = 'repo') {
      const r = await meta.createRepository('111122223333', n, { imageTagMutability: 'MUTABLE' });
      assert.ok(r);
      return r;
    }

    it('settings: get, set, overwrite', async () => {
      assert.equal(await meta.getSetting('k'), undefined);
      await meta.setSetting('k', 'v1');
      await meta.setSetting('k', 'v2');
      assert.equal(await meta.getSetting('k'), 'v2');
    });

    it('getOrCreateSetting: the first stored value wins, also between racing callers', async () => {
      assert.equal(await meta.getOrCreateSetting('secret', () => 'first'), 'first');
      assert.equal(await meta.getOrCreateSetting('secret', () => 'second'), 'first');
      let created = 0;
      const racers = await Promise.all(
        Array.from({ length: 8 }, (_, i) => meta.getOrCreateSetting('raced', () => `value-${i}-${++created}`)),
      );
      assert.equal(new Set(racers).size, 1);
      assert.equal(await meta.getSetting('raced'), racers[0]);
    });

    it('repositories: create once, get by name and id, list in name order with paging, update, delete', async () => {
      const a = await repo('b-repo');
      assert.equal(await meta.createRepository('111122223333', 'b-repo'), undefined);
      await repo('a-repo');
      await repo('c/nested');
      await meta.createRepository('999999999999', 'other');
      assert.deepEqual((await meta.getRepository('111122223333', 'b-repo'))?.id, a.id);
      assert.deepEqual((await meta.getRepositoryById(a.id))?.settings, { imageTagMutability: 'MUTABLE' });
      assert.equal(await meta.getRepository('999999999999', 'b-repo'), undefined);
      assert.deepEqual((await meta.listRepositories('111122223333')).map((r) => r.name), ['a-repo', 'b-repo', 'c/nested']);
      assert.deepEqual((await meta.listRepositories('111122223333', 'a-repo', 1)).map((r) => r.name), ['b-repo']);
      assert.equal((await meta.listAllRepositories()).length, 4);
      await meta.updateRepositorySettings(a.id, () => ({ tags: [{ Key: 'k', Value: 'v' }] }));
      assert.deepEqual((await meta.getRepositoryById(a.id))?.settings, { imageTagMutability: 'MUTABLE', tags: [{ Key: 'k', Value: 'v' }] });
      await meta.updateRepositorySettings(a.id, (current) => ({ imageTagMutability: undefined, tags: [...(current.tags as unknown[]), { Key: 'k2', Value: 'v2' }] }));
      assert.deepEqual((await meta.getRepositoryById(a.id))?.settings, { tags: [{ Key: 'k', Value: 'v' }, { Key: 'k2', Value: 'v2' }] });
      await meta.commitBlob(a.id, dg('blob'), 4);
      await meta.insertManifest(manifestRow(a.id, 'm'), [{ child: dg('blob'), kind: 'blob' }]);
      await meta.putTag(a.id, 'latest', dg('m'));
      await meta.createUpload(a.id);
      await meta.deleteRepository(a.id);
      assert.equal(await meta.getRepositoryById(a.id), undefined);
      assert.equal(await meta.getManifest(a.id, dg('m')), undefined);
      assert.deepEqual(await meta.listTags(a.id), []);
      assert.ok(await meta.getBlob(dg('blob')), 'blob rows outlive repositories; GC removes them');
    });

    it('blobs: commit, link, unlink, missing', async () => {
      const a = await repo('a');
      const b = await repo('b');
      assert.equal(await meta.getBlob(dg('x')), undefined);
      await meta.commitBlob(a.id, dg('x'), 42);
      await meta.commitBlob(a.id, dg('x'), 42);
      assert.deepEqual(await meta.getBlob(dg('x')), { size: 42 });
      assert.deepEqual(await meta.getRepoBlob(a.id, dg('x')), { size: 42 });
      assert.equal(await meta.getRepoBlob(b.id, dg('x')), undefined);
      await meta.linkBlob(b.id, dg('x'));
      assert.deepEqual(await meta.getRepoBlob(b.id, dg('x')), { size: 42 });
      assert.deepEqual(await meta.missingBlobs(b.id, [dg('x'), dg('y')]), [dg('y')]);
      assert.deepEqual(await meta.missingBlobs(b.id, []), []);
      assert.equal(await meta.unlinkBlob(b.id, dg('x')), true);
      assert.equal(await meta.unlinkBlob(b.id, dg('x')), false);
      assert.equal(await meta.getRepoBlob(b.id, dg('x')), undefined);
      assert.deepEqual((await meta.allBlobDigests()).map((r) => r.digest), [dg('x')]);
    });

    it('missingBlobs works past the 500-digest chunk', async () => {
      const a = await repo();
      const digests = Array.from({ length: 1203 }, (_, i) => dg(`b${i}`));
      for (const d of digests.filter((_, i) => i % 2 === 0)) await meta.commitBlob(a.id, d, 1);
      const missing = await meta.missingBlobs(a.id, digests);
      assert.deepEqual(missing, digests.filter((_, i) => i % 2 === 1));
    });

    it('uploads: create, get, claim and advance with compare-and-set, list old, delete', async () => {
      const a = await repo();
      const u = await meta.createUpload(a.id);
      assert.equal(u.size, 0);
      assert.deepEqual((await meta.getUpload(u.id))?.size, 0);
      const far = Date.now() + 60_000;
      assert.equal(await meta.advanceUpload(u.id, 0, 10, 't1'), false, 'no advance without a claim');
      assert.equal(await meta.claimUploadAppend(u.id, 0, 't1', far), true);
      assert.equal(await meta.claimUploadAppend(u.id, 0, 't2', far), false, 'a live claim excludes others');
      assert.equal(await meta.renewUploadAppend(u.id, 't2', far), false);
      assert.equal(await meta.renewUploadAppend(u.id, 't1', far + 1), true);
      const state = Buffer.from([1, 2, 3, 250]);
      assert.equal(await meta.advanceUpload(u.id, 0, 10, 't2', state), false, 'only the claimant advances');
      assert.equal(await meta.advanceUpload(u.id, 0, 10, 't1', state), true);
      assert.equal(await meta.advanceUpload(u.id, 0, 10, 't1', state), false, 'the claim ends with the advance');
      const got = await meta.getUpload(u.id);
      assert.equal(got?.size, 10);
      assert.deepEqual(got?.hashState, state);
      assert.equal(await meta.claimUploadAppend(u.id, 0, 't3', far), false, 'stale offset must lose');
      assert.equal(await meta.claimUploadAppend(u.id, 10, 't3', far), true);
      await meta.releaseUploadAppend(u.id, 't3');
      assert.equal(await meta.claimUploadAppend(u.id, 10, 't4', Date.now() - 1), true, 'a released claim can be taken');
      assert.equal(await meta.claimUploadAppend(u.id, 10, 't5', far), true, 'an expired claim can be taken');
      assert.equal(await meta.advanceUpload(u.id, 10, 20, 't5'), true);
      assert.equal((await meta.getUpload(u.id))?.hashState, undefined, 'no state saved: none kept');
      assert.equal(await meta.claimUploadAppend('nope', 0, 't1', far), false);
      assert.equal(await meta.advanceUpload('nope', 0, 1, 't1'), false);
      assert.deepEqual((await meta.listUploadsOlderThan(Date.now() + 1000)).map((x) => x.id), [u.id]);
      assert.deepEqual(await meta.listUploadsOlderThan(0), []);
      assert.equal(await meta.deleteUpload(u.id), true);
      assert.equal(await meta.deleteUpload(u.id), false);
      assert.equal(await meta.getUpload(u.id), undefined);
    });

    it('named claims: one holder at a time, renewed by the holder only, taken over once expired', async () => {
      const far = Date.now() + 60_000;
      assert.equal(await meta.takeClaim('commit:x', 'h1', far), true);
      assert.equal(await meta.takeClaim('commit:x', 'h2', far), false);
      assert.equal(await meta.takeClaim('commit:y', 'h2', far), true, 'another name is free');
      assert.equal(await meta.renewClaim('commit:x', 'h2', far), false);
      assert.equal(await meta.renewClaim('commit:x', 'h1', Date.now() - 1), true);
      assert.equal(await meta.takeClaim('commit:x', 'h2', far), true, 'an expired claim is taken over');
      await meta.releaseClaim('commit:x', 'h1');
      assert.equal(await meta.takeClaim('commit:x', 'h3', far), false, 'a former holder cannot release it');
      await meta.releaseClaim('commit:x', 'h2');
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => meta.takeClaim('commit:x', `r${i}`, far)));
      assert.equal(results.filter(Boolean).length, 1);
    });

    it("a node's claims are released at once when it restarts, and only its own", async () => {
      const far = Date.now() + 60_000;
      const a = await repo();
      const upload = await meta.createUpload(a.id);
      assert.equal(await meta.takeClaim('commit:mine', 'node_1:c1', far), true);
      assert.equal(await meta.takeClaim('commit:theirs', 'nodeA1:c1', far), true);
      assert.equal(await meta.claimUploadAppend(upload.id, 0, 'node_1:u1', far), true);
      await meta.releaseClaimsHeldBy('node_1:');
      assert.equal(await meta.takeClaim('commit:mine', 'node_1:c2', far), true, 'its named claim is free');
      assert.equal(await meta.claimUploadAppend(upload.id, 0, 'node_1:u2', far), true, 'its upload claim is free');
      assert.equal(await meta.takeClaim('commit:theirs', 'node_1:c3', far), false, "another node's claim stays (the prefix is matched literally, _ is no wildcard)");
    });

    it('concurrent claims of one upload: exactly one wins and only it advances', async () => {
      const a = await repo();
      const u = await meta.createUpload(a.id);
      const until = Date.now() + 60_000;
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => meta.claimUploadAppend(u.id, 0, `t${i}`, until)));
      assert.equal(results.filter(Boolean).length, 1);
      const winner = results.indexOf(true);
      const advanced = await Promise.all(Array.from({ length: 10 }, (_, i) => meta.advanceUpload(u.id, 0, i + 1, `t${i}`)));
      assert.deepEqual(advanced.map((x, i) => [i, x]).filter(([, x]) => x), [[winner, true]]);
      assert.equal((await meta.getUpload(u.id))?.size, winner + 1);
    });

    it('manifests: insert once with refs, get, round-trip every field', async () => {
      const a = await repo();
      const row = manifestRow(a.id, 'm', { artifactType: 'application/x-a', subject: dg('s'), annotations: { k: 'v' }, lastPulledAt: 5 });
      assert.equal(await meta.insertManifest(row, [{ child: dg('c'), kind: 'blob' }]), true);
      assert.equal(await meta.insertManifest(row, []), false);
      const got = await meta.getManifest(a.id, row.digest);
      assert.ok(got);
      assert.deepEqual({ ...got, body: got.body.toString() }, { ...row, body: row.body.toString() });
      assert.equal(await meta.countImages(a.id), 1);
      assert.equal((await meta.manifestListingBlob(a.id, dg('c')))?.toString(), row.body.toString());
      assert.equal(await meta.manifestListingBlob(a.id, dg('unlisted')), undefined);
      assert.deepEqual(await meta.missingManifests(a.id, [row.digest, dg('nope')]), [dg('nope')]);
      await meta.recordPulls([{ repoId: a.id, digest: row.digest, at: 99 }]);
      assert.equal((await meta.getManifest(a.id, row.digest))?.lastPulledAt, 99);
    });

    it('tags: put, move, get tagged manifest, list in order with last/limit, tagsOf newest first, delete', async () => {
      const a = await repo();
      await meta.insertManifest(manifestRow(a.id, 'm1'), []);
      await meta.insertManifest(manifestRow(a.id, 'm2'), []);
      for (const [i, t] of ['b', 'a', 'C', 'c'].entries()) await meta.putTag(a.id, t, dg('m1'), i + 1);
      await meta.putTag(a.id, 'b', dg('m2'), 7);
      assert.deepEqual(await meta.getTag(a.id, 'b'), { name: 'b', digest: dg('m2'), updatedAt: 7 });
      assert.equal((await meta.getTaggedManifest(a.id, 'b'))?.digest, dg('m2'));
      assert.equal(await meta.getTaggedManifest(a.id, 'zz'), undefined);
      assert.deepEqual((await meta.listTags(a.id)).map((t) => t.name), ['C', 'a', 'b', 'c']);
      assert.deepEqual((await meta.listTags(a.id, 'a', 1)).map((t) => t.name), ['b']);
      assert.deepEqual(await meta.tagsOf(a.id, dg('m1')), ['c', 'C', 'a']);
      assert.equal(await meta.deleteTag(a.id, 'a'), true);
      assert.equal(await meta.deleteTag(a.id, 'a'), false);
      const listed = await meta.listManifests(a.id);
      assert.deepEqual(listed.map((m) => [m.digest, m.tags]).sort(), [[dg('m1'), ['c', 'C']], [dg('m2'), ['b']]].sort());
    });

    it('getTaggedManifestByName: repository and manifest in one lookup, scoped by account and name', async () => {
      const a = await repo('app');
      const other = await meta.createRepository('999999999999', 'app');
      assert.ok(other);
      await meta.insertManifest(manifestRow(a.id, 'm1'), []);
      await meta.putTag(a.id, 'v1', dg('m1'));
      const found = await meta.getTaggedManifestByName('111122223333', 'app', 'v1');
      assert.ok(found);
      assert.deepEqual(found.repository, a);
      assert.equal(found.manifest.digest, dg('m1'));
      assert.deepEqual(found.manifest.body, manifestRow(a.id, 'm1').body);
      assert.equal(await meta.getTaggedManifestByName('999999999999', 'app', 'v1'), undefined);
      assert.equal(await meta.getTaggedManifestByName('111122223333', 'app', 'v2'), undefined);
      assert.equal(await meta.getTaggedManifestByName('111122223333', 'nope', 'v1'), undefined);
    });

    it('deleteManifest removes its tags and refs, not other manifests', async () => {
      const a = await repo();
      await meta.insertManifest(manifestRow(a.id, 'child'), []);
      await meta.insertManifest(manifestRow(a.id, 'index', { mediaType: 'application/vnd.oci.image.index.v1+json' }), [{ child: dg('child'), kind: 'manifest' }]);
      await meta.putTag(a.id, 'idx', dg('index'));
      assert.equal(await meta.isReferencedManifest(a.id, dg('child')), true);
      assert.equal(await meta.deleteManifest(a.id, dg('index')), true);
      assert.equal(await meta.deleteManifest(a.id, dg('index')), false);
      assert.equal(await meta.getTag(a.id, 'idx'), undefined);
      assert.equal(await meta.isReferencedManifest(a.id, dg('child')), false);
      assert.ok(await meta.getManifest(a.id, dg('child')));
    });

    it('referrers: manifests whose subject is the digest, in digest order', async () => {
      const a = await repo();
      const b = await repo('b');
      for (const n of ['r1', 'r2', 'r3']) await meta.insertManifest(manifestRow(a.id, n, { subject: dg('subject') }), []);
      await meta.insertManifest(manifestRow(b.id, 'elsewhere', { subject: dg('subject') }), []);
      await meta.insertManifest(manifestRow(a.id, 'unrelated'), []);
      const refs = await meta.listReferrers(a.id, dg('subject'));
      assert.deepEqual(refs.map((m) => m.digest), [dg('r1'), dg('r2'), dg('r3')].sort());
      assert.deepEqual(await meta.listReferrers(a.id, dg('nothing')), []);
    });

    it('transaction commits on resolve and rolls back on throw', async () => {
      const a = await repo();
      const value = await meta.transaction(async (tx) => {
        await tx.commitBlob(a.id, dg('kept'), 1);
        return 'ok';
      });
      assert.equal(value, 'ok');
      await assert.rejects(
        meta.transaction(async (tx) => {
          await tx.commitBlob(a.id, dg('dropped'), 1);
          await tx.setSetting('tx', 'yes');
          assert.deepEqual(await tx.getBlob(dg('dropped')), { size: 1 }, 'visible inside the transaction');
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.deepEqual(await meta.getBlob(dg('kept')), { size: 1 });
      assert.equal(await meta.getBlob(dg('dropped')), undefined);
      assert.equal(await meta.getSetting('tx'), undefined);
    });

    it('concurrent transactions are serialised, none lost', async () => {
      await meta.setSetting('counter', '0');
      await Promise.all(
        Array.from({ length: 20 }, () =>
          meta.transaction(async (tx) => {
            const n = Number(await tx.getSetting('counter'));
            await new Promise((r) => setTimeout(r, 1));
            await tx.setSetting('counter', String(n + 1));
          }),
        ),
      );
      assert.equal(await meta.getSetting('counter'), '20');
    });

    it('queries outside a running transaction wait for it, and see its result', async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const tx = meta.transaction(async (t) => {
        await t.setSetting('k', 'inside');
        await gate;
      });
      await new Promise((r) => setTimeout(r, 5));
      const outside = meta.getSetting('k');
      release();
      await tx;
      assert.equal(await outside, 'inside');
    });
  });
}
