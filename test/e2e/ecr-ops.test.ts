// The ECR operations beyond repositories and images — repository creation templates (applied on a
// real push), ListImageReferrers, pull-time update exclusions, account settings, managed signing,
// replication and the pull-through cache — through @aws-sdk/client-ecr (the Debian aws CLI 2.9
// predates most of them) and, where it has them, the real aws CLI v2.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as ecrSdk from '@aws-sdk/client-ecr';
import {
  BatchGetImageCommand,
  CreateRepositoryCommand,
  CreateRepositoryCreationTemplateCommand,
  DeleteRepositoryCreationTemplateCommand,
  DeleteSigningConfigurationCommand,
  DeregisterPullTimeUpdateExclusionCommand,
  DescribeImageSigningStatusCommand,
  DescribeImagesCommand,
  DescribeRegistryCommand,
  DescribeRepositoriesCommand,
  DescribeRepositoryCreationTemplatesCommand,
  ECRClient,
  GetAccountSettingCommand,
  GetLifecyclePolicyCommand,
  GetRepositoryPolicyCommand,
  GetSigningConfigurationCommand,
  ListImageReferrersCommand,
  ListPullTimeUpdateExclusionsCommand,
  ListReplicationBackfillsCommand,
  ListTagsForResourceCommand,
  PutAccountSettingCommand,
  PutSigningConfigurationCommand,
  RegisterPullTimeUpdateExclusionCommand,
  StartReplicationBackfillCommand,
  StopReplicationBackfillCommand,
  UpdateImageStorageClassCommand,
  UpdateRepositoryCreationTemplateCommand,
} from '@aws-sdk/client-ecr';
import { AWS, awsCliEnv } from '../helpers/aws-cli.js';
import { getLoginPassword, startBerth, type Berth } from '../helpers/berth.js';
import { buildImage, type LayoutImage } from '../helpers/images.js';
import { MediaType, descriptor, expectStatus, memImage, pushMemImage, putManifest, uploadBlob } from '../helpers/oci.js';
import { run, skopeo, skopeoCreds, tempDir } from '../helpers/tools.js';

const LIFECYCLE_POLICY = JSON.stringify({
  rules: [{ rulePriority: 1, description: 'keep the newest ten', selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 10 }, action: { type: 'expire' } }],
});

/** Runs `p` and returns the error; fails if it succeeds. */
async function failure(p: Promise<unknown>): Promise<{ name: string; message: string; status: number | undefined }> {
  try {
    await p;
  } catch (e) {
    const err = e as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
  }
  assert.fail('expected the call to fail');
}

async function expectFailure(p: Promise<unknown>, name: string, message?: RegExp): Promise<void> {
  const f = await failure(p);
  assert.equal(f.name, name, f.message);
  assert.ok(f.status !== undefined && f.status >= 400 && f.status < 500, `status ${f.status}`);
  if (message) assert.match(f.message, message);
}

