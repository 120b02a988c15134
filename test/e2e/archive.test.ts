// ECR's archive storage class through the real server: archive an image with
// UpdateImageStorageClass (the AWS SDK: the Debian aws CLI v2 predates the operation), see skopeo's
// pull fail while the aws CLI still describes it, restore it and pull again; then a lifecycle
// policy with a transition rule archives images, as its preview said it would.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BatchCheckLayerAvailabilityCommand, BatchGetImageCommand, DescribeImagesCommand, GetDownloadUrlForLayerCommand, GetLifecyclePolicyPreviewCommand, ListImageReferrersCommand, ListImagesCommand, StartImageScanCommand, StartLifecyclePolicyPreviewCommand, UpdateImageStorageClassCommand, type ECRClient } from '@aws-sdk/client-ecr';
import { AWS, awsCliEnv } from '../helpers/aws-cli.js';
import { REPO_ROOT, startBerth, type Berth } from '../helpers/berth.js';
import { buildImage, type LayoutImage } from '../helpers/images.js';
import { errorCodes, getManifest, putManifest, uploadBlob } from '../helpers/oci.js';
import { run, skopeo, skopeoCreds, tempDir } from '../helpers/tools.js';

const REPO = 'archive/app';

async function expectAwsError(p: Promise<unknown>, name: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    assert.equal(e.name, name, `expected ${name}, got ${e.name}: ${e.message}`);
    assert.equal(e.$metadata?.httpStatusCode, 400);
    if (message) assert.match(e.message ?? '', message);
    return true;
  });
}

