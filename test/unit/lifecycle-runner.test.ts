import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planLifecycle } from '../../src/domain/lifecycle/plan.js';
import { parseLifecyclePolicy } from '../../src/domain/lifecycle/policy.js';
import { runLifecyclePolicy } from '../../src/domain/lifecycle/runner.js';
import { MediaType } from '../../src/domain/registry/media-types.js';
import { openFixture, withFixture, pushImage, pushIndex, pushManifest, putBlob, rule, setPolicy, silentLog, type Fixture } from './lifecycle-fixture.js';

interface ImageSpec {
  name: string;
  tags: string[];
  ageDays: number;
}

interface Case {
  title: string;
  images: ImageSpec[];
  rules: unknown[];
  expired: string[];
}

const untaggedOlderThan14 = rule(1, { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 });

const CASES: Case[] = [
  {
    title: 'untagged older than 14 days; tagged and recent images stay',
    images: [
      { name: 'old-untagged', tags: [], ageDays: 20 },
      { name: 'new-untagged', tags: [], ageDays: 5 },
      { name: 'old-tagged', tags: ['v1'], ageDays: 30 },
    ],
    rules: [untaggedOlderThan14],
    expired: ['old-untagged'],
  },
  {
    title: 'docs example: prod keep 1 before beta keep 1 expires only A',
    images: [
      { name: 'A', tags: ['beta-1', 'prod-1'], ageDays: 10 },
      { name: 'B', tags: ['beta-2', 'prod-2'], ageDays: 9 },
      { name: 'C', tags: ['beta-3'], ageDays: 8 },
    ],
    rules: [
      rule(1, { tagStatus: 'tagged', tagPrefixList: ['prod'], countType: 'imageCountMoreThan', countNumber: 1 }),
      rule(2, { tagStatus: 'tagged', tagPrefixList: ['beta'], countType: 'imageCountMoreThan', countNumber: 1 }),
    ],
    expired: ['A'],
  },
  {
    title: 'docs example swapped: beta keep 1 before prod keep 1 expires A and B',
    images: [
      { name: 'A', tags: ['beta-1', 'prod-1'], ageDays: 10 },
      { name: 'B', tags: ['beta-2', 'prod-2'], ageDays: 9 },
      { name: 'C', tags: ['beta-3'], ageDays: 8 },
    ],
    rules: [
      rule(1, { tagStatus: 'tagged', tagPrefixList: ['beta'], countType: 'imageCountMoreThan', countNumber: 1 }),
      rule(2, { tagStatus: 'tagged', tagPrefixList: ['prod'], countType: 'imageCountMoreThan', countNumber: 1 }),
    ],
    expired: ['A', 'B'],
  },
  {
    title: 'any: keep the 2 newest',
    images: [
      { name: 'a', tags: ['a'], ageDays: 4 },
      { name: 'b', tags: [], ageDays: 3 },
      { name: 'c', tags: ['c'], ageDays: 2 },
      { name: 'd', tags: [], ageDays: 1 },
    ],
    rules: [rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 2 })],
    expired: ['a', 'b'],
  },
  {
    title: 'a policy that selects nothing expires nothing',
    images: [{ name: 'x', tags: ['x'], ageDays: 100 }],
    rules: [untaggedOlderThan14],
    expired: [],
  },
];

