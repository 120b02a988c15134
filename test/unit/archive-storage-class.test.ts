// The archive storage class over a real SQLite store and the registry domain: archive, restore,
// what an archived image refuses, and lifecycle transitions and expiry from the archive.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ecrEnvelopes } from '../../src/domain/eventbridge/ecr-events.js';
import { LifecyclePolicies } from '../../src/domain/lifecycle/policies.js';
import { runLifecyclePolicy } from '../../src/domain/lifecycle/runner.js';
import { isRegistryError } from '../../src/domain/registry/errors.js';
import { MediaType } from '../../src/domain/registry/media-types.js';
import { RESTORE_JOB, restoreJobHandler } from '../../src/domain/registry/restore-job.js';
import { DAY, pushImage, pushIndex, rule, setPolicy, silentLog, withFixture, type Fixture } from './lifecycle-fixture.js';

const transition = (rulePriority: number, selection: Record<string, unknown>) => ({
  rulePriority,
  selection,
  action: { type: 'transition', targetStorageClass: 'archive' },
});

async function status(f: Fixture, digest: string) {
  const m = await f.meta.getManifest(f.repo.id, digest);
  return m?.imageStatus;
}

/** Runs the queued restore jobs as a worker would (claim, the real handler, complete); how many ran. */
async function runRestoreJobs(f: Fixture): Promise<number> {
  const handler = restoreJobHandler(f.registry.images);
  let ran = 0;
  for (let job = await f.meta.jobs.claim('test', [RESTORE_JOB], 30_000); job; job = await f.meta.jobs.claim('test', [RESTORE_JOB], 30_000)) {
    await handler(job);
    assert.ok(await f.meta.jobs.complete(job.id, 'test'));
    ran++;
  }
  return ran;
}

/** UpdateImageStorageClass to STANDARD, then its restore job. */
async function restore(f: Fixture, id: { imageTag?: string; imageDigest?: string }): Promise<void> {
  const started = await f.registry.images.updateStorageClass(f.repo, id, 'STANDARD');
  assert.ok('manifest' in started && started.imageStatus === 'ACTIVATING');
  assert.equal(await runRestoreJobs(f), 1);
}

async function storageClassEvents(f: Fixture) {
  return (await f.meta.events.list({ type: 'image.storage-class-changed' })).map((e) => [e.digest, e.detail.targetStorageClass, e.detail.cause]);
}

