// The KMS store: keys, material versions, aliases and blob data keys, the same on every database.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MetadataStore } from '../../src/store/meta/metadata-store.js';
import type { KmsKeyRow } from '../../src/store/meta/kms-store.js';
import type { StoreHandle } from './metadata-store-contract.js';

const A = '111122223333';
const R = 'us-east-1';

function keyRow(id: string, overrides: Partial<KmsKeyRow> = {}): KmsKeyRow {
  return {
    id,
    accountId: A,
    region: R,
    description: 'd',
    keyUsage: 'ENCRYPT_DECRYPT',
    keySpec: 'SYMMETRIC_DEFAULT',
    origin: 'AWS_KMS',
    keyManager: 'CUSTOMER',
    state: 'Enabled',
    policy: '{}',
    tags: [{ TagKey: 'a', TagValue: '1' }],
    rotationEnabled: false,
    deletionDate: null,
    pendingWindowDays: null,
    createdAt: 1000,
    ...overrides,
  };
}

export function kmsStoreContract(name: string, makeStore: () => Promise<StoreHandle<MetadataStore>>): void {
  describe(`KmsStore contract: ${name}`, () => {
    let h: StoreHandle<MetadataStore>;
    let meta: MetadataStore;
    beforeEach(async () => {
      h = await makeStore();
      meta = h.store;
    });
    afterEach(async () => h.close());

    it('keys round-trip, list per account and region in id order, update only what the patch names', async () => {
      await meta.kms.insertKey(keyRow('k2'), Buffer.from('m2'));
      await meta.kms.insertKey(keyRow('k1'), Buffer.from('m1'));
      await meta.kms.insertKey(keyRow('k3', { accountId: '999988887777' }), Buffer.from('m3'));
      await meta.kms.insertKey(keyRow('k4', { region: 'eu-west-1' }), Buffer.from('m4'));
      assert.deepEqual(await meta.kms.getKey('k1'), keyRow('k1'));
      assert.deepEqual((await meta.kms.listKeys(A, R, '', 10)).map((k) => k.id), ['k1', 'k2']);
      assert.deepEqual((await meta.kms.listKeys(A, R, 'k1', 10)).map((k) => k.id), ['k2']);
      assert.equal(await meta.kms.updateKey('k1', { state: 'PendingDeletion', deletionDate: 5000, pendingWindowDays: 7, rotationEnabled: true }), true);
      assert.deepEqual(await meta.kms.getKey('k1'), keyRow('k1', { state: 'PendingDeletion', deletionDate: 5000, pendingWindowDays: 7, rotationEnabled: true }));
      assert.equal(await meta.kms.updateKey('nope', { state: 'Disabled' }), false);
    });

    it('material versions: the first comes with the key, later ones added once each', async () => {
      await meta.kms.insertKey(keyRow('k1'), Buffer.from('v1'));
      assert.deepEqual((await meta.kms.latestVersion('k1'))?.material, Buffer.from('v1'));
      assert.equal(await meta.kms.addVersion('k1', 2, Buffer.from('v2'), 2000), true);
      assert.equal(await meta.kms.addVersion('k1', 2, Buffer.from('other'), 2001), false, 'a racing rotation adds nothing');
      const latest = await meta.kms.latestVersion('k1');
      assert.deepEqual([latest?.version, latest?.material, latest?.createdAt], [2, Buffer.from('v2'), 2000]);
      assert.deepEqual((await meta.kms.getVersion('k1', 1))?.material, Buffer.from('v1'));
      assert.equal(await meta.kms.latestVersion('none'), undefined);
    });

    it('aliases: unique per account and region, updated, listed by name, deleted with their key', async () => {
      await meta.kms.insertKey(keyRow('k1'), Buffer.from('m'));
      await meta.kms.insertKey(keyRow('k2'), Buffer.from('m'));
      const alias = (name: string, keyId: string) => ({ accountId: A, region: R, name, keyId, createdAt: 1, updatedAt: 1 });
      assert.equal(await meta.kms.createAlias(alias('alias/b', 'k1')), true);
      assert.equal(await meta.kms.createAlias(alias('alias/b', 'k2')), false);
      assert.equal(await meta.kms.createAlias(alias('alias/a', 'k2')), true);
      assert.equal(await meta.kms.createAlias({ ...alias('alias/a', 'k1'), region: 'eu-west-1' }), true);
      assert.deepEqual((await meta.kms.listAliases(A, R, undefined, '', 10)).map((a) => [a.name, a.keyId]), [['alias/a', 'k2'], ['alias/b', 'k1']]);
      assert.deepEqual((await meta.kms.listAliases(A, R, 'k1', '', 10)).map((a) => a.name), ['alias/b']);
      assert.equal(await meta.kms.updateAlias(A, R, 'alias/b', 'k2', 9), true);
      assert.deepEqual(await meta.kms.getAlias(A, R, 'alias/b'), { accountId: A, region: R, name: 'alias/b', keyId: 'k2', createdAt: 1, updatedAt: 9 });
      await meta.kms.deleteKey('k2');
      assert.equal(await meta.kms.getKey('k2'), undefined);
      assert.equal(await meta.kms.latestVersion('k2'), undefined);
      assert.deepEqual(await meta.kms.listAliases(A, R, undefined, '', 10), []);
      assert.equal(await meta.kms.deleteAlias(A, R, 'alias/b'), false);
    });

    it('blob data keys: one wrapping per key, the first kept, all forgotten together; rolled back with their transaction', async () => {
      await meta.kms.addBlobDataKey('sha256:aa', 'berth', Buffer.from('w1'));
      await meta.kms.addBlobDataKey('sha256:aa', 'berth', Buffer.from('w2'));
      await meta.kms.addBlobDataKey('sha256:aa', 'k1', Buffer.from('w3'));
      assert.deepEqual(await meta.kms.blobDataKeys('sha256:aa'), new Map([['berth', Buffer.from('w1')], ['k1', Buffer.from('w3')]]));
      await assert.rejects(
        meta.transaction(async (tx) => {
          await tx.kms.addBlobDataKey('sha256:bb', 'berth', Buffer.from('w'));
          throw new Error('rolled back');
        }),
      );
      assert.equal((await meta.kms.blobDataKeys('sha256:bb')).size, 0);
      await meta.kms.deleteBlobDataKeys('sha256:aa');
      assert.equal((await meta.kms.blobDataKeys('sha256:aa')).size, 0);
    });

    it('garbage collection forgets the data keys of the blobs it deletes, only theirs', async () => {
      const repo = (await meta.createRepository(A, 'app'))!;
      await meta.commitBlob(repo.id, 'sha256:cc', 4);
      await meta.unlinkBlob(repo.id, 'sha256:cc');
      await meta.kms.addBlobDataKey('sha256:cc', 'berth', Buffer.from('w'));
      await meta.kms.addBlobDataKey('sha256:dd', 'berth', Buffer.from('w'));
      assert.equal(await meta.gc.deleteUnreferencedBlob('sha256:cc', Date.now() + 1000), true);
      assert.equal((await meta.kms.blobDataKeys('sha256:cc')).size, 0);
      assert.equal((await meta.kms.blobDataKeys('sha256:dd')).size, 1);
    });
  });
}
