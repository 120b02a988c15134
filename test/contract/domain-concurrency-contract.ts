// Concurrent changes through the registry domain lose nothing: run on SQLite and on PostgreSQL,
// where the two Registry instances stand for two berth nodes on one database.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Registry } from '../../src/domain/registry/registry.js';
import type { Repository } from '../../src/domain/registry/model.js';
import type { StoredEvent } from '../../src/store/meta/event-store.js';

export interface DomainFixture {
  /** Two registries over the same stores (two connections where the database has them). */
  nodes: [Registry, Registry];
  /** The event outbox, oldest first. */
  events(): Promise<StoredEvent[]>;
  close(): Promise<void>;
}

const ACCOUNT = '123412341234';
const ROUNDS = 50;
const dg = (b: Buffer | string) => 'sha256:' + createHash('sha256').update(b).digest('hex');

async function* once(data: Buffer): AsyncIterable<Buffer> {
  yield data;
}

async function image(registry: Registry, repo: Repository, marker: string): Promise<Buffer> {
  const config = Buffer.from(JSON.stringify({ marker }));
  await registry.uploads.whole(repo, dg(config), once(config), config.length);
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: dg(config), size: config.length },
      layers: [],
    }),
  );
}

export function domainConcurrencyContract(name: string, open: () => Promise<DomainFixture>): void {
  describe(`registry domain under concurrency (${name})`, () => {
    it(`concurrent changes of different settings of one repository lose none (${ROUNDS} rounds)`, async () => {
      const f = await open();
      try {
        const [a, b] = f.nodes;
        const ref = { registryId: ACCOUNT, name: 'settings/race' };
        const repo = await a.repositories.create(ref, {});
        for (let i = 0; i < ROUNDS; i++) {
          const mutability = i % 2 === 0 ? 'IMMUTABLE' : 'MUTABLE';
          const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: `round${i}`, Effect: 'Allow', Principal: '*', Action: 'ecr:ListImages' }] });
          await Promise.all([
            a.repositories.changeSettings(repo, { imageTagMutability: mutability }),
            b.repositories.changeSettings(repo, { imageScanningConfiguration: { scanOnPush: i % 2 === 1 } }),
            a.repositories.setPolicy(repo, policy),
            b.repositories.tag(repo, [{ Key: `k${i}`, Value: String(i) }]),
            a.repositories.changeSettings(repo, { lifecyclePolicyLastEvaluatedAt: i }),
          ]);
          const s = (await b.repositories.get(ref)).settings;
          assert.equal(s.imageTagMutability, mutability, `round ${i}: tag mutability`);
          assert.equal(s.imageScanningConfiguration.scanOnPush, i % 2 === 1, `round ${i}: scanning configuration`);
          assert.equal(s.policyText, policy, `round ${i}: repository policy`);
          assert.equal(s.tags.length, i + 1, `round ${i}: resource tags`);
          assert.equal(s.lifecyclePolicyLastEvaluatedAt, i, `round ${i}: lifecycle evaluation time`);
        }
      } finally {
        await f.close();
      }
    });

    it(`a tag pushed while the image's last tag is deleted is never lost, on every door (${ROUNDS} rounds)`, async () => {
      const f = await open();
      try {
        const [a, b] = f.nodes;
        const ref = { registryId: ACCOUNT, name: 'delete/race' };
        const repo = await a.repositories.create(ref, {});
        for (let i = 0; i < ROUNDS; i++) {
          const bytes = await image(a, repo, `round ${i}`);
          await a.images.put(repo, 'old', bytes, undefined);
          const deletion =
            i % 3 === 0
              ? b.images.batchDelete(repo, [{ imageTag: 'old' }])
              : i % 3 === 1
                ? b.images.untag(repo, 'old')
                : b.images.expire(repo, dg(bytes), ['old'], { rulePriority: 1, reason: 'rule' });
          await Promise.all([deletion, a.images.put(repo, 'new', bytes, undefined)]);
          const found = await a.images.get(repo, 'new');
          assert.equal(found.digest, dg(bytes), `round ${i}: the new tag still names the image`);
          const tags = await a.images.tagsOf(repo, dg(bytes));
          // Lifecycle leaves alone an image whose tags changed since it was judged; the others delete 'old'.
          if (i % 3 === 2) assert.ok(tags.includes('new'), `round ${i}: ${tags.join(',')}`);
          else assert.deepEqual(tags, ['new'], `round ${i}`);
          await a.images.deleteByDigest(repo, dg(bytes));
        }
      } finally {
        await f.close();
      }
    });

    it('deleting the last tag deletes the image; every change is in the event outbox', async () => {
      const f = await open();
      try {
        const [a] = f.nodes;
        const ref = { registryId: ACCOUNT, name: 'delete/last-tag' };
        const repo = await a.repositories.create(ref, {});
        const bytes = await image(a, repo, 'last tag');
        await a.images.put(repo, 'one', bytes, undefined);
        await a.images.put(repo, 'two', bytes, undefined);
        const first = await a.images.batchDelete(repo, [{ imageTag: 'one' }]);
        assert.deepEqual(first.deleted, [{ imageDigest: dg(bytes), imageTag: 'one' }]);
        assert.ok(await a.images.byDigest(repo, dg(bytes)), 'another tag keeps the image');
        await a.images.batchDelete(repo, [{ imageTag: 'two' }]);
        assert.equal(await a.images.byDigest(repo, dg(bytes)), undefined, 'the last tag took the image');
        await a.repositories.delete(ref, false);
        const events = (await f.events()).filter((e) => e.repositoryName === ref.name);
        assert.deepEqual(
          events.map((e) => [e.type, e.tag ?? null]),
          [
            ['repository.created', null],
            ['image.pushed', 'one'],
            ['image.pushed', 'two'],
            ['image.deleted', 'one'],
            ['image.deleted', 'two'],
            ['repository.deleted', null],
          ],
        );
        assert.deepEqual(events.map((e) => e.detail.imageDeleted ?? null), [null, null, null, false, true, null]);
      } finally {
        await f.close();
      }
    });
  });
}
