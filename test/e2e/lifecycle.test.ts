// Lifecycle policies through the real server with the AWS SDK: put/get/delete, previews that equal
// what a run then expires, and ECR's validation errors.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DeleteLifecyclePolicyCommand,
  GetLifecyclePolicyCommand,
  GetLifecyclePolicyPreviewCommand,
  PutLifecyclePolicyCommand,
  StartLifecyclePolicyPreviewCommand,
  type ECRClient,
  type LifecyclePolicyPreviewResult,
} from '@aws-sdk/client-ecr';
import { REPO_ROOT, startBerth, type Berth } from '../helpers/berth.js';
import { getManifest, memImage, pushMemImage } from '../helpers/oci.js';
import { run } from '../helpers/tools.js';

const REPO = 'lifecycle/app';

const POLICY = JSON.stringify({
  rules: [
    { rulePriority: 1, description: 'keep one untagged', selection: { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } },
    { rulePriority: 2, description: 'keep two releases', selection: { tagStatus: 'tagged', tagPrefixList: ['v'], countType: 'imageCountMoreThan', countNumber: 2 }, action: { type: 'expire' } },
  ],
});

async function expectAwsError(p: Promise<unknown>, name: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    assert.equal(e.name, name, `expected ${name}, got ${e.name}: ${e.message}`);
    assert.equal(e.$metadata?.httpStatusCode, 400);
    if (message) assert.match(e.message ?? '', message);
    return true;
  });
}