describe('archive and restore (UpdateImageStorageClass)', () => {
  it('an archived image is listed and described but not pulled, until it is restored', () =>
    withFixture(async (f) => {
      const digest = await pushImage(f, 'one', ['v1'], 1);
      const archived = await f.registry.images.updateStorageClass(f.repo, { imageTag: 'v1' }, 'ARCHIVE');
      assert.ok('manifest' in archived);
      assert.equal(archived.imageStatus, 'ARCHIVED');
      assert.equal(await status(f, digest), 'ARCHIVED');

      await assert.rejects(f.registry.images.get(f.repo, digest), (e) => isRegistryError(e, 'ImageArchived'));
      await assert.rejects(f.registry.images.get(f.repo, 'v1'), (e) => isRegistryError(e, 'ImageArchived'));
      await assert.rejects(f.registry.images.find(f.repo, 'v1'), (e) => isRegistryError(e, 'ImageArchived'));
      const got = await f.registry.images.batchGet(f.repo, [{ imageTag: 'v1' }]);
      assert.deepEqual(got.images, []);
      assert.equal(got.failures[0]?.failureCode, 'ImageNotFound');
      assert.match(got.failures[0]!.failureReason, /archived/);

      assert.deepEqual((await f.registry.images.list(f.repo, 'ANY', 'ACTIVE')).map((m) => m.digest), []);
      assert.deepEqual((await f.registry.images.list(f.repo, 'ANY', 'ARCHIVED')).map((m) => [m.digest, m.tags]), [[digest, ['v1']]]);
      assert.deepEqual((await f.registry.images.list(f.repo, 'TAGGED', 'ANY')).map((m) => m.digest), [digest]);

      // Archiving again is not a storage class update ECR makes.
      await assert.rejects(f.registry.images.updateStorageClass(f.repo, { imageDigest: digest }, 'ARCHIVE'), (e) => isRegistryError(e, 'StorageClassUpdateNotSupported'));
      await restore(f, { imageDigest: digest });
      await assert.rejects(f.registry.images.updateStorageClass(f.repo, { imageDigest: digest }, 'STANDARD'), (e) => isRegistryError(e, 'StorageClassUpdateNotSupported'));
      assert.equal((await f.registry.images.get(f.repo, 'v1')).digest, digest);
      const row = await f.meta.getManifest(f.repo.id, digest);
      assert.ok(row?.lastArchivedAt && row.lastActivatedAt && row.lastActivatedAt >= row.lastArchivedAt);
      assert.deepEqual(await storageClassEvents(f), [
        [digest, 'ARCHIVE', 'api'],
        [digest, 'STANDARD', 'api'],
      ]);

      const missing = await f.registry.images.updateStorageClass(f.repo, { imageTag: 'nope' }, 'ARCHIVE');
      assert.ok('failure' in missing && missing.failure.failureCode === 'ImageNotFound');
    }));

  it('a restore is ACTIVATING (listed as such, not pullable, not archived again) until its job completes it', () =>
    withFixture(async (f) => {
      const digest = await pushImage(f, 'one', ['v1'], 1);
      await f.registry.images.updateStorageClass(f.repo, { imageTag: 'v1' }, 'ARCHIVE');
      const started = await f.registry.images.updateStorageClass(f.repo, { imageTag: 'v1' }, 'STANDARD');
      assert.ok('manifest' in started);
      assert.equal(started.imageStatus, 'ACTIVATING');
      assert.equal(await status(f, digest), 'ACTIVATING');
      assert.deepEqual((await f.registry.images.list(f.repo, 'ANY', 'ACTIVATING')).map((m) => m.digest), [digest]);
      assert.deepEqual((await f.registry.images.list(f.repo, 'ANY', 'ACTIVE')).map((m) => m.digest), []);

      await assert.rejects(f.registry.images.get(f.repo, 'v1'), (e) => isRegistryError(e, 'ImageArchived') && /being restored/.test(e.message));
      await assert.rejects(f.registry.images.find(f.repo, 'v1'), (e) => isRegistryError(e, 'ImageArchived'));
      const got = await f.registry.images.batchGet(f.repo, [{ imageTag: 'v1' }]);
      assert.deepEqual(got.images, []);
      assert.equal(got.failures[0]?.failureCode, 'ImageNotFound');
      assert.match(got.failures[0]!.failureReason, /being restored/);
      for (const target of ['ARCHIVE', 'STANDARD'] as const) {
        await assert.rejects(f.registry.images.updateStorageClass(f.repo, { imageTag: 'v1' }, target), (e) => isRegistryError(e, 'StorageClassUpdateNotSupported') && /being restored/.test(e.message));
      }
      // Only the archive is an event so far: the restore is one when it completes.
      assert.deepEqual(await storageClassEvents(f), [[digest, 'ARCHIVE', 'api']]);
      // Lifecycle rules leave an image being restored alone, even one archived long enough to expire.
      await f.db.run('UPDATE manifests SET last_archived_at = ? WHERE repo_id = ? AND digest = ?', [Date.now() - 400 * DAY, f.repo.id, digest]);
      await setPolicy(f, [rule(1, { tagStatus: 'any', storageClass: 'archive', countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 90 })]);
      const run = await runLifecyclePolicy(f.registry, f.repo, silentLog);
      assert.deepEqual([run?.expired, run?.transitioned], [[], []]);
      assert.equal(await status(f, digest), 'ACTIVATING');
      assert.equal((await f.meta.getManifest(f.repo.id, digest))?.lastActivatedAt, null);

      const [job] = await f.meta.jobs.list({ kind: RESTORE_JOB });
      assert.deepEqual([job?.status, job?.payload], ['queued', { repoId: f.repo.id, digest, children: [] }]);
      assert.equal(await runRestoreJobs(f), 1);
      assert.equal(await status(f, digest), 'ACTIVE');
      assert.equal((await f.registry.images.get(f.repo, 'v1')).digest, digest);
      assert.deepEqual(await storageClassEvents(f), [
        [digest, 'ARCHIVE', 'api'],
        [digest, 'STANDARD', 'api'],
      ]);
      const [restored] = (await f.meta.events.list({ type: 'image.storage-class-changed' })).slice(-1);
      assert.equal(restored?.detail.activatedAt, (await f.meta.getManifest(f.repo.id, digest))?.lastActivatedAt);

      // The job running again (a worker that died before recording it) changes nothing.
      await restoreJobHandler(f.registry.images)(job!);
      assert.equal((await storageClassEvents(f)).length, 2);
    }));

  it('an image deleted or pushed again while it is being restored: the restore job has nothing left to do', () =>
    withFixture(async (f) => {
      const gone = await pushImage(f, 'gone', ['v1'], 1);
      const again = await pushImage(f, 'again', ['v2'], 1);
      for (const digest of [gone, again]) {
        await f.registry.images.updateStorageClass(f.repo, { imageDigest: digest }, 'ARCHIVE');
        await f.registry.images.updateStorageClass(f.repo, { imageDigest: digest }, 'STANDARD');
      }
      await f.registry.images.batchDelete(f.repo, [{ imageDigest: gone }]);
      await f.registry.images.put(f.repo, 'v2', (await f.meta.getManifest(f.repo.id, again))!.body, MediaType.ociManifest);
      assert.equal(await status(f, again), 'ACTIVE');
      assert.deepEqual((await storageClassEvents(f)).at(-1), [again, 'STANDARD', 'push']);
      const events = (await storageClassEvents(f)).length;
      assert.equal(await runRestoreJobs(f), 2);
      assert.equal((await storageClassEvents(f)).length, events);
      assert.equal(await status(f, gone), undefined);
    }));

  it('pushing an archived image again restores it at once', () =>
    withFixture(async (f) => {
      const digest = await pushImage(f, 'one', ['v1'], 1);
      await f.registry.images.updateStorageClass(f.repo, { imageDigest: digest }, 'ARCHIVE');
      const body = (await f.meta.getManifest(f.repo.id, digest))!.body;
      await f.registry.images.put(f.repo, 'v1', body, MediaType.ociManifest);
      assert.equal(await status(f, digest), 'ACTIVE');
      assert.deepEqual((await storageClassEvents(f)).at(-1), [digest, 'STANDARD', 'push']);

      // ECR's PutImage of an archived image is a re-push too, not ImageAlreadyExists.
      await f.registry.images.updateStorageClass(f.repo, { imageDigest: digest }, 'ARCHIVE');
      await f.registry.images.putImage({ registryId: f.repo.registryId, name: f.repo.name }, body, { tag: 'v1' });
      assert.equal(await status(f, digest), 'ACTIVE');
    }));

  it('an image an active index lists stays; archiving the index frees it, restoring the index brings its images back', () =>
    withFixture(async (f) => {
      const child = await pushImage(f, 'child', [], 1);
      const index = await pushIndex(f, [child], ['multi'], 1);
      await assert.rejects(f.registry.images.updateStorageClass(f.repo, { imageDigest: child }, 'ARCHIVE'), (e) => isRegistryError(e, 'StorageClassUpdateNotSupported'));
      await f.registry.images.updateStorageClass(f.repo, { imageTag: 'multi' }, 'ARCHIVE');
      await f.registry.images.updateStorageClass(f.repo, { imageDigest: child }, 'ARCHIVE');
      assert.deepEqual([await status(f, index), await status(f, child)], ['ARCHIVED', 'ARCHIVED']);
      await f.registry.images.updateStorageClass(f.repo, { imageTag: 'multi' }, 'STANDARD');
      assert.deepEqual([await status(f, index), await status(f, child)], ['ACTIVATING', 'ACTIVATING']);
      assert.equal(await runRestoreJobs(f), 1);
      assert.deepEqual([await status(f, index), await status(f, child)], ['ACTIVE', 'ACTIVE']);

      // The same when the index comes back by being pushed again.
      await f.registry.images.updateStorageClass(f.repo, { imageTag: 'multi' }, 'ARCHIVE');
      await f.registry.images.updateStorageClass(f.repo, { imageDigest: child }, 'ARCHIVE');
      const indexBody = (await f.meta.getManifest(f.repo.id, index))!.body;
      await f.registry.images.put(f.repo, 'multi', indexBody, MediaType.ociIndex);
      assert.deepEqual([await status(f, index), await status(f, child)], ['ACTIVE', 'ACTIVE']);
    }));
});

