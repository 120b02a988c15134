// Concurrent changes through the registry domain lose nothing: run on SQLite and on PostgreSQL,
// where the two Registry instances stand for two berth nodes on one database.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { Registry } from '../../src/domain/registry/registry.js';
import type { Repository } from '../../src/domain/registry/model.js';
import type { StoredEvent } from '../../src/store/meta/event-store.js';

export interface DomainFixture {
  /** Two registries over the same stores (two connections where the database has them). */
  nodes: [Registry, Registry];
  /** Whether the nodes save uploads' running hashes with the upload (nodes sharing a database). */
  savesUploadHashes: boolean;
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

async function readAll(reader: { read(into: Buffer): Promise<number>; close(): Promise<void> }): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (;;) {
    const buf = Buffer.alloc(1024 * 1024);
    const n = await reader.read(buf);
    if (n === 0) break;
    parts.push(buf.subarray(0, n));
  }
  await reader.close();
  return Buffer.concat(parts);
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

    it('the chunks of one upload may alternate between nodes; the digest is verified across them', async () => {
      const f = await open();
      try {
        const [a, b] = f.nodes;
        const repo = await a.repositories.create({ registryId: ACCOUNT, name: 'uploads/alternate' }, {});
        const parts = Array.from({ length: 5 }, (_, i) => Buffer.alloc(700_000 + i * 1013, i + 1));
        const whole = Buffer.concat(parts);
        const upload = await a.uploads.start(repo);
        let hashed = Buffer.alloc(0);
        for (const [i, part] of parts.entries()) {
          const node = i % 2 === 0 ? a : b;
          const after = await node.uploads.append(repo, upload.id, once(part), { range: { start: hashed.length, end: hashed.length + part.length - 1 } });
          hashed = Buffer.concat([hashed, part]);
          assert.equal(after.size, hashed.length);
          const stored = await b.uploads.get(repo, upload.id);
          assert.equal(stored.hashState !== undefined, f.savesUploadHashes, `chunk ${i}: running hash saved with the upload`);
        }
        await assert.rejects(b.uploads.complete(repo, upload.id, dg('not the content')), { kind: 'DigestMismatch' });
        const again = await b.uploads.start(repo);
        for (const [i, part] of parts.entries()) await (i % 2 === 0 ? b : a).uploads.append(repo, again.id, once(part));
        assert.deepEqual(await a.uploads.complete(repo, again.id, dg(whole)), { digest: dg(whole), size: whole.length });
        assert.equal(await b.blobs.stat(repo, dg(whole)), whole.length);
      } finally {
        await f.close();
      }
    });

    it('two nodes appending to one upload at once: one appends, the other is refused, nothing mixes', async () => {
      const f = await open();
      try {
        const [a, b] = f.nodes;
        const repo = await a.repositories.create({ registryId: ACCOUNT, name: 'uploads/race' }, {});
        const first = Buffer.alloc(3 * 1024 * 1024, 0x61);
        const intruder = Buffer.alloc(1024 * 1024, 0x62);
        const upload = await a.uploads.start(repo);
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        let started!: () => void;
        const streaming = new Promise<void>((resolve) => (started = resolve));
        const slow = (async function* () {
          yield first.subarray(0, 1024 * 1024);
          started();
          await gate;
          yield first.subarray(1024 * 1024);
        })();
        const appending = a.uploads.append(repo, upload.id, slow);
        await streaming;
        await assert.rejects(b.uploads.append(repo, upload.id, once(intruder)), { kind: 'UploadOutOfOrder' });
        await assert.rejects(b.uploads.complete(repo, upload.id, dg(intruder), once(intruder)), { kind: 'UploadOutOfOrder' });
        release();
        assert.equal((await appending).size, first.length);
        assert.deepEqual(await b.uploads.complete(repo, upload.id, dg(first)), { digest: dg(first), size: first.length });
        const { body } = await a.blobs.open(repo, dg(first));
        const read = Buffer.isBuffer(body) ? body : await readAll(body);
        assert.ok(read.equals(first));
      } finally {
        await f.close();
      }
    });

    it('the same bytes pushed to two repositories through two nodes at once stay readable from both (20 rounds)', async () => {
      const f = await open();
      try {
        const [a, b] = f.nodes;
        const one = await a.repositories.create({ registryId: ACCOUNT, name: 'same/one' }, {});
        const two = await b.repositories.create({ registryId: ACCOUNT, name: 'same/two' }, {});
        for (let i = 0; i < 20; i++) {
          const data = Buffer.concat([Buffer.from(`round ${i} `), randomBytes(200_000)]);
          await Promise.all([a.uploads.whole(one, dg(data), once(data)), b.uploads.whole(two, dg(data), once(data))]);
          for (const [node, repo] of [[a, one], [b, two], [b, one], [a, two]] as const) {
            const { body } = await node.blobs.open(repo, dg(data));
            const read = Buffer.isBuffer(body) ? body : await readAll(body);
            assert.ok(read.equals(data), `round ${i}: ${repo.name} reads the bytes back`);
          }
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
