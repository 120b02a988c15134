// Repository creation templates and pull-time update exclusions: the same answers on every database.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MetadataStore } from '../../src/store/meta/metadata-store.js';
import type { StoreHandle } from './metadata-store-contract.js';

const A = '111122223333';
const B = '444455556666';

export function ecrOpsStoreContract(name: string, makeStore: () => Promise<StoreHandle<MetadataStore>>): void {
  describe(`CreationTemplateStore and PullExclusionStore contract: ${name}`, () => {
    let h: StoreHandle<MetadataStore>;
    let meta: MetadataStore;
    beforeEach(async () => {
      h = await makeStore();
      meta = h.store;
    });
    afterEach(async () => h.close());

    it('templates: one per (registry, prefix), listed in byte order of prefix, per registry', async () => {
      const t = meta.creationTemplates;
      assert.equal(await t.create(A, 'prod', { appliedFor: ['CREATE_ON_PUSH'] }, 10), true);
      assert.equal(await t.create(A, 'prod', { appliedFor: ['REPLICATION'] }, 11), false, 'a second template with that prefix');
      assert.equal(await t.create(A, 'ROOT', { appliedFor: ['CREATE_ON_PUSH'] }, 12), true);
      assert.equal(await t.create(A, 'prod/team', {}, 13), true);
      assert.equal(await t.create(B, 'prod', { other: true }, 14), true, 'another registry has its own prefixes');
      assert.deepEqual((await t.list(A)).map((r) => r.prefix), ['ROOT', 'prod', 'prod/team']);
      assert.deepEqual(await t.get(A, 'prod'), { registryId: A, prefix: 'prod', template: { appliedFor: ['CREATE_ON_PUSH'] }, createdAt: 10, updatedAt: 10 });
      assert.deepEqual((await t.get(B, 'prod'))?.template, { other: true });
      assert.equal(await t.get(A, 'missing'), undefined);
    });

    it('templates: update applies a change to the stored template atomically; a throwing change writes nothing', async () => {
      const t = meta.creationTemplates;
      await t.create(A, 'prod', { description: 'a', n: 0 }, 10);
      assert.equal(await t.update(A, 'missing', (c) => c, 20), undefined);
      await Promise.all(
        Array.from({ length: 5 }, (_, i) => t.update(A, 'prod', (c) => ({ ...c, n: (c.n as number) + 1, [`k${i}`]: i }), 20 + i)),
      );
      const row = (await t.get(A, 'prod'))!;
      assert.equal(row.template.n, 5, 'no concurrent update was lost');
      assert.equal(row.createdAt, 10);
      assert.ok(row.updatedAt >= 20);
      await assert.rejects(
        t.update(A, 'prod', () => {
          throw new Error('refused');
        }, 99),
        /refused/,
      );
      assert.equal((await t.get(A, 'prod'))!.template.n, 5);
    });

    it('templates: delete returns what it removed, once', async () => {
      const t = meta.creationTemplates;
      await t.create(A, 'prod', { description: 'x' }, 10);
      assert.deepEqual((await t.delete(A, 'prod'))?.template, { description: 'x' });
      assert.equal(await t.delete(A, 'prod'), undefined);
      assert.deepEqual(await t.list(A), []);
    });

    it('pull exclusions: add once, list in ARN order per registry, query a set, remove once', async () => {
      const x = meta.pullExclusions;
      const alice = `arn:aws:iam::${A}:user/alice`;
      const role = `arn:aws:iam::${A}:role/scanner`;
      assert.equal(await x.add(A, role, 5), true);
      assert.equal(await x.add(A, alice, 6), true);
      assert.equal(await x.add(A, alice, 7), false);
      assert.equal(await x.add(B, alice, 8), true);
      assert.deepEqual(await x.list(A), [
        { principalArn: role, createdAt: 5 },
        { principalArn: alice, createdAt: 6 },
      ]);
      assert.deepEqual([...(await x.excluded(A, [alice, `arn:aws:iam::${A}:user/bob`]))], [alice]);
      assert.deepEqual([...(await x.excluded(A, []))], []);
      assert.equal(await x.remove(A, alice), true);
      assert.equal(await x.remove(A, alice), false);
      assert.deepEqual((await x.list(A)).map((e) => e.principalArn), [role]);
      assert.deepEqual((await x.list(B)).map((e) => e.principalArn), [alice]);
    });

    it('pull exclusions: a rolled-back transaction adds none', async () => {
      await assert.rejects(
        meta.transaction(async (tx) => {
          await tx.pullExclusions.add(A, `arn:aws:iam::${A}:user/alice`, 1);
          throw new Error('rolled back');
        }),
      );
      assert.deepEqual(await meta.pullExclusions.list(A), []);
    });
  });
}
