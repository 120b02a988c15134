// The lifecycle and garbage-collection stores: the same answers on every database.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { MetadataStore } from '../../src/store/meta/metadata-store.js';
import { manifestRow, type StoreHandle } from './metadata-store-contract.js';

const dg = (s: string) => 'sha256:' + createHash('sha256').update(s).digest('hex');
const A = '111122223333';

export function lifecycleGcStoreContract(name: string, makeStore: () => Promise<StoreHandle<MetadataStore>>): void {
  describe(`LifecycleStore and GcStore contract: ${name}`, () => {
    let h: StoreHandle<MetadataStore>;
    let meta: MetadataStore;
    beforeEach(async () => {
      h = await makeStore();
      meta = h.store;
    });
    afterEach(async () => h.close());

    it('lifecycle previews: one per repository, replaced, results round-trip', async () => {
      const repo = (await meta.createRepository(A, 'app'))!;
      assert.equal(await meta.lifecycle.loadPreview(repo.id), undefined);
      await meta.lifecycle.savePreview(repo.id, { policyText: 'p1', status: 'IN_PROGRESS', results: [], startedAt: 5, completedAt: null });
      await meta.lifecycle.savePreview(repo.id, { policyText: 'p2', status: 'COMPLETE', results: [{ imageDigest: dg('x') }], startedAt: 6, completedAt: 7 });
      assert.deepEqual(await meta.lifecycle.loadPreview(repo.id), { policyText: 'p2', status: 'COMPLETE', results: [{ imageDigest: dg('x') }], startedAt: 6, completedAt: 7 });
    });

    it('lifecycle events: listed per repository in time order; a rolled-back transaction records none', async () => {
      const event = (digest: string, at: number) => ({ registryId: A, repositoryName: 'app', digest, tags: ['t'], rulePriority: 1, reason: 'rule' as const, at });
      await meta.lifecycle.recordEvent(event(dg('b'), 20));
      await meta.lifecycle.recordEvent(event(dg('a'), 10));
      await meta.lifecycle.recordEvent({ ...event(dg('c'), 5), repositoryName: 'other' });
      await assert.rejects(
        meta.transaction(async (tx) => {
          await tx.lifecycle.recordEvent(event(dg('d'), 1));
          throw new Error('rolled back');
        }),
      );
      assert.deepEqual((await meta.lifecycle.listEvents(A, 'app')).map((e) => [e.digest, e.at, e.tags, e.rulePriority]), [
        [dg('a'), 10, ['t'], 1],
        [dg('b'), 20, ['t'], 1],
      ]);
    });

    it('gc: only old, unlinked, unreferenced blobs and unused links are candidates; deletes re-check', async () => {
      const repo = (await meta.createRepository(A, 'app'))!;
      await meta.commitBlob(repo.id, dg('used'), 4);
      await meta.commitBlob(repo.id, dg('linked-only'), 4);
      await meta.insertManifest(manifestRow(repo.id, 'm'), [{ child: dg('used'), kind: 'blob' }]);
      const cutoff = Date.now() + 1000;
      assert.deepEqual(await meta.gc.unusedLinks(cutoff), [{ repoId: repo.id, digest: dg('linked-only') }]);
      assert.deepEqual(await meta.gc.unreferencedBlobs(cutoff), [], 'a linked blob is not a candidate yet');
      assert.equal(await meta.gc.deleteUnusedLink(repo.id, dg('used'), cutoff), false, 'a link a manifest needs stays');
      assert.equal(await meta.gc.deleteUnusedLink(repo.id, dg('linked-only'), cutoff), true);
      assert.deepEqual(await meta.gc.unreferencedBlobs(cutoff), [{ digest: dg('linked-only'), size: 4 }]);
      assert.deepEqual(await meta.gc.unreferencedBlobs(0), [], 'younger than the cutoff');
      assert.equal(await meta.gc.deleteUnreferencedBlob(dg('used'), cutoff), false);
      assert.equal(await meta.gc.deleteUnreferencedBlob(dg('linked-only'), cutoff), true);
      assert.equal(await meta.getBlob(dg('linked-only')), undefined);
    });

    it('gc: lost links are restored; orphans are remembered; idle uploads go; a referenced blob is never forgotten', async () => {
      const repo = (await meta.createRepository(A, 'app'))!;
      await meta.commitBlob(repo.id, dg('layer'), 4);
      await meta.insertManifest(manifestRow(repo.id, 'm'), [{ child: dg('layer'), kind: 'blob' }]);
      await meta.unlinkBlob(repo.id, dg('layer'));
      assert.equal(await meta.gc.restoreMissingLinks(Date.now()), 1);
      assert.ok(await meta.getRepoBlob(repo.id, dg('layer')));
      assert.equal(await meta.gc.forgetBlobWithoutFile(dg('layer')), 'referenced');
      assert.ok(await meta.getBlob(dg('layer')));

      await meta.commitBlob(repo.id, dg('loose'), 4);
      assert.equal(await meta.gc.forgetBlobWithoutFile(dg('loose')), 'forgotten');
      assert.equal(await meta.getBlob(dg('loose')), undefined);
      assert.equal(await meta.getRepoBlob(repo.id, dg('loose')), undefined);

      assert.equal(await meta.gc.orphanFirstSeen(dg('orphan')), undefined);
      await meta.gc.noteOrphan(dg('orphan'), 42);
      await meta.gc.noteOrphan(dg('orphan'), 99);
      assert.equal(await meta.gc.orphanFirstSeen(dg('orphan')), 42, 'first sighting kept');
      assert.deepEqual(await meta.gc.listOrphans(), [dg('orphan')]);
      await meta.gc.forgetOrphan(dg('orphan'));
      assert.deepEqual(await meta.gc.listOrphans(), []);

      const upload = await meta.createUpload(repo.id);
      assert.equal(await meta.gc.deleteIdleUpload(upload.id, upload.updatedAt), false, 'not idle before the cutoff');
      assert.equal(await meta.gc.deleteIdleUpload(upload.id, upload.updatedAt + 1), true);
      assert.equal(await meta.getUpload(upload.id), undefined);
    });
  });
}