describe('lifecycle transitions over a real store', () => {
  it('a transition rule archives what it selects; later an expire rule deletes what has been archived long enough', () =>
    withFixture(async (f) => {
      const old = await pushImage(f, 'old', ['v1'], 40);
      const recent = await pushImage(f, 'recent', ['v2'], 5);
      await setPolicy(f, [
        transition(1, { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 }),
        rule(2, { tagStatus: 'any', storageClass: 'archive', countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 90 }),
      ]);
      const first = await runLifecyclePolicy(f.registry, f.repo, silentLog);
      assert.deepEqual(first?.transitioned.map((t) => [t.digest, t.rulePriority]), [[old, 1]]);
      assert.deepEqual(first?.expired, []);
      assert.deepEqual([await status(f, old), await status(f, recent)], ['ARCHIVED', 'ACTIVE']);
      assert.deepEqual((await storageClassEvents(f)).at(-1), [old, 'ARCHIVE', 'lifecycle']);

      // A second run changes nothing: archived images are not archived again, nor expired before 90 days.
      const second = await runLifecyclePolicy(f.registry, f.repo, silentLog);
      assert.deepEqual([second?.transitioned, second?.expired], [[], []]);

      await f.db.run('UPDATE manifests SET last_archived_at = ? WHERE repo_id = ? AND digest = ?', [Date.now() - 91 * DAY, f.repo.id, old]);
      const third = await runLifecyclePolicy(f.registry, f.repo, silentLog);
      assert.deepEqual(third?.expired.map((e) => [e.digest, e.rulePriority]), [[old, 2]]);
      assert.equal(await f.meta.getManifest(f.repo.id, old), undefined);
      assert.equal(await status(f, recent), 'ACTIVE');
    }));

  it('sinceImagePulled archives images not pulled for N days, and referrers follow their subject into the archive', () =>
    withFixture(async (f) => {
      const subject = await pushImage(f, 'subject', ['app'], 100);
      const subjectRow = (await f.meta.getManifest(f.repo.id, subject))!;
      const signature = await pushImage(f, 'signature', [], 1, {
        artifactType: 'application/vnd.example.signature',
        subject: { mediaType: subjectRow.mediaType, digest: subject, size: subjectRow.size },
      });
      const used = await pushImage(f, 'used', ['hot'], 100);
      await f.meta.recordPulls([{ repoId: f.repo.id, digest: used, at: Date.now() - 2 * DAY }]);
      await setPolicy(f, [transition(1, { tagStatus: 'tagged', tagPrefixList: ['app'], countType: 'sinceImagePulled', countUnit: 'days', countNumber: 30 }), transition(2, { tagStatus: 'tagged', tagPrefixList: ['hot'], countType: 'sinceImagePulled', countUnit: 'days', countNumber: 30 })]);
      const result = await runLifecyclePolicy(f.registry, f.repo, silentLog);
      assert.deepEqual(result?.transitioned.map((t) => [t.digest, t.rulePriority]), [[subject, 1], [signature, null]]);
      assert.deepEqual([await status(f, subject), await status(f, signature), await status(f, used)], ['ARCHIVED', 'ARCHIVED', 'ACTIVE']);
      assert.deepEqual((await storageClassEvents(f)).at(-1), [signature, 'ARCHIVE', 'subject-archived']);
    }));

  it('the preview of a transition rule lists the transition without changing anything', () =>
    withFixture(async (f) => {
      const old = await pushImage(f, 'old', ['v1'], 40);
      const text = await setPolicy(f, [transition(1, { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 })]);
      const policies = new LifecyclePolicies(f.registry, f.meta.lifecycle);
      await policies.startPreview(f.repo, text);
      const preview = await policies.preview(f.repo);
      assert.equal(preview.status, 'COMPLETE');
      assert.deepEqual(preview.results.map((r) => [r.imageDigest, r.action, r.storageClass]), [[old, { type: 'TRANSITION', targetStorageClass: 'ARCHIVE' }, 'STANDARD']]);
      assert.equal(await status(f, old), 'ACTIVE');
    }));
});