describe('lifecycle policies through the ECR API', () => {
  let b: Berth;
  let ecr: ECRClient;
  const digests: Record<string, string> = {};

  before(async () => {
    b = await startBerth({ env: { BERTH_LIFECYCLE_INTERVAL: '0', BERTH_GC_INTERVAL: '0' } });
    ecr = b.ecr!;
    await b.createRepository(REPO);
    // Oldest first: two untagged images, then four releases.
    for (const name of ['u1', 'u2', 'v1', 'v2', 'v3', 'v4']) {
      const img = memImage([{ [`${name}.txt`]: `content of ${name}` }]);
      await pushMemImage(b, REPO, name.startsWith('u') ? img.digest : name, img);
      digests[name] = img.digest;
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  after(async () => {
    await b?.destroy();
  });

  it('reports a missing policy, preview and repository with ECR errors', async () => {
    await expectAwsError(
      ecr.send(new GetLifecyclePolicyCommand({ repositoryName: REPO })),
      'LifecyclePolicyNotFoundException',
      /^Lifecycle policy does not exist for the repository with name 'lifecycle\/app' in the registry with id '\d{12}'$/,
    );
    await expectAwsError(ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName: REPO })), 'LifecyclePolicyPreviewNotFoundException');
    await expectAwsError(ecr.send(new StartLifecyclePolicyPreviewCommand({ repositoryName: REPO })), 'LifecyclePolicyNotFoundException');
    await expectAwsError(
      ecr.send(new PutLifecyclePolicyCommand({ repositoryName: 'no-such-repo', lifecyclePolicyText: POLICY })),
      'RepositoryNotFoundException',
      /The repository with name 'no-such-repo' does not exist in the registry with id '\d{12}'/,
    );
  });

  it('rejects invalid policy text with InvalidParameterException', async () => {
    await expectAwsError(
      ecr.send(new PutLifecyclePolicyCommand({ repositoryName: REPO, lifecyclePolicyText: '{"rules":[]}' })),
      'InvalidParameterException',
      /must have length greater than or equal to 100/,
    );
    const zero = JSON.stringify({
      rules: [{ rulePriority: 1, description: 'x'.repeat(40), selection: { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 0 }, action: { type: 'expire' } }],
    });
    await expectAwsError(
      ecr.send(new PutLifecyclePolicyCommand({ repositoryName: REPO, lifecyclePolicyText: zero })),
      'InvalidParameterException',
      /^Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: numeric instance is lower than the required minimum \(minimum: 1, found: 0\)'$/,
    );
    await expectAwsError(
      ecr.send(new StartLifecyclePolicyPreviewCommand({ repositoryName: REPO, lifecyclePolicyText: 'x'.repeat(120) })),
      'InvalidParameterException',
      /Could not map policyString into LifecyclePolicy/,
    );
    await expectAwsError(ecr.send(new GetLifecyclePolicyCommand({ repositoryName: REPO })), 'LifecyclePolicyNotFoundException');
  });

  it('puts, gets and previews a policy; the run expires exactly the preview', async () => {
    const put = await ecr.send(new PutLifecyclePolicyCommand({ repositoryName: REPO, lifecyclePolicyText: POLICY }));
    assert.equal(put.repositoryName, REPO);
    assert.equal(put.lifecyclePolicyText, POLICY);
    assert.match(put.registryId ?? '', /^\d{12}$/);

    const got = await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: REPO }));
    assert.equal(got.lifecyclePolicyText, POLICY);
    assert.equal(got.lastEvaluatedAt?.getTime(), 0, 'never evaluated yet');

    const started = await ecr.send(new StartLifecyclePolicyPreviewCommand({ repositoryName: REPO }));
    assert.equal(started.status, 'IN_PROGRESS');
    assert.equal(started.lifecyclePolicyText, POLICY);

    const preview = await ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName: REPO }));
    assert.equal(preview.status, 'COMPLETE');
    assert.equal(preview.lifecyclePolicyText, POLICY);
    const results = preview.previewResults ?? [];
    assert.deepEqual(
      results.map((r) => [r.imageDigest, r.imageTags, r.appliedRulePriority, r.action?.type, r.storageClass]),
      [
        [digests.u1, [], 1, 'EXPIRE', 'STANDARD'],
        [digests.v1, ['v1'], 2, 'EXPIRE', 'STANDARD'],
        [digests.v2, ['v2'], 2, 'EXPIRE', 'STANDARD'],
      ],
    );
    assert.ok(results.every((r) => r.imagePushedAt instanceof Date && Math.abs(Date.now() - r.imagePushedAt.getTime()) < 300_000));
    assert.deepEqual(preview.summary, { expiringImageTotalCount: 3 });

    // Filters and pagination.
    const untagged = await ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName: REPO, filter: { tagStatus: 'UNTAGGED' } }));
    assert.deepEqual(untagged.previewResults?.map((r) => r.imageDigest), [digests.u1]);
    const byId = await ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName: REPO, imageIds: [{ imageTag: 'v2' }] }));
    assert.deepEqual(byId.previewResults?.map((r) => r.imageDigest), [digests.v2]);
    const paged: LifecyclePolicyPreviewResult[] = [];
    let nextToken: string | undefined;
    do {
      const page = await ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName: REPO, maxResults: 2, nextToken }));
      assert.ok((page.previewResults?.length ?? 0) <= 2);
      paged.push(...(page.previewResults ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    assert.deepEqual(paged.map((r) => r.imageDigest), results.map((r) => r.imageDigest));
    await expectAwsError(ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName: REPO, maxResults: 101 })), 'InvalidParameterException');

    // Run now, from the operator command against the live data dir.
    const out = await run('node', [join(REPO_ROOT, 'bin', 'berth.js'), 'admin', 'lifecycle', 'run', '--repository', REPO, '--data-dir', b.dataDir], {
      env: { BERTH_LOG_LEVEL: 'warn' },
    });
    const expired = [...out.stdout.matchAll(/^expired lifecycle\/app@(sha256:[0-9a-f]{64})/gm)].map((m) => m[1]);
    assert.deepEqual(expired, results.map((r) => r.imageDigest), out.stdout);
    assert.match(out.stdout, /1 repositories evaluated, 3 images expired/);

    for (const [name, digest] of Object.entries(digests)) {
      const res = await getManifest(b, REPO, digest!, 'HEAD');
      const gone = results.some((r) => r.imageDigest === digest);
      assert.equal(res.status, gone ? 404 : 200, `${name} ${gone ? 'expired' : 'kept'}`);
    }
    const evaluated = await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: REPO }));
    assert.ok(Math.abs(Date.now() - (evaluated.lastEvaluatedAt?.getTime() ?? 0)) < 120_000, 'lastEvaluatedAt recorded');

    // A fresh preview now finds nothing left to do.
    await ecr.send(new StartLifecyclePolicyPreviewCommand({ repositoryName: REPO }));
    const after = await ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName: REPO }));
    assert.deepEqual(after.previewResults, []);
    assert.deepEqual(after.summary, { expiringImageTotalCount: 0 });
  });

  it('previews a draft policy without storing it, and deletes the stored one', async () => {
    const draft = JSON.stringify({
      rules: [{ rulePriority: 1, description: 'keep only the newest image', selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } }],
    });
    const started = await ecr.send(new StartLifecyclePolicyPreviewCommand({ repositoryName: REPO, lifecyclePolicyText: draft }));
    assert.equal(started.lifecyclePolicyText, draft);
    const preview = await ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName: REPO }));
    assert.deepEqual(preview.previewResults?.map((r) => r.imageDigest), [digests.u2, digests.v3]);
    assert.equal((await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: REPO }))).lifecyclePolicyText, POLICY);

    const deleted = await ecr.send(new DeleteLifecyclePolicyCommand({ repositoryName: REPO }));
    assert.equal(deleted.lifecyclePolicyText, POLICY);
    await expectAwsError(ecr.send(new GetLifecyclePolicyCommand({ repositoryName: REPO })), 'LifecyclePolicyNotFoundException');
    await expectAwsError(ecr.send(new DeleteLifecyclePolicyCommand({ repositoryName: REPO })), 'LifecyclePolicyNotFoundException');
  });
});
