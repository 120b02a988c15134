// The ECR Public registry store (aliases, registry catalog data): the same answers on every database.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MetadataStore } from '../../src/store/meta/metadata-store.js';
import type { StoreHandle } from './metadata-store-contract.js';

const A = '111122223333';
const B = '444455556666';

export function publicRegistryStoreContract(name: string, makeStore: () => Promise<StoreHandle<MetadataStore>>): void {
  describe(`PublicRegistryStore contract: ${name}`, () => {
    let h: StoreHandle<MetadataStore>;
    let meta: MetadataStore;
    beforeEach(async () => {
      h = await makeStore();
      meta = h.store;
    });
    afterEach(async () => h.close());

    it('ensure creates a registry once; its alias never changes; aliases are unique across accounts', async () => {
      assert.equal(await meta.publicRegistries.get(A), undefined);
      const created = await meta.publicRegistries.ensure(A, 'a1b2c3d4', 1000);
      assert.deepEqual(created, { accountId: A, alias: 'a1b2c3d4', displayName: '', createdAt: 1000 });
      assert.deepEqual(await meta.publicRegistries.ensure(A, 'z9z9z9z9', 2000), created);
      assert.equal(await meta.publicRegistries.ensure(B, 'a1b2c3d4'), undefined, 'another account cannot take the alias');
      assert.equal(await meta.publicRegistries.get(B), undefined);
      assert.equal((await meta.publicRegistries.byAlias('a1b2c3d4'))?.accountId, A);
      assert.equal(await meta.publicRegistries.byAlias('z9z9z9z9'), undefined);
    });

    it('concurrent first uses of one account make one registry', async () => {
      const rows = await Promise.all(['m1n1b1v1', 'm2n2b2v2', 'm3n3b3v3', 'm4n4b4v4'].map((alias) => meta.publicRegistries.ensure(A, alias)));
      assert.equal(new Set(rows.map((r) => r?.alias)).size, 1);
      assert.ok(rows[0]);
    });

    it('the display name is set on an existing registry only, and rolls back with its transaction', async () => {
      assert.equal(await meta.publicRegistries.setDisplayName(A, 'Nobody'), false);
      await meta.publicRegistries.ensure(A, 'q1w2e3r4');
      assert.equal(await meta.publicRegistries.setDisplayName(A, 'Team A'), true);
      await assert.rejects(
        meta.transaction(async (tx) => {
          await tx.publicRegistries.setDisplayName(A, 'Lost');
          throw new Error('rolled back');
        }),
      );
      assert.equal((await meta.publicRegistries.get(A))?.displayName, 'Team A');
    });
  });
}
