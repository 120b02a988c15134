// The stores behind metrics and the audit trail: the same answers on every database.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { MetadataStore } from '../../src/store/meta/metadata-store.js';
import type { StoreHandle } from './metadata-store-contract.js';

const dg = (s: string) => 'sha256:' + createHash('sha256').update(s).digest('hex');
const A = '111122223333';
const B = '444455556666';

export function observabilityStoreContract(name: string, makeStore: () => Promise<StoreHandle<MetadataStore>>): void {
  describe(`StatsStore contract: ${name}`, () => {
    let h: StoreHandle<MetadataStore>;
    let meta: MetadataStore;
    beforeEach(async () => {
      h = await makeStore();
      meta = h.store;
    });
    afterEach(async () => h.close());

    it('storage per repository counts each linked blob once per repository; the total counts each blob once', async () => {
      const app = (await meta.createRepository(A, 'app'))!;
      const web = (await meta.createRepository(A, 'web'))!;
      await meta.createRepository(B, 'empty');
      await meta.commitBlob(app.id, dg('shared'), 1000);
      await meta.commitBlob(app.id, dg('own'), 24);
      await meta.linkBlob(web.id, dg('shared'));
      await meta.linkBlob(app.id, dg('shared'));
      assert.deepEqual(await meta.stats.storageByRepository(), [
        { registryId: A, repositoryName: 'app', bytes: 1024 },
        { registryId: A, repositoryName: 'web', bytes: 1000 },
        { registryId: B, repositoryName: 'empty', bytes: 0 },
      ]);
      assert.equal(await meta.stats.totalBlobBytes(), 1024);
    });

    it('uploads in progress and jobs by kind and status', async () => {
      const app = (await meta.createRepository(A, 'app'))!;
      assert.equal(await meta.stats.uploadsInProgress(), 0);
      await meta.createUpload(app.id);
      const done = await meta.createUpload(app.id);
      await meta.createUpload(app.id);
      await meta.deleteUpload(done.id);
      assert.equal(await meta.stats.uploadsInProgress(), 2);
      await meta.jobs.enqueue({ kind: 'gc.run' });
      await meta.jobs.enqueue({ kind: 'gc.run' });
      await meta.jobs.enqueue({ kind: 'lifecycle.run-all' });
      assert.deepEqual(await meta.stats.jobCounts(), [
        { kind: 'gc.run', status: 'queued', count: 2 },
        { kind: 'lifecycle.run-all', status: 'queued', count: 1 },
      ]);
    });
  });
}