describe('ECR operations: templates, referrers, exclusions, settings, signing, replication, pull-through cache', () => {
  let b: Berth;
  let ecr: ECRClient;
  let work: { path: string; remove: () => Promise<void> };
  let account: string;
  let password: string;
  let image: LayoutImage;
  let other: LayoutImage;
  let env: Record<string, string>;

  const aws = async (args: string[]) => run(AWS, ['--endpoint-url', b.url, '--output', 'json', ...args], { env, check: false, timeoutMs: 60_000 });
  const awsJson = async <T = Record<string, any>>(args: string[]): Promise<T> => {
    const res = await aws(args);
    if (res.code !== 0) assert.fail(`aws ${args.join(' ')} exited ${res.code}: ${res.stderr}`);
    return JSON.parse(res.stdout || '{}') as T;
  };
  const awsError = async (args: string[]): Promise<string> => {
    const res = await aws(args);
    assert.notEqual(res.code, 0, `aws ${args.join(' ')} should have failed: ${res.stdout}`);
    return /An error occurred \((\w+)\)/.exec(res.stderr)?.[1] ?? res.stderr;
  };

  /** An IAM user with a managed policy, and an ECR client signed as that user. */
  async function iamUser(name: string, policyArn: string): Promise<{ arn: string; client: ECRClient }> {
    const user = (await awsJson<{ User: { Arn: string } }>(['iam', 'create-user', '--user-name', name])).User;
    await awsJson(['iam', 'attach-user-policy', '--user-name', name, '--policy-arn', policyArn]);
    const key = (await awsJson<{ AccessKey: { AccessKeyId: string; SecretAccessKey: string } }>(['iam', 'create-access-key', '--user-name', name])).AccessKey;
    const client = new ECRClient({ endpoint: b.url, region: 'us-east-1', credentials: { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey }, maxAttempts: 1 });
    return { arn: user.Arn, client };
  }

  async function push(repo: string, tag: string): Promise<void> {
    await skopeo(['copy', '--dest-tls-verify=false', ...skopeoCreds('--dest-creds', password), image.ref, `docker://${b.host}/${repo}:${tag}`]);
  }

  before(async () => {
    b = await startBerth();
    ecr = b.ecr!;
    work = await tempDir('ecr-ops');
    account = (await ecr.send(new DescribeRegistryCommand({}))).registryId!;
    password = await getLoginPassword(ecr);
    env = await awsCliEnv(b);
    image = await buildImage({ layout: join(work.path, 'src'), tag: 'v1', files: [{ path: '/etc/motd', content: 'created on push\n' }] });
    other = await buildImage({ layout: join(work.path, 'src'), tag: 'v2', files: [{ path: '/etc/motd', content: 'another image\n' }] });
  });

  after(async () => {
    await b?.destroy();
    await work?.remove();
  });

  test('repository creation templates: create, describe, update, delete, with the model checked', async () => {
    const created = await ecr.send(
      new CreateRepositoryCreationTemplateCommand({
        prefix: 'crud',
        description: 'first',
        appliedFor: ['REPLICATION', 'CREATE_ON_PUSH', 'REPLICATION'],
        imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'latest*' }],
      }),
    );
    assert.equal(created.registryId, account);
    const t = created.repositoryCreationTemplate!;
    assert.equal(t.prefix, 'crud');
    assert.deepEqual(t.appliedFor, ['REPLICATION', 'CREATE_ON_PUSH']);
    assert.deepEqual(t.encryptionConfiguration, { encryptionType: 'AES256' });
    assert.deepEqual(t.resourceTags, []);
    assert.ok(t.createdAt instanceof Date && t.updatedAt instanceof Date);

    await expectFailure(ecr.send(new CreateRepositoryCreationTemplateCommand({ prefix: 'crud/', appliedFor: ['REPLICATION'] })), 'TemplateAlreadyExistsException');

    const updated = (await ecr.send(new UpdateRepositoryCreationTemplateCommand({ prefix: 'crud', description: 'second', imageTagMutability: 'MUTABLE' })))
      .repositoryCreationTemplate!;
    assert.equal(updated.description, 'second');
    assert.equal(updated.imageTagMutability, 'MUTABLE');
    assert.equal(updated.imageTagMutabilityExclusionFilters, undefined, 'a new mode without filters drops the old filters');
    assert.deepEqual(updated.appliedFor, ['REPLICATION', 'CREATE_ON_PUSH'], 'what the update leaves out stays');
    assert.ok(updated.updatedAt!.getTime() >= updated.createdAt!.getTime());

    await ecr.send(new CreateRepositoryCreationTemplateCommand({ prefix: 'ROOT', appliedFor: ['PULL_THROUGH_CACHE'] }));
    const all = await ecr.send(new DescribeRepositoryCreationTemplatesCommand({}));
    assert.deepEqual(all.repositoryCreationTemplates!.map((x) => x.prefix), ['ROOT', 'crud']);
    const paged = await ecr.send(new DescribeRepositoryCreationTemplatesCommand({ maxResults: 1 }));
    assert.equal(paged.repositoryCreationTemplates!.length, 1);
    const rest = await ecr.send(new DescribeRepositoryCreationTemplatesCommand({ maxResults: 1, nextToken: paged.nextToken }));
    assert.deepEqual(rest.repositoryCreationTemplates!.map((x) => x.prefix), ['crud']);
    const named = await ecr.send(new DescribeRepositoryCreationTemplatesCommand({ prefixes: ['crud', 'nothing'] }));
    assert.deepEqual(named.repositoryCreationTemplates!.map((x) => x.description), ['second']);

    const deleted = await ecr.send(new DeleteRepositoryCreationTemplateCommand({ prefix: 'ROOT' }));
    assert.equal(deleted.repositoryCreationTemplate!.prefix, 'ROOT');
    await expectFailure(ecr.send(new DeleteRepositoryCreationTemplateCommand({ prefix: 'ROOT' })), 'TemplateNotFoundException');
    await expectFailure(ecr.send(new UpdateRepositoryCreationTemplateCommand({ prefix: 'none', description: 'x' })), 'TemplateNotFoundException');
  });

  test('repository creation templates: bad input gets ECR exceptions and a 4xx, and changes nothing', async () => {
    const bad: Array<[Record<string, unknown>, string, RegExp?]> = [
      [{ prefix: 'Upper', appliedFor: ['CREATE_ON_PUSH'] }, 'InvalidParameterException', /prefix/],
      [{ prefix: 'a'.repeat(257), appliedFor: ['CREATE_ON_PUSH'] }, 'InvalidParameterException', /prefix/],
      [{ prefix: 'ok' }, 'InvalidParameterException', /appliedFor/],
      [{ prefix: 'ok', appliedFor: [] }, 'InvalidParameterException', /appliedFor/],
      [{ prefix: 'ok', appliedFor: ['SOMETIMES'] }, 'InvalidParameterException', /appliedFor/],
      [{ prefix: 'ok', appliedFor: ['CREATE_ON_PUSH'], imageTagMutability: 'SOMETIMES' }, 'InvalidParameterException', /imageTagMutability/],
      [{ prefix: 'ok', appliedFor: ['CREATE_ON_PUSH'], imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION' }, 'InvalidParameterException', /imageTagMutabilityExclusionFilters/],
      [{ prefix: 'ok', appliedFor: ['CREATE_ON_PUSH'], imageTagMutability: 'MUTABLE', imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'x' }] }, 'InvalidParameterException'],
      [{ prefix: 'ok', appliedFor: ['CREATE_ON_PUSH'], imageTagMutability: 'MUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'bad filter' }] }, 'InvalidParameterException'],
      [{ prefix: 'ok', appliedFor: ['CREATE_ON_PUSH'], description: 'd'.repeat(257) }, 'InvalidParameterException', /description/],
      [{ prefix: 'ok', appliedFor: ['CREATE_ON_PUSH'], repositoryPolicy: '{"not":"a policy"}' }, 'InvalidParameterException'],
      [{ prefix: 'ok', appliedFor: ['CREATE_ON_PUSH'], lifecyclePolicy: '{"rules":[]}' }, 'InvalidParameterException'],
      [{ prefix: 'ok', appliedFor: ['CREATE_ON_PUSH'], encryptionConfiguration: { encryptionType: 'KMS', kmsKey: `arn:aws:kms:us-east-1:${account}:key/abc` } }, 'InvalidParameterException', /custom role is required/],
      [{ prefix: 'ok', appliedFor: ['CREATE_ON_PUSH'], encryptionConfiguration: { encryptionType: 'KMS_DSSE' } }, 'InvalidParameterException', /custom role is required/],
      [{ prefix: 'ok', appliedFor: ['CREATE_ON_PUSH'], encryptionConfiguration: { encryptionType: 'KMS', kmsKey: 'alias/not-an-arn' } }, 'InvalidParameterException', /kmsKey/],
      [{ prefix: 'ok', appliedFor: ['CREATE_ON_PUSH'], encryptionConfiguration: { encryptionType: 'AES256', kmsKey: 'alias/x' } }, 'InvalidParameterException', /kmsKey/],
      [{ prefix: 'ok', appliedFor: ['CREATE_ON_PUSH'], resourceTags: [{ Key: 'team', Value: 'a' }] }, 'InvalidParameterException', /customRoleArn/],
      [{ prefix: 'ok', appliedFor: ['CREATE_ON_PUSH'], customRoleArn: 'arn:aws:iam::999999999999:role/other-account' }, 'InvalidParameterException', /customRoleArn/],
      [{ prefix: 'ok', appliedFor: ['CREATE_ON_PUSH'], customRoleArn: 'not-an-arn' }, 'InvalidParameterException', /customRoleArn/],
    ];
    for (const [input, name, message] of bad) {
      await expectFailure(ecr.send(new CreateRepositoryCreationTemplateCommand(input as never)), name, message);
    }
    await expectFailure(ecr.send(new UpdateRepositoryCreationTemplateCommand({ prefix: 'crud', imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION' })), 'InvalidParameterException');
    const prefixes = (await ecr.send(new DescribeRepositoryCreationTemplatesCommand({}))).repositoryCreationTemplates!.map((x) => x.prefix);
    assert.deepEqual(prefixes, ['crud'], 'no refused template was stored');
    assert.equal((await ecr.send(new DescribeRepositoryCreationTemplatesCommand({ prefixes: ['crud'] }))).repositoryCreationTemplates![0]!.imageTagMutability, 'MUTABLE');
  });

  test('create-on-push: a push creates the repository from the longest matching template, else ROOT', async () => {
    const repositoryPolicy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Sid: 'pull', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: ['ecr:BatchGetImage'] }],
    });
    // ECR assumes the template's role to create and tag the repository.
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ecr.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
    await awsJson(['iam', 'create-role', '--role-name', 'ecr-templates', '--assume-role-policy-document', JSON.stringify(trust)]);
    const permissions = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['ecr:CreateRepository', 'ecr:TagResource'], Resource: '*' }] };
    await awsJson(['iam', 'put-role-policy', '--role-name', 'ecr-templates', '--policy-name', 'create', '--policy-document', JSON.stringify(permissions)]);
    await ecr.send(
      new CreateRepositoryCreationTemplateCommand({
        prefix: 'team',
        appliedFor: ['CREATE_ON_PUSH'],
        imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'latest' }],
        resourceTags: [{ Key: 'team', Value: 'platform' }],
        customRoleArn: `arn:aws:iam::${account}:role/ecr-templates`,
        repositoryPolicy,
        lifecyclePolicy: LIFECYCLE_POLICY,
      }),
    );
    await ecr.send(new CreateRepositoryCreationTemplateCommand({ prefix: 'team/sub/', appliedFor: ['CREATE_ON_PUSH'], description: 'longer' }));
    await ecr.send(new CreateRepositoryCreationTemplateCommand({ prefix: 'mirror', appliedFor: ['REPLICATION'] }));

    // Before any ROOT template, a push outside every CREATE_ON_PUSH prefix finds no repository.
    const refused = await skopeo(['copy', '--dest-tls-verify=false', ...skopeoCreds('--dest-creds', password), image.ref, `docker://${b.host}/mirror/app:v1`], { check: false });
    assert.notEqual(refused.code, 0, 'a REPLICATION-only template does not create on push');
    await expectFailure(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['mirror/app'] })), 'RepositoryNotFoundException');

    await push('team/app', 'v1');
    const repo = (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['team/app'] }))).repositories![0]!;
    assert.equal(repo.imageTagMutability, 'IMMUTABLE_WITH_EXCLUSION');
    assert.deepEqual(repo.imageTagMutabilityExclusionFilters, [{ filterType: 'WILDCARD', filter: 'latest' }]);
    assert.deepEqual(repo.encryptionConfiguration, { encryptionType: 'AES256' });
    assert.deepEqual((await ecr.send(new ListTagsForResourceCommand({ resourceArn: repo.repositoryArn }))).tags, [{ Key: 'team', Value: 'platform' }]);
    assert.equal((await ecr.send(new GetRepositoryPolicyCommand({ repositoryName: 'team/app' }))).policyText, repositoryPolicy);
    assert.equal((await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'team/app' }))).lifecyclePolicyText, LIFECYCLE_POLICY);
    // The template's tag immutability is in force: v1 cannot move to another image, latest can.
    const move = (tag: string) =>
      skopeo(['copy', '--dest-tls-verify=false', ...skopeoCreds('--dest-creds', password), other.ref, `docker://${b.host}/team/app:${tag}`], { check: false });
    assert.notEqual((await move('v1')).code, 0, 'an immutable tag does not move');
    await push('team/app', 'latest');
    assert.equal((await move('latest')).code, 0, 'the excluded tag does');

    await push('team/sub/app', 'v1');
    const sub = (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['team/sub/app'] }))).repositories![0]!;
    assert.equal(sub.imageTagMutability, 'MUTABLE', 'the longer prefix wins');
    assert.deepEqual((await ecr.send(new ListTagsForResourceCommand({ resourceArn: sub.repositoryArn }))).tags, []);
    await expectFailure(ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'team/sub/app' })), 'LifecyclePolicyNotFoundException');

    await ecr.send(new CreateRepositoryCreationTemplateCommand({ prefix: 'ROOT', appliedFor: ['CREATE_ON_PUSH'], imageTagMutability: 'IMMUTABLE' }));
    await push('anything/else', 'v1');
    const fromRoot = (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['anything/else'] }))).repositories![0]!;
    assert.equal(fromRoot.imageTagMutability, 'IMMUTABLE');
    await push('mirror/app', 'v1');
    assert.equal((await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['mirror/app'] }))).repositories![0]!.imageTagMutability, 'IMMUTABLE');
    await ecr.send(new DeleteRepositoryCreationTemplateCommand({ prefix: 'ROOT' }));
  });

  test('create-on-push needs ecr:CreateRepository: a pusher without it cannot create', async () => {
    await ecr.send(new CreateRepositoryCreationTemplateCommand({ prefix: 'guarded', appliedFor: ['CREATE_ON_PUSH'] }));
    const pusher = await iamUser('pusher', 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser');
    try {
      const pusherPassword = await getLoginPassword(pusher.client);
      const res = await skopeo(['copy', '--dest-tls-verify=false', ...skopeoCreds('--dest-creds', pusherPassword), image.ref, `docker://${b.host}/guarded/app:v1`], { check: false });
      assert.notEqual(res.code, 0, 'the push that would create the repository is denied');
      await expectFailure(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['guarded/app'] })), 'RepositoryNotFoundException');
      await push('guarded/app', 'v1');
      await skopeo(['copy', '--dest-tls-verify=false', ...skopeoCreds('--dest-creds', pusherPassword), image.ref, `docker://${b.host}/guarded/app:v2`]);
    } finally {
      pusher.client.destroy();
    }
  });

  test('ListImageReferrers: the referrers of a subject, filtered and paged', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'refs' }));
    const subject = memImage([{ 'a.txt': 'subject' }]);
    await pushMemImage(b, 'refs', 'v1', subject);
    const empty = Buffer.from('{}');
    await uploadBlob(b, 'refs', empty);
    const artifacts: Array<{ digest: string; size: number; type: string }> = [];
    for (const [i, type] of ['application/vnd.example.sbom', 'application/vnd.example.sig', 'application/vnd.example.sbom'].entries()) {
      const layer = Buffer.from(`artifact ${i}`);
      await uploadBlob(b, 'refs', layer);
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MediaType.ociManifest,
          artifactType: type,
          config: descriptor('application/vnd.oci.empty.v1+json', empty),
          layers: [descriptor('application/octet-stream', layer)],
          subject: { mediaType: MediaType.ociManifest, digest: subject.digest, size: subject.manifest.length },
          annotations: { 'org.example.n': String(i) },
        }),
      );
      expectStatus(await putManifest(b, 'refs', descriptor(MediaType.ociManifest, manifest).digest, manifest, MediaType.ociManifest), 201);
      artifacts.push({ digest: descriptor(MediaType.ociManifest, manifest).digest, size: manifest.length, type });
    }
    const all = await ecr.send(new ListImageReferrersCommand({ repositoryName: 'refs', subjectId: { imageDigest: subject.digest } }));
    assert.deepEqual(
      all.referrers!.map((r) => r.digest).sort(),
      artifacts.map((a) => a.digest).sort(),
    );
    for (const r of all.referrers!) {
      const a = artifacts.find((x) => x.digest === r.digest)!;
      assert.equal(r.mediaType, MediaType.ociManifest);
      assert.equal(r.artifactType, a.type);
      assert.equal(r.size, a.size);
      assert.equal(r.artifactStatus, 'ACTIVE');
      assert.ok(r.annotations?.['org.example.n']);
    }
    const sboms = await ecr.send(new ListImageReferrersCommand({ repositoryName: 'refs', subjectId: { imageDigest: subject.digest }, filter: { artifactTypes: ['application/vnd.example.sbom'] } }));
    assert.equal(sboms.referrers!.length, 2);
    const archived = await ecr.send(new ListImageReferrersCommand({ repositoryName: 'refs', subjectId: { imageDigest: subject.digest }, filter: { artifactStatus: 'ARCHIVED' } }));
    assert.deepEqual(archived.referrers, []);
    const first = await ecr.send(new ListImageReferrersCommand({ repositoryName: 'refs', subjectId: { imageDigest: subject.digest }, maxResults: 2 }));
    assert.equal(first.referrers!.length, 2);
    const second = await ecr.send(new ListImageReferrersCommand({ repositoryName: 'refs', subjectId: { imageDigest: subject.digest }, maxResults: 2, nextToken: first.nextToken }));
    assert.equal(second.referrers!.length, 1);
    assert.equal(second.nextToken, undefined);
    const none = await ecr.send(new ListImageReferrersCommand({ repositoryName: 'refs', subjectId: { imageDigest: `sha256:${'0'.repeat(64)}` } }));
    assert.deepEqual(none.referrers, []);

    await expectFailure(ecr.send(new ListImageReferrersCommand({ repositoryName: 'nope', subjectId: { imageDigest: subject.digest } })), 'RepositoryNotFoundException');
    await expectFailure(ecr.send(new ListImageReferrersCommand({ repositoryName: 'refs', subjectId: { imageDigest: 'not-a-digest' } })), 'InvalidParameterException');
    await expectFailure(ecr.send(new ListImageReferrersCommand({ repositoryName: 'refs' } as never)), 'InvalidParameterException', /subjectId/);
    await expectFailure(ecr.send(new ListImageReferrersCommand({ repositoryName: 'refs', subjectId: { imageDigest: subject.digest }, maxResults: 51 })), 'InvalidParameterException');
    await expectFailure(
      ecr.send(new ListImageReferrersCommand({ repositoryName: 'refs', subjectId: { imageDigest: subject.digest }, filter: { artifactStatus: 'GONE' as never } })),
      'InvalidParameterException',
    );
  });

  test('pull-time update exclusions: register, list, deregister; an excluded principal’s pulls leave lastRecordedPullTime alone', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'pulls' }));
    const img = memImage([{ 'p.txt': 'pulled' }]);
    await pushMemImage(b, 'pulls', 'v1', img);
    const reader = await iamUser('scanner', 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly');
    try {
      const registered = await ecr.send(new RegisterPullTimeUpdateExclusionCommand({ principalArn: reader.arn }));
      assert.equal(registered.principalArn, reader.arn);
      assert.ok(registered.createdAt instanceof Date);
      await expectFailure(ecr.send(new RegisterPullTimeUpdateExclusionCommand({ principalArn: reader.arn })), 'ExclusionAlreadyExistsException');
      const role = `arn:aws:iam::${account}:role/inspector`;
      await ecr.send(new RegisterPullTimeUpdateExclusionCommand({ principalArn: role }));
      assert.deepEqual((await ecr.send(new ListPullTimeUpdateExclusionsCommand({}))).pullTimeUpdateExclusions, [role, reader.arn].sort());
      const page1 = await ecr.send(new ListPullTimeUpdateExclusionsCommand({ maxResults: 1 }));
      assert.equal(page1.pullTimeUpdateExclusions!.length, 1);
      assert.ok(page1.nextToken);

      const pullTime = async () => (await ecr.send(new DescribeImagesCommand({ repositoryName: 'pulls' }))).imageDetails![0]!.lastRecordedPullTime;
      const pullAs = (client: ECRClient) => client.send(new BatchGetImageCommand({ repositoryName: 'pulls', imageIds: [{ imageTag: 'v1' }] }));
      await pullAs(reader.client);
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal(await pullTime(), undefined, 'the excluded principal’s pull is not recorded');
      await pullAs(ecr);
      await new Promise((r) => setTimeout(r, 2500));
      const recorded = await pullTime();
      assert.ok(recorded instanceof Date, 'another principal’s pull is');

      await ecr.send(new DeregisterPullTimeUpdateExclusionCommand({ principalArn: reader.arn }));
      await expectFailure(ecr.send(new DeregisterPullTimeUpdateExclusionCommand({ principalArn: reader.arn })), 'ExclusionNotFoundException');
      await new Promise((r) => setTimeout(r, 1100));
      await pullAs(reader.client);
      await new Promise((r) => setTimeout(r, 2500));
      assert.ok((await pullTime())!.getTime() > recorded!.getTime(), 'once deregistered, its pulls count again');
    } finally {
      reader.client.destroy();
    }
    await expectFailure(ecr.send(new RegisterPullTimeUpdateExclusionCommand({ principalArn: 'arn:aws:iam::123:user/short-account' })), 'InvalidParameterException');
    await expectFailure(ecr.send(new RegisterPullTimeUpdateExclusionCommand({ principalArn: `arn:aws:iam::${account}:group/devs` })), 'InvalidParameterException');
    await expectFailure(ecr.send(new RegisterPullTimeUpdateExclusionCommand({} as never)), 'InvalidParameterException');
    await expectFailure(ecr.send(new ListPullTimeUpdateExclusionsCommand({ maxResults: 0 })), 'InvalidParameterException');
  });

  test('account settings: every ECR setting, only values berth honours', async () => {
    assert.deepEqual(await ecr.send(new GetAccountSettingCommand({ name: 'BASIC_SCAN_TYPE_VERSION' })).then((o) => [o.name, o.value]), ['BASIC_SCAN_TYPE_VERSION', 'AWS_NATIVE']);
    assert.equal((await ecr.send(new GetAccountSettingCommand({ name: 'REGISTRY_POLICY_SCOPE' }))).value, 'V2');
    assert.equal((await ecr.send(new GetAccountSettingCommand({ name: 'BLOB_MOUNTING' }))).value, 'ENABLED');
    assert.equal((await ecr.send(new PutAccountSettingCommand({ name: 'BLOB_MOUNTING', value: 'DISABLED' }))).value, 'DISABLED');
    assert.equal((await ecr.send(new GetAccountSettingCommand({ name: 'BLOB_MOUNTING' }))).value, 'DISABLED');
    await ecr.send(new PutAccountSettingCommand({ name: 'BLOB_MOUNTING', value: 'ENABLED' }));
    assert.equal((await ecr.send(new PutAccountSettingCommand({ name: 'REGISTRY_POLICY_SCOPE', value: 'V2' }))).value, 'V2');
    assert.equal((await ecr.send(new PutAccountSettingCommand({ name: 'BASIC_SCAN_TYPE_VERSION', value: 'AWS_NATIVE' }))).value, 'AWS_NATIVE');
    for (const [name, value] of [
      ['BASIC_SCAN_TYPE_VERSION', 'CLAIR'],
      ['REGISTRY_POLICY_SCOPE', 'V1'],
      ['BLOB_MOUNTING', 'SOMETIMES'],
      ['NO_SUCH_SETTING', 'X'],
    ] as const) {
      await expectFailure(ecr.send(new PutAccountSettingCommand({ name, value })), 'InvalidParameterException');
    }
    assert.equal((await ecr.send(new GetAccountSettingCommand({ name: 'REGISTRY_POLICY_SCOPE' }))).value, 'V2', 'a refused value is not stored');
    assert.equal((await ecr.send(new GetAccountSettingCommand({ name: 'BASIC_SCAN_TYPE_VERSION' }))).value, 'AWS_NATIVE');
  });

  test('managed signing: no configuration until one is put; rules berth cannot honour are refused', async () => {
    await expectFailure(ecr.send(new GetSigningConfigurationCommand({})), 'SigningConfigurationNotFoundException');
    await expectFailure(ecr.send(new DeleteSigningConfigurationCommand({})), 'SigningConfigurationNotFoundException');
    const rule = { signingProfileArn: `arn:aws:signer:us-east-1:${account}:/signing-profiles/berth_profile`, repositoryFilters: [{ filter: 'prod*', filterType: 'WILDCARD_MATCH' as const }] };
    await expectFailure(ecr.send(new PutSigningConfigurationCommand({ signingConfiguration: { rules: [rule] } })), 'ValidationException', /signing/i);
    await expectFailure(ecr.send(new GetSigningConfigurationCommand({})), 'SigningConfigurationNotFoundException');
    await expectFailure(ecr.send(new PutSigningConfigurationCommand({ signingConfiguration: { rules: [{ signingProfileArn: 'arn:aws:signer:bad' }] } })), 'InvalidParameterException');
    await expectFailure(ecr.send(new PutSigningConfigurationCommand({} as never)), 'InvalidParameterException');

    assert.deepEqual((await ecr.send(new PutSigningConfigurationCommand({ signingConfiguration: { rules: [] } }))).signingConfiguration, { rules: [] });
    assert.deepEqual(await ecr.send(new GetSigningConfigurationCommand({})).then((o) => [o.registryId, o.signingConfiguration]), [account, { rules: [] }]);
    assert.deepEqual((await ecr.send(new DeleteSigningConfigurationCommand({}))).signingConfiguration, { rules: [] });
    await expectFailure(ecr.send(new GetSigningConfigurationCommand({})), 'SigningConfigurationNotFoundException');

    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'signed' }));
    const img = memImage([{ 's.txt': 'sign me' }]);
    await pushMemImage(b, 'signed', 'v1', img);
    const status = await ecr.send(new DescribeImageSigningStatusCommand({ repositoryName: 'signed', imageId: { imageTag: 'v1' } }));
    assert.deepEqual([status.repositoryName, status.registryId, status.imageId, status.signingStatuses], ['signed', account, { imageTag: 'v1', imageDigest: img.digest }, []]);
    await expectFailure(ecr.send(new DescribeImageSigningStatusCommand({ repositoryName: 'signed', imageId: { imageTag: 'v2' } })), 'ImageNotFoundException');
    await expectFailure(ecr.send(new DescribeImageSigningStatusCommand({ repositoryName: 'nope', imageId: { imageTag: 'v1' } })), 'RepositoryNotFoundException');
    await expectFailure(ecr.send(new DescribeImageSigningStatusCommand({ repositoryName: 'signed' } as never)), 'InvalidParameterException');
  });

  test('replication and the pull-through cache with the aws CLI v2: ECR errors, never a silent success', async () => {
    const rules = JSON.stringify({ rules: [{ destinations: [{ region: 'eu-west-1', registryId: account }] }] });
    assert.equal(await awsError(['ecr', 'put-replication-configuration', '--replication-configuration', rules]), 'ValidationException');
    assert.deepEqual((await awsJson(['ecr', 'describe-registry'])).replicationConfiguration, { rules: [] }, 'nothing was stored');
    assert.deepEqual((await awsJson(['ecr', 'put-replication-configuration', '--replication-configuration', '{"rules":[]}'])).replicationConfiguration, { rules: [] });
    const badRegion = JSON.stringify({ rules: [{ destinations: [{ region: 'EU_WEST', registryId: account }] }] });
    assert.equal(await awsError(['ecr', 'put-replication-configuration', '--replication-configuration', badRegion]), 'InvalidParameterException');

    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'replicated' }));
    const img = memImage([{ 'r.txt': 'replicate me' }]);
    await pushMemImage(b, 'replicated', 'v1', img);
    const status = await awsJson(['ecr', 'describe-image-replication-status', '--repository-name', 'replicated', '--image-id', 'imageTag=v1']);
    assert.deepEqual(status.replicationStatuses, []);
    assert.equal(status.imageId.imageDigest, img.digest);
    assert.equal(await awsError(['ecr', 'describe-image-replication-status', '--repository-name', 'replicated', '--image-id', 'imageTag=v9']), 'ImageNotFoundException');

    assert.equal(
      await awsError(['ecr', 'create-pull-through-cache-rule', '--ecr-repository-prefix', 'hub', '--upstream-registry-url', 'registry-1.docker.io']),
      'UnsupportedUpstreamRegistryException',
    );
    assert.deepEqual((await awsJson(['ecr', 'describe-pull-through-cache-rules'])).pullThroughCacheRules, [], 'no rule was stored');
    assert.equal(await awsError(['ecr', 'describe-pull-through-cache-rules', '--ecr-repository-prefixes', 'hub']), 'PullThroughCacheRuleNotFoundException');
    assert.equal(await awsError(['ecr', 'delete-pull-through-cache-rule', '--ecr-repository-prefix', 'hub']), 'PullThroughCacheRuleNotFoundException');
    assert.equal(
      await awsError(['ecr', 'create-pull-through-cache-rule', '--ecr-repository-prefix', 'Bad Prefix', '--upstream-registry-url', 'quay.io']),
      'InvalidParameterException',
    );

    await expectFailure(ecr.send(new StartReplicationBackfillCommand({ destination: { region: 'eu-west-1', registryId: account } })), 'ValidationException');
    await expectFailure(ecr.send(new StopReplicationBackfillCommand({ replicationBackfillId: 'b-1' })), 'ReplicationBackfillNotFoundException');
    assert.deepEqual((await ecr.send(new ListReplicationBackfillsCommand({}))).backfills, []);
    await expectFailure(ecr.send(new ListReplicationBackfillsCommand({ maxResults: 51 })), 'InvalidParameterException');
  });

  test('UpdateImageStorageClass: archive and restore, and what ECR refuses', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'stored' }));
    const img = memImage([{ 'c.txt': 'storage class' }]);
    await pushMemImage(b, 'stored', 'v1', img);
    await expectFailure(
      ecr.send(new UpdateImageStorageClassCommand({ repositoryName: 'stored', imageId: { imageDigest: img.digest }, targetStorageClass: 'STANDARD' })),
      'ImageStorageClassUpdateNotSupportedException',
      /already in the STANDARD storage class/,
    );
    await expectFailure(ecr.send(new UpdateImageStorageClassCommand({ repositoryName: 'stored', imageId: { imageTag: 'v9' }, targetStorageClass: 'ARCHIVE' })), 'ImageNotFoundException');
    await expectFailure(ecr.send(new UpdateImageStorageClassCommand({ repositoryName: 'stored', imageId: { imageTag: 'v1' }, targetStorageClass: 'GLACIER' as never })), 'InvalidParameterException');
    await expectFailure(ecr.send(new UpdateImageStorageClassCommand({ repositoryName: 'stored', imageId: {}, targetStorageClass: 'ARCHIVE' })), 'InvalidParameterException');
    const archived = await ecr.send(new UpdateImageStorageClassCommand({ repositoryName: 'stored', imageId: { imageTag: 'v1' }, targetStorageClass: 'ARCHIVE' }));
    assert.equal(archived.imageStatus, 'ARCHIVED');
    const refused = await ecr.send(new BatchGetImageCommand({ repositoryName: 'stored', imageIds: [{ imageTag: 'v1' }] }));
    assert.equal(refused.failures![0]!.failureCode, 'ImageNotFound');
    const restored = await ecr.send(new UpdateImageStorageClassCommand({ repositoryName: 'stored', imageId: { imageTag: 'v1' }, targetStorageClass: 'STANDARD' }));
    assert.equal(restored.imageStatus, 'ACTIVATING');
    // Once the restore job has run, the image is there and pullable again.
    const deadline = Date.now() + 15_000;
    let got = await ecr.send(new BatchGetImageCommand({ repositoryName: 'stored', imageIds: [{ imageTag: 'v1' }] }));
    while (!got.images?.length && Date.now() < deadline) {
      assert.match(got.failures![0]!.failureReason!, /being restored/);
      await new Promise((r) => setTimeout(r, 100));
      got = await ecr.send(new BatchGetImageCommand({ repositoryName: 'stored', imageIds: [{ imageTag: 'v1' }] }));
    }
    assert.equal(got.images![0]!.imageId!.imageDigest, img.digest);
  });

  test('the new operations are authorized: a read-only user may list but not change', async () => {
    const reader = await iamUser('reader', 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly');
    try {
      await expectFailure(reader.client.send(new CreateRepositoryCreationTemplateCommand({ prefix: 'denied', appliedFor: ['CREATE_ON_PUSH'] })), 'AccessDeniedException');
      await expectFailure(reader.client.send(new RegisterPullTimeUpdateExclusionCommand({ principalArn: `arn:aws:iam::${account}:user/reader` })), 'AccessDeniedException');
      await expectFailure(reader.client.send(new PutSigningConfigurationCommand({ signingConfiguration: { rules: [] } })), 'AccessDeniedException');
      await expectFailure(reader.client.send(new PutAccountSettingCommand({ name: 'BLOB_MOUNTING', value: 'DISABLED' })), 'AccessDeniedException');
      const prefixes = (await ecr.send(new DescribeRepositoryCreationTemplatesCommand({}))).repositoryCreationTemplates!.map((t) => t.prefix);
      assert.ok(!prefixes.includes('denied'));
      assert.equal((await ecr.send(new GetAccountSettingCommand({ name: 'BLOB_MOUNTING' }))).value, 'ENABLED');
    } finally {
      reader.client.destroy();
    }
  });

  describe('every operation of the installed @aws-sdk/client-ecr answers (none is UnknownOperationException)', () => {
    const commands = Object.keys(ecrSdk)
      .filter((k) => k.endsWith('Command') && k !== '$Command')
      .map((k) => k.slice(0, -'Command'.length))
      .sort();
    test('the SDK lists ECR’s operations', () => assert.ok(commands.length >= 58, `${commands.length} operations`));
    for (const name of commands) {
      test(name, async () => {
        const Command = (ecrSdk as unknown as Record<string, new (input: object) => Parameters<ECRClient['send']>[0]>)[`${name}Command`]!;
        try {
          await ecr.send(new Command({}));
        } catch (e) {
          const err = e as Error & { $metadata?: { httpStatusCode?: number } };
          assert.ok(err.$metadata?.httpStatusCode, `${name}: no answer from the server: ${err.message}`);
          assert.notEqual(err.name, 'UnknownOperationException', `${name}: ${err.message}`);
          assert.ok(err.$metadata.httpStatusCode < 500, `${name}: ${err.$metadata.httpStatusCode} ${err.name}: ${err.message}`);
        }
      });
    }
  });
});