describe('lifecycle runner over a real store', () => {
  for (const c of CASES) {
    it(c.title, () =>
      withFixture(async (f) => {
        const byName = new Map<string, string>();
        for (const image of c.images) byName.set(image.name, await pushImage(f, image.name, image.tags, image.ageDays));
        const nameOf = new Map([...byName].map(([name, digest]) => [digest, name]));
        await setPolicy(f, c.rules);

        const preview = await planLifecycle(f.registry, f.repo, parseLifecyclePolicy(f.repo.settings.lifecyclePolicyText as string), new Date());
        const result = (await runLifecyclePolicy(f.registry, f.repo, silentLog))!;
        const expired = result.expired.map((e) => nameOf.get(e.digest)).sort();
        assert.deepEqual(expired, [...c.expired].sort());
        assert.deepEqual(result.expired.map((e) => e.digest), preview.map((d) => d.digest), 'preview equals run');

        const remaining = (await f.meta.listManifests(f.repo.id)).map((m) => nameOf.get(m.digest)).sort();
        assert.deepEqual(remaining, c.images.map((i) => i.name).filter((n) => !c.expired.includes(n)).sort());
        const events = await f.meta.lifecycle.listEvents(f.repo.registryId, f.repo.name);
        assert.deepEqual(events.map((e) => nameOf.get(e.digest)).sort(), [...c.expired].sort());
        for (const e of events) assert.equal(e.reason, 'rule');
        const repo = (await f.meta.getRepositoryById(f.repo.id))!;
        assert.equal(typeof repo.settings.lifecyclePolicyLastEvaluatedAt, 'number');
        assert.ok(Date.now() - (repo.settings.lifecyclePolicyLastEvaluatedAt as number) < 60_000);
      }),
    );
  }

  it('does not expire images an index in the repository lists; expires them once the index is gone', () =>
    withFixture(async (f) => {
      const child = await pushImage(f, 'child', [], 30);
      const loose = await pushImage(f, 'loose', [], 30);
      const index = await pushIndex(f, [child], ['multi'], 30);
      await setPolicy(f, [untaggedOlderThan14]);
      const preview = await planLifecycle(f.registry, f.repo, parseLifecyclePolicy(f.repo.settings.lifecyclePolicyText as string), new Date());
      assert.deepEqual(preview.map((d) => d.digest), [loose], 'the preview leaves the index child out too');
      const first = (await runLifecyclePolicy(f.registry, f.repo, silentLog))!;
      assert.deepEqual(first.expired.map((e) => e.digest), [loose]);
      assert.deepEqual(first.skipped, []);
      assert.ok(await f.meta.getManifest(f.repo.id, child));

      await f.registry.images.deleteByDigest(f.repo, index);
      const second = (await runLifecyclePolicy(f.registry, f.repo, silentLog))!;
      assert.deepEqual(second.expired.map((e) => e.digest), [child]);
    }),
  );

  it('expires referrers together with their subject', () =>
    withFixture(async (f) => {
      const subject = await pushImage(f, 'signed', [], 30);
      const subjectRow = (await f.meta.getManifest(f.repo.id, subject))!;
      const empty = await putBlob(f, Buffer.from('{}'));
      const sig = await putBlob(f, Buffer.from('signature bytes'));
      const referrer = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MediaType.ociManifest,
          artifactType: 'application/vnd.example.signature',
          config: { mediaType: 'application/vnd.oci.empty.v1+json', ...empty },
          layers: [{ mediaType: 'application/octet-stream', ...sig }],
          subject: { mediaType: MediaType.ociManifest, digest: subject, size: subjectRow.size },
        }),
      );
      const referrerDigest = await pushManifest(f, referrer, MediaType.ociManifest, [], 0);
      await setPolicy(f, [untaggedOlderThan14]);
      const result = (await runLifecyclePolicy(f.registry, f.repo, silentLog))!;
      assert.deepEqual(result.expired.map((e) => [e.digest, e.rulePriority]), [
        [subject, 1],
        [referrerDigest, null],
      ]);
      assert.equal((await f.meta.listManifests(f.repo.id)).length, 0);
      const events = await f.meta.lifecycle.listEvents(f.repo.registryId, f.repo.name);
      assert.deepEqual(events.map((e) => e.reason).sort(), ['rule', 'subject-expired']);
    }),
  );

  it('skips an image that was tagged after the plan was made', () =>
    withFixture(async (f) => {
      const digest = await pushImage(f, 'late', [], 30);
      await setPolicy(f, [untaggedOlderThan14]);
      const images = f.registry.images;
      const original = images.expire.bind(images);
      // Simulate a tag arriving between evaluation and deletion.
      images.expire = async (repo, d, tags, record) => {
        await f.meta.putTag(repo.id, 'rescued', digest);
        return original(repo, d, tags, record);
      };
      const result = (await runLifecyclePolicy(f.registry, f.repo, silentLog))!;
      assert.deepEqual(result.expired, []);
      assert.deepEqual(result.skipped, [digest]);
      assert.ok(await f.meta.getManifest(f.repo.id, digest));
    }),
  );

  it('returns undefined for a repository without a policy', () =>
    withFixture(async (f) => {
      assert.equal(await runLifecyclePolicy(f.registry, f.repo, silentLog), undefined);
    }),
  );
});
