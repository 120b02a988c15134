// The archive storage class in the MetadataStore, run against every database implementation.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { MetadataStore } from '../../src/store/meta/metadata-store.js';
import { manifestRow, type StoreHandle } from './metadata-store-contract.js';

const dg = (s: string) => 'sha256:' + createHash('sha256').update(s).digest('hex');

export function archiveStoreContract(name: string, makeStore: () => Promise<StoreHandle<MetadataStore>>): void {
  describe(`archive storage class contract: ${name}`, () => {
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

    it('a pushed manifest is ACTIVE with no archive history; archive and activate move it and stamp the times', async () => {
      const a = await repo();
      const { imageStatus: _s, lastArchivedAt: _a, lastActivatedAt: _b, ...pushed } = manifestRow(a.id, 'm');
      await meta.insertManifest(pushed, [{ child: dg('layer'), kind: 'blob' }]);
      const fresh = await meta.getManifest(a.id, dg('m'));
      assert.deepEqual([fresh?.imageStatus, fresh?.lastArchivedAt, fresh?.lastActivatedAt], ['ACTIVE', null, null]);

      assert.equal(await meta.archiveManifest(a.id, dg('m'), 500), true);
      assert.equal(await meta.archiveManifest(a.id, dg('m'), 600), false, 'an archived image is not archived again');
      const archived = await meta.getManifest(a.id, dg('m'));
      assert.deepEqual([archived?.imageStatus, archived?.lastArchivedAt, archived?.lastActivatedAt], ['ARCHIVED', 500, null]);
      // The status reaches every read path: by tag, the by-name hot path, and listings.
      await meta.putTag(a.id, 'v1', dg('m'));
      assert.equal((await meta.getTaggedManifest(a.id, 'v1'))?.imageStatus, 'ARCHIVED');
      assert.equal((await meta.getTaggedManifestByName('111122223333', 'repo', 'v1'))?.manifest.imageStatus, 'ARCHIVED');
      assert.deepEqual((await meta.listManifests(a.id)).map((m) => [m.imageStatus, m.tags]), [['ARCHIVED', ['v1']]]);
      // Its blobs stay referenced, so garbage collection keeps them.
      assert.equal(await meta.isBlobReferenced(a.id, dg('layer')), true);

      assert.equal(await meta.activateManifest(a.id, dg('m'), 700), true);
      assert.equal(await meta.activateManifest(a.id, dg('m'), 800), false, 'an active image is not activated again');
      const restored = await meta.getManifest(a.id, dg('m'));
      assert.deepEqual([restored?.imageStatus, restored?.lastArchivedAt, restored?.lastActivatedAt], ['ACTIVE', 500, 700]);

      assert.equal(await meta.archiveManifest(a.id, dg('missing'), 1), false);
      assert.equal(await meta.activateManifest(a.id, dg('missing'), 1), false);
    });

    it('a restore: startActivation moves ARCHIVED to ACTIVATING, finishActivation ACTIVATING to ACTIVE with its time', async () => {
      const a = await repo();
      await meta.insertManifest(manifestRow(a.id, 'm'), [{ child: dg('layer'), kind: 'blob' }]);
      assert.equal(await meta.startActivation(a.id, dg('m')), false, 'an active image is not restored');
      await meta.archiveManifest(a.id, dg('m'), 500);
      assert.equal(await meta.finishActivation(a.id, dg('m'), 600), false, 'an archived image whose restore has not started');
      assert.equal(await meta.startActivation(a.id, dg('m')), true);
      assert.equal(await meta.startActivation(a.id, dg('m')), false, 'a restore under way is not started again');
      const activating = await meta.getManifest(a.id, dg('m'));
      assert.deepEqual([activating?.imageStatus, activating?.lastArchivedAt, activating?.lastActivatedAt], ['ACTIVATING', 500, null]);
      assert.equal(await meta.archiveManifest(a.id, dg('m'), 650), false, 'an image being restored is not archived');
      // Its layers are still only in the archive.
      assert.equal(await meta.isBlobOnlyInArchivedImages(a.id, dg('layer')), true);
      assert.equal(await meta.finishActivation(a.id, dg('m'), 700), true);
      assert.equal(await meta.finishActivation(a.id, dg('m'), 800), false);
      const restored = await meta.getManifest(a.id, dg('m'));
      assert.deepEqual([restored?.imageStatus, restored?.lastActivatedAt], ['ACTIVE', 700]);
      assert.equal(await meta.startActivation(a.id, dg('missing')), false);
      assert.equal(await meta.finishActivation(a.id, dg('missing'), 1), false);
    });

    it('archiving is per repository', async () => {
      const a = await repo('a');
      const b = await repo('b');
      await meta.insertManifest(manifestRow(a.id, 'm'), []);
      await meta.insertManifest(manifestRow(b.id, 'm'), []);
      assert.equal(await meta.archiveManifest(a.id, dg('m'), 5), true);
      assert.equal((await meta.getManifest(b.id, dg('m')))?.imageStatus, 'ACTIVE');
    });

    it('isReferencedByActiveManifest: only an index that is not archived holds its images', async () => {
      const a = await repo();
      await meta.insertManifest(manifestRow(a.id, 'child'), []);
      await meta.insertManifest(manifestRow(a.id, 'lone'), []);
      await meta.insertManifest(manifestRow(a.id, 'index', { mediaType: 'application/vnd.oci.image.index.v1+json' }), [{ child: dg('child'), kind: 'manifest' }]);
      assert.equal(await meta.isReferencedByActiveManifest(a.id, dg('child')), true);
      assert.equal(await meta.isReferencedByActiveManifest(a.id, dg('lone')), false);
      await meta.archiveManifest(a.id, dg('index'), 5);
      assert.equal(await meta.isReferencedByActiveManifest(a.id, dg('child')), false);
      await meta.startActivation(a.id, dg('index'));
      assert.equal(await meta.isReferencedByActiveManifest(a.id, dg('child')), true, 'an index being restored holds its images');
      await meta.finishActivation(a.id, dg('index'), 7);
      await meta.archiveManifest(a.id, dg('index'), 8);
      assert.equal(await meta.isReferencedManifest(a.id, dg('child')), true, 'the archived index still lists it');
    });

    it('isBlobOnlyInArchivedImages: a layer is archived only when every image of the repository using it is', async () => {
      const a = await repo();
      await meta.insertManifest(manifestRow(a.id, 'one'), [{ child: dg('shared'), kind: 'blob' }, { child: dg('own'), kind: 'blob' }]);
      await meta.insertManifest(manifestRow(a.id, 'two'), [{ child: dg('shared'), kind: 'blob' }]);
      await meta.archiveManifest(a.id, dg('one'), 5);
      assert.equal(await meta.isBlobOnlyInArchivedImages(a.id, dg('own')), true);
      assert.equal(await meta.isBlobOnlyInArchivedImages(a.id, dg('shared')), false, 'an active image still uses it');
      assert.equal(await meta.isBlobOnlyInArchivedImages(a.id, dg('unlisted')), false);
      await meta.archiveManifest(a.id, dg('two'), 6);
      assert.equal(await meta.isBlobOnlyInArchivedImages(a.id, dg('shared')), true);
    });

    it('archiving and activating concurrently: exactly one archive wins', async () => {
      const a = await repo();
      await meta.insertManifest(manifestRow(a.id, 'm'), []);
      const results = await Promise.all([1, 2, 3, 4].map((n) => meta.transaction((tx) => tx.archiveManifest(a.id, dg('m'), n))));
      assert.equal(results.filter(Boolean).length, 1);
    });
  });
}