describe('the archive storage class', () => {
  let b: Berth;
  let ecr: ECRClient;
  let work: { path: string; remove: () => Promise<void> };
  let env: Record<string, string>;
  const images: LayoutImage[] = [];

  const aws = async (args: string[]) => {
    const res = await run(AWS, ['--endpoint-url', b.url, '--output', 'json', 'ecr', ...args], { env, check: false, timeoutMs: 60_000 });
    if (res.code !== 0) assert.fail(`aws ecr ${args.join(' ')} exited ${res.code}: ${res.stderr}`);
    return JSON.parse(res.stdout || '{}') as Record<string, any>;
  };
  const pull = (tag: string) =>
    skopeo(['copy', '--src-tls-verify=false', ...skopeoCreds('--src-creds', b.password), `docker://${b.host}/${REPO}:${tag}`, `oci:${join(work.path, 'pulled')}:${tag}`], { check: false });
  const push = (img: LayoutImage, tag: string) =>
    skopeo(['copy', '--preserve-digests', '--dest-tls-verify=false', ...skopeoCreds('--dest-creds', b.password), img.ref, `docker://${b.host}/${REPO}:${tag}`]);
  const describe = async (filter?: { imageStatus: 'ACTIVE' | 'ARCHIVED' | 'ACTIVATING' | 'ANY' }) =>
    (await ecr.send(new DescribeImagesCommand({ repositoryName: REPO, ...(filter ? { filter } : {}) }))).imageDetails ?? [];

  before(async () => {
    b = await startBerth({ env: { BERTH_LIFECYCLE_INTERVAL: '0', BERTH_GC_INTERVAL: '0' } });
    ecr = b.ecr!;
    work = await tempDir('archive');
    env = await awsCliEnv(b);
    await b.createRepository(REPO);
    for (const n of [1, 2, 3]) {
      images.push(await buildImage({ layout: join(work.path, `src${n}`), tag: `v${n}`, files: [{ path: '/etc/release', content: `release ${n}\n` }] }));
    }
  });

  after(async () => {
    await b?.destroy();
    await work?.remove();
  });

  it('archive: skopeo cannot pull, the image is still described; restore: it pulls again', async () => {
    const img = images[0]!;
    await push(img, 'v1');
    assert.equal((await pull('v1')).code, 0);

    const archived = await ecr.send(new UpdateImageStorageClassCommand({ repositoryName: REPO, imageId: { imageTag: 'v1' }, targetStorageClass: 'ARCHIVE' }));
    assert.equal(archived.imageStatus, 'ARCHIVED');
    assert.deepEqual(archived.imageId, { imageDigest: img.digest, imageTag: 'v1' });

    const refused = await pull('v1');
    assert.notEqual(refused.code, 0, 'an archived image cannot be pulled');
    assert.match(refused.stderr, /manifest unknown|archived/i, refused.stderr);
    const byDigest = await getManifest(b, REPO, img.digest);
    assert.equal(byDigest.status, 404);
    assert.deepEqual(errorCodes(byDigest), ['MANIFEST_UNKNOWN']);
    assert.match(byDigest.body.toString(), /is archived and cannot be pulled/);

    // Listed and described: by id always, in listings when asked for ARCHIVED (or ANY) images.
    const cli = await aws(['describe-images', '--repository-name', REPO, '--image-ids', 'imageTag=v1']);
    assert.equal(cli.imageDetails[0].imageDigest, img.digest);
    assert.deepEqual(await describe(), [], 'DescribeImages lists ACTIVE images by default');
    const [detail] = await describe({ imageStatus: 'ARCHIVED' });
    assert.equal(detail?.imageStatus, 'ARCHIVED');
    assert.deepEqual(detail?.imageTags, ['v1']);
    assert.ok(detail?.lastArchivedAt && Math.abs(detail.lastArchivedAt.getTime() - Date.now()) < 120_000);
    assert.equal(detail?.lastActivatedAt, undefined);
    assert.deepEqual((await ecr.send(new ListImagesCommand({ repositoryName: REPO }))).imageIds, []);
    assert.deepEqual((await ecr.send(new ListImagesCommand({ repositoryName: REPO, filter: { imageStatus: 'ANY' } }))).imageIds, [{ imageDigest: img.digest, imageTag: 'v1' }]);
    assert.deepEqual(await describe({ imageStatus: 'ACTIVATING' }), []);
    const got = await ecr.send(new BatchGetImageCommand({ repositoryName: REPO, imageIds: [{ imageTag: 'v1' }] }));
    assert.deepEqual(got.images, []);
    assert.equal(got.failures?.[0]?.failureCode, 'ImageNotFound');
    await expectAwsError(ecr.send(new StartImageScanCommand({ repositoryName: REPO, imageId: { imageTag: 'v1' } })), 'ImageArchivedException', /archived/);

    await expectAwsError(
      ecr.send(new UpdateImageStorageClassCommand({ repositoryName: REPO, imageId: { imageDigest: img.digest }, targetStorageClass: 'ARCHIVE' })),
      'ImageStorageClassUpdateNotSupportedException',
      /already in the ARCHIVE storage class/,
    );
    // Its layers are ARCHIVED: still known, not downloadable.
    const layer = img.layerDigests[0]!;
    const checked = await ecr.send(new BatchCheckLayerAvailabilityCommand({ repositoryName: REPO, layerDigests: [layer] }));
    assert.equal(checked.layers?.[0]?.layerAvailability, 'ARCHIVED');
    await expectAwsError(ecr.send(new GetDownloadUrlForLayerCommand({ repositoryName: REPO, layerDigest: layer })), 'LayerInaccessibleException', /only used by archived images/);

    // A restore answers ACTIVATING; its job makes the image ACTIVE as soon as the worker takes it.
    // (That the image is not pullable while ACTIVATING is shown in test/unit/archive-storage-class.test.ts,
    // where the job can be held back.)
    const restored = await ecr.send(new UpdateImageStorageClassCommand({ repositoryName: REPO, imageId: { imageDigest: img.digest }, targetStorageClass: 'STANDARD' }));
    assert.equal(restored.imageStatus, 'ACTIVATING');
    assert.deepEqual(restored.imageId, { imageDigest: img.digest });
    const deadline = Date.now() + 15_000;
    const statusNow = async () => (await ecr.send(new DescribeImagesCommand({ repositoryName: REPO, imageIds: [{ imageDigest: img.digest }] }))).imageDetails?.[0]?.imageStatus;
    let seen = await statusNow();
    while (seen !== 'ACTIVE' && Date.now() < deadline) {
      assert.equal(seen, 'ACTIVATING');
      await new Promise((r) => setTimeout(r, 100));
      seen = await statusNow();
    }
    assert.equal(seen, 'ACTIVE', 'the restore job completed');
    const jobs = await run('node', [join(REPO_ROOT, 'bin', 'berth.js'), 'admin', 'jobs', 'list', '--json', '--kind', 'image.restore', '--data-dir', b.dataDir], { env: { BERTH_LOG_LEVEL: 'warn' } });
    assert.deepEqual((JSON.parse(jobs.stdout) as Array<{ status: string }>).map((j) => j.status), ['succeeded']);
    assert.equal((await pull('v1')).code, 0, 'a restored image pulls again');
    const available = await ecr.send(new BatchCheckLayerAvailabilityCommand({ repositoryName: REPO, layerDigests: [img.layerDigests[0]!] }));
    assert.equal(available.layers?.[0]?.layerAvailability, 'AVAILABLE');
    const [active] = await describe();
    assert.equal(active?.imageStatus, 'ACTIVE');
    assert.ok(active?.lastActivatedAt && active.lastArchivedAt && active.lastActivatedAt >= active.lastArchivedAt);
    await expectAwsError(
      ecr.send(new UpdateImageStorageClassCommand({ repositoryName: REPO, imageId: { imageDigest: img.digest }, targetStorageClass: 'STANDARD' })),
      'ImageStorageClassUpdateNotSupportedException',
    );
    await expectAwsError(ecr.send(new UpdateImageStorageClassCommand({ repositoryName: REPO, imageId: { imageTag: 'nope' }, targetStorageClass: 'ARCHIVE' })), 'ImageNotFoundException');
  });

  it('a re-push restores an archived image', async () => {
    const img = images[0]!;
    await ecr.send(new UpdateImageStorageClassCommand({ repositoryName: REPO, imageId: { imageTag: 'v1' }, targetStorageClass: 'ARCHIVE' }));
    assert.notEqual((await pull('v1')).code, 0);
    await push(img, 'v1');
    assert.equal((await pull('v1')).code, 0);
    assert.equal((await describe())[0]?.imageStatus, 'ACTIVE');
  });

  it('a lifecycle transition rule archives images, as its preview said', async () => {
    await push(images[1]!, 'v2');
    await new Promise((r) => setTimeout(r, 20));
    await push(images[2]!, 'v3');
    const policy = JSON.stringify({
      rules: [
        {
          rulePriority: 1,
          description: 'keep the newest release active, archive the rest',
          selection: { tagStatus: 'tagged', tagPrefixList: ['v'], countType: 'imageCountMoreThan', countNumber: 1 },
          action: { type: 'transition', targetStorageClass: 'archive' },
        },
        {
          rulePriority: 2,
          description: 'delete what has been archived for a year',
          selection: { tagStatus: 'any', storageClass: 'archive', countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 365 },
          action: { type: 'expire' },
        },
      ],
    });
    await aws(['put-lifecycle-policy', '--repository-name', REPO, '--lifecycle-policy-text', policy]);

    await ecr.send(new StartLifecyclePolicyPreviewCommand({ repositoryName: REPO }));
    const preview = await ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName: REPO }));
    assert.equal(preview.status, 'COMPLETE');
    const planned = (preview.previewResults ?? []).map((r) => [r.imageDigest, r.action?.type, r.action?.targetStorageClass, r.storageClass]);
    // Newest by push or last restore: v1's restore (the re-push) came before v2 and v3 were pushed, so v1 and v2 go.
    assert.deepEqual(
      planned.sort(),
      [
        [images[0]!.digest, 'TRANSITION', 'ARCHIVE', 'STANDARD'],
        [images[1]!.digest, 'TRANSITION', 'ARCHIVE', 'STANDARD'],
      ].sort(),
    );
    assert.deepEqual(preview.summary, { expiringImageTotalCount: 0, transitioningImageTotalCounts: [{ targetStorageClass: 'ARCHIVE', imageTotalCount: 2 }] });

    const out = await run('node', [join(REPO_ROOT, 'bin', 'berth.js'), 'admin', 'lifecycle', 'run', '--repository', REPO, '--data-dir', b.dataDir], {
      env: { BERTH_LOG_LEVEL: 'warn' },
    });
    const archivedNow = [...out.stdout.matchAll(/^archived archive\/app@(sha256:[0-9a-f]{64})/gm)].map((m) => m[1]);
    assert.deepEqual(archivedNow.sort(), [images[0]!.digest, images[1]!.digest].sort(), out.stdout);
    assert.match(out.stdout, /1 repositories evaluated, 0 images expired, 2 archived/);

    assert.deepEqual(
      (await describe({ imageStatus: 'ARCHIVED' })).map((d) => d.imageDigest).sort(),
      [images[0]!.digest, images[1]!.digest].sort(),
    );
    assert.notEqual((await pull('v2')).code, 0, 'archived by lifecycle: not pullable');
    assert.equal((await pull('v3')).code, 0, 'the newest release stays active');
  });

  it('ListImageReferrers reports an archived artifact as ARCHIVED and filters by artifactStatus', async () => {
    const subject = images[2]!;
    const config = await uploadBlob(b, REPO, Buffer.from('{}'));
    const signature = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        artifactType: 'application/vnd.example.signature',
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: config.digest, size: 2 },
        layers: [{ mediaType: 'application/vnd.oci.empty.v1+json', digest: config.digest, size: 2 }],
        subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.manifest.length },
      }),
    );
    const pushed = await putManifest(b, REPO, 'sig', signature, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(pushed.status, 201);
    const digest = pushed.headers.get('docker-content-digest')!;
    const list = async (artifactStatus?: 'ACTIVE' | 'ARCHIVED' | 'ANY') =>
      ((await ecr.send(new ListImageReferrersCommand({ repositoryName: REPO, subjectId: { imageDigest: subject.digest }, ...(artifactStatus ? { filter: { artifactStatus } } : {}) }))).referrers ?? []).map((r) => [r.digest, r.artifactStatus]);
    assert.deepEqual(await list(), [[digest, 'ACTIVE']]);
    await ecr.send(new UpdateImageStorageClassCommand({ repositoryName: REPO, imageId: { imageDigest: digest }, targetStorageClass: 'ARCHIVE' }));
    assert.deepEqual(await list(), []);
    assert.deepEqual(await list('ARCHIVED'), [[digest, 'ARCHIVED']]);
    assert.deepEqual(await list('ANY'), [[digest, 'ARCHIVED']]);
  });

  it('rejects lifecycle policies ECR refuses for the archive', async () => {
    const pulledExpire = JSON.stringify({
      rules: [{ rulePriority: 1, selection: { tagStatus: 'any', countType: 'sinceImagePulled', countUnit: 'days', countNumber: 30 }, action: { type: 'expire' } }],
    });
    const res = await run(AWS, ['--endpoint-url', b.url, 'ecr', 'put-lifecycle-policy', '--repository-name', REPO, '--lifecycle-policy-text', pulledExpire], { env, check: false });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /InvalidParameterException.*sinceImagePulled can only be used with the transition action/s);
    const tooSoon = JSON.stringify({
      rules: [{ rulePriority: 1, selection: { tagStatus: 'any', storageClass: 'archive', countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 30 }, action: { type: 'expire' } }],
    });
    const res2 = await run(AWS, ['--endpoint-url', b.url, 'ecr', 'put-lifecycle-policy', '--repository-name', REPO, '--lifecycle-policy-text', tooSoon], { env, check: false });
    assert.notEqual(res2.code, 0);
    assert.match(res2.stderr, /less than 90 days/);
  });
});