describe('archive and restore as EventBridge events', () => {
  const stored = { seq: 1, eventId: '0f0e0d0c-0b0a-4909-8807-060504030201', registryId: '123456789012', repositoryName: 'r', digest: 'sha256:' + 'a'.repeat(64), tag: null, createdAt: Date.UTC(2026, 0, 2, 3, 4, 5) };

  it('an archive is an ECR Image Action UPDATE_STORAGE_CLASS; a restore adds last-activated-at; a referrer following its subject is an ECR Referrer Action', () => {
    const media = { mediaType: 'application/vnd.oci.image.manifest.v1+json', configMediaType: 'application/vnd.oci.image.config.v1+json' };
    const [archived] = ecrEnvelopes({ ...stored, type: 'image.storage-class-changed', detail: { targetStorageClass: 'ARCHIVE', ...media, cause: 'api' } }, 'us-east-1');
    assert.equal(archived?.['detail-type'], 'ECR Image Action');
    assert.deepEqual(archived?.detail, {
      'action-type': 'UPDATE_STORAGE_CLASS',
      'target-storage-class': 'ARCHIVE',
      result: 'SUCCESS',
      'repository-name': 'r',
      'image-digest': stored.digest,
      'manifest-media-type': media.mediaType,
      'artifact-media-type': media.configMediaType,
    });
    const at = Date.UTC(2026, 0, 3);
    const [restored] = ecrEnvelopes({ ...stored, type: 'image.storage-class-changed', detail: { targetStorageClass: 'STANDARD', ...media, activatedAt: at, cause: 'api' } }, 'us-east-1');
    assert.equal(restored?.detail['target-storage-class'], 'STANDARD');
    assert.equal(restored?.detail['last-activated-at'], new Date(at).toISOString());
    const [referrer] = ecrEnvelopes({ ...stored, type: 'image.storage-class-changed', detail: { targetStorageClass: 'ARCHIVE', ...media, cause: 'subject-archived' } }, 'us-east-1');
    assert.equal(referrer?.['detail-type'], 'ECR Referrer Action');
  });
});
