// IAM roles end to end: the real aws CLI v2 creates roles, trust policies and role policies; a
// repository creation template's custom role then decides whether a push may create a repository
// (skopeo, and a raw /v2 request for the OCI error).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  CreateRepositoryCreationTemplateCommand,
  DescribeRepositoriesCommand,
  ListTagsForResourceCommand,
  UpdateRepositoryCreationTemplateCommand,
  type ECRClient,
} from '@aws-sdk/client-ecr';
import { AWS, awsCliEnv } from '../helpers/aws-cli.js';
import { getLoginPassword, readAdminCredentials, startBerth, type AdminCredentials, type Berth } from '../helpers/berth.js';
import { buildImage, type LayoutImage } from '../helpers/images.js';
import { errorCodes, startUpload } from '../helpers/oci.js';
import { run, skopeo, skopeoCreds, tempDir, type RunResult } from '../helpers/tools.js';

const trust = (service: string) =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }] });
const allow = (actions: string[], resource = '*') => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: resource }] });

describe('IAM roles and the roles ECR assumes', { timeout: 300_000 }, () => {
  let b: Berth;
  let ecr: ECRClient;
  let work: { path: string; remove: () => Promise<void> };
  let env: Record<string, string>;
  let account: string;
  let password: string;
  let image: LayoutImage;
  let creds: AdminCredentials;

  const aws = (args: string[]): Promise<RunResult> => run(AWS, ['--endpoint-url', b.url, '--output', 'json', ...args], { env, check: false, timeoutMs: 60_000 });
  const awsJson = async <T = Record<string, any>>(args: string[]): Promise<T> => {
    const res = await aws(args);
    if (res.code !== 0) assert.fail(`aws ${args.join(' ')} exited ${res.code}: ${res.stderr}`);
    return JSON.parse(res.stdout || '{}') as T;
  };
  /** The error code of a call that must fail. */
  const awsError = async (args: string[]): Promise<string> => {
    const res = await aws(args);
    assert.notEqual(res.code, 0, `aws ${args.join(' ')} should have failed: ${res.stdout}`);
    return /An error occurred \((\w+)\)/.exec(res.stderr)?.[1] ?? res.stderr;
  };
  /** A signed IAM query call, for what the CLI would refuse before sending: the error code and status. */
  const query = async (params: Record<string, string>): Promise<{ status: number; code: string | undefined }> => {
    const url = new URL(b.url);
    const body = new URLSearchParams({ Version: '2010-05-08', ...params }).toString();
    const headers = { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };
    const signer = new SignatureV4({ service: 'iam', region: creds.region ?? 'us-east-1', credentials: creds, sha256: Sha256 });
    const signed = await signer.sign({ method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: '/', headers, body });
    const { host: _host, ...sendable } = signed.headers;
    const res = await fetch(`${b.url}/`, { method: 'POST', headers: sendable, body });
    return { status: res.status, code: /<Code>(\w+)<\/Code>/.exec(await res.text())?.[1] };
  };
  const push = (repo: string, tag: string) =>
    skopeo(['copy', '--dest-tls-verify=false', ...skopeoCreds('--dest-creds', password), image.ref, `docker://${b.host}/${repo}:${tag}`], { check: false });
  const repositoryExists = async (name: string) => {
    try {
      await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [name] }));
      return true;
    } catch (e) {
      assert.equal((e as Error).name, 'RepositoryNotFoundException');
      return false;
    }
  };

  before(async () => {
    b = await startBerth();
    ecr = b.ecr!;
    work = await tempDir('iam-roles');
    password = await getLoginPassword(ecr);
    creds = (await readAdminCredentials(b.dataDir))!;
    env = await awsCliEnv(creds);
    account = (await awsJson<{ Account: string }>(['sts', 'get-caller-identity'])).Account;
    image = await buildImage({ layout: join(work.path, 'src'), tag: 'v1', files: [{ path: '/etc/motd', content: 'made by a role\n' }] });
  });

  after(async () => {
    await b?.destroy();
    await work?.remove();
  });

  test('roles through the aws CLI: create, get, list (paged), update, trust policy, inline and managed policies, delete', async () => {
    const created = (
      await awsJson([
        'iam', 'create-role', '--role-name', 'builder', '--path', '/ci/', '--description', 'builds things',
        '--max-session-duration', '7200', '--assume-role-policy-document', trust('ecr.amazonaws.com'), '--tags', 'Key=team,Value=platform',
      ])
    ).Role;
    assert.equal(created.Arn, `arn:aws:iam::${account}:role/ci/builder`);
    assert.match(created.RoleId, /^AROA[A-Z2-7]{17}$/);
    assert.equal(created.Path, '/ci/');
    assert.equal(created.MaxSessionDuration, 7200);
    assert.deepEqual(created.AssumeRolePolicyDocument, JSON.parse(trust('ecr.amazonaws.com')), 'the CLI decodes the trust policy');
    assert.deepEqual(created.Tags, [{ Key: 'team', Value: 'platform' }]);

    const got = (await awsJson(['iam', 'get-role', '--role-name', 'builder'])).Role;
    assert.equal(got.RoleId, created.RoleId);
    assert.equal(got.Description, 'builds things');
    await awsJson(['iam', 'create-role', '--role-name', 'deployer', '--assume-role-policy-document', trust('events.amazonaws.com')]);
    const third = (await awsJson(['iam', 'create-role', '--role-name', 'auditor', '--assume-role-policy-document', trust('ecr.amazonaws.com')])).Role;
    assert.equal(third.MaxSessionDuration, 3600, 'IAM\'s default session duration');
    const listed = await awsJson(['iam', 'list-roles', '--page-size', '1']);
    assert.deepEqual(listed.Roles.map((r: { RoleName: string }) => r.RoleName), ['auditor', 'builder', 'deployer'], 'the CLI follows the markers of one-item pages');
    assert.deepEqual((await awsJson(['iam', 'list-roles', '--path-prefix', '/ci/'])).Roles.map((r: { RoleName: string }) => r.RoleName), ['builder']);

    assert.equal(await awsError(['iam', 'create-role', '--role-name', 'BUILDER', '--assume-role-policy-document', trust('ecr.amazonaws.com')]), 'EntityAlreadyExists');
    assert.equal(await awsError(['iam', 'create-role', '--role-name', 'x', '--assume-role-policy-document', allow(['ecr:*'])]), 'MalformedPolicyDocument', 'a trust policy names principals');
    assert.equal(
      await awsError(['iam', 'create-role', '--role-name', 'x', '--assume-role-policy-document', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ecr.amazonaws.com' }, Action: 'ecr:CreateRepository' }] })]),
      'MalformedPolicyDocument',
      'a trust policy grants only STS actions',
    );
    assert.equal(await awsError(['iam', 'create-role', '--role-name', 'x', '--assume-role-policy-document', '{not json']), 'MalformedPolicyDocument');
    const create = (extra: Record<string, string>) => query({ Action: 'CreateRole', RoleName: 'x', AssumeRolePolicyDocument: trust('ecr.amazonaws.com'), ...extra });
    assert.deepEqual(await create({ MaxSessionDuration: '60' }), { status: 400, code: 'ValidationError' });
    assert.deepEqual(await create({ MaxSessionDuration: '43201' }), { status: 400, code: 'ValidationError' });
    assert.deepEqual(await create({ RoleName: 'r'.repeat(65) }), { status: 400, code: 'ValidationError' });
    assert.deepEqual(await create({ RoleName: 'bad name' }), { status: 400, code: 'ValidationError' });
    assert.deepEqual(await create({ AssumeRolePolicyDocument: '' }), { status: 400, code: 'ValidationError' });
    assert.deepEqual(await create({ Path: 'no-slashes' }), { status: 400, code: 'ValidationError' });
    assert.deepEqual(await create({ 'Tags.member.1.Key': 'a', 'Tags.member.1.Value': '1', 'Tags.member.2.Key': 'A', 'Tags.member.2.Value': '2' }), { status: 400, code: 'InvalidInput' });
    assert.deepEqual(await create({ PermissionsBoundary: `arn:aws:iam::${account}:policy/boundary` }), { status: 400, code: 'InvalidInput' }, 'a boundary berth would not enforce is refused');
    assert.equal(await awsError(['iam', 'get-role', '--role-name', 'nobody']), 'NoSuchEntity');
    assert.equal((await awsJson(['iam', 'list-roles'])).Roles.length, 3, 'nothing refused was stored');

    await awsJson(['iam', 'update-role', '--role-name', 'builder', '--description', 'builds more', '--max-session-duration', '3600']);
    await awsJson(['iam', 'update-assume-role-policy', '--role-name', 'builder', '--policy-document', trust('events.amazonaws.com')]);
    const updated = (await awsJson(['iam', 'get-role', '--role-name', 'builder'])).Role;
    assert.equal(updated.Description, 'builds more');
    assert.equal(updated.MaxSessionDuration, 3600);
    assert.deepEqual(updated.AssumeRolePolicyDocument, JSON.parse(trust('events.amazonaws.com')));
    assert.equal(await awsError(['iam', 'update-assume-role-policy', '--role-name', 'builder', '--policy-document', allow(['sts:AssumeRole'])]), 'MalformedPolicyDocument');

    await awsJson(['iam', 'put-role-policy', '--role-name', 'builder', '--policy-name', 'create', '--policy-document', allow(['ecr:CreateRepository'])]);
    assert.deepEqual((await awsJson(['iam', 'list-role-policies', '--role-name', 'builder'])).PolicyNames, ['create']);
    assert.deepEqual((await awsJson(['iam', 'get-role-policy', '--role-name', 'builder', '--policy-name', 'create'])).PolicyDocument, JSON.parse(allow(['ecr:CreateRepository'])));
    const readOnly = 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly';
    await awsJson(['iam', 'attach-role-policy', '--role-name', 'builder', '--policy-arn', readOnly]);
    assert.deepEqual((await awsJson(['iam', 'list-attached-role-policies', '--role-name', 'builder'])).AttachedPolicies, [{ PolicyName: 'AmazonEC2ContainerRegistryReadOnly', PolicyArn: readOnly }]);
    assert.equal(await awsError(['iam', 'attach-role-policy', '--role-name', 'builder', '--policy-arn', `arn:aws:iam::${account}:policy/none`]), 'NoSuchEntity');
    assert.equal(await awsError(['iam', 'put-role-policy', '--role-name', 'nobody', '--policy-name', 'p', '--policy-document', allow(['ecr:*'])]), 'NoSuchEntity');

    assert.equal(await awsError(['iam', 'delete-role', '--role-name', 'builder']), 'DeleteConflict');
    await awsJson(['iam', 'detach-role-policy', '--role-name', 'builder', '--policy-arn', readOnly]);
    assert.equal(await awsError(['iam', 'delete-role', '--role-name', 'builder']), 'DeleteConflict', 'the inline policy is still there');
    await awsJson(['iam', 'delete-role-policy', '--role-name', 'builder', '--policy-name', 'create']);
    assert.equal(await awsError(['iam', 'delete-role-policy', '--role-name', 'builder', '--policy-name', 'create']), 'NoSuchEntity');
    await awsJson(['iam', 'delete-role', '--role-name', 'builder']);
    assert.equal(await awsError(['iam', 'get-role', '--role-name', 'builder']), 'NoSuchEntity');
  });

  test('managing roles needs iam:* permissions, like users', async () => {
    await awsJson(['iam', 'create-user', '--user-name', 'reader']);
    await awsJson(['iam', 'attach-user-policy', '--user-name', 'reader', '--policy-arn', 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly']);
    const key = (await awsJson(['iam', 'create-access-key', '--user-name', 'reader'])).AccessKey;
    const asReader = (args: string[]) =>
      run(AWS, ['--endpoint-url', b.url, '--output', 'json', ...args], { env: { ...env, AWS_ACCESS_KEY_ID: key.AccessKeyId, AWS_SECRET_ACCESS_KEY: key.SecretAccessKey }, check: false, timeoutMs: 60_000 });
    const denied = await asReader(['iam', 'create-role', '--role-name', 'sneaky', '--assume-role-policy-document', trust('ecr.amazonaws.com')]);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /AccessDenied.*iam:CreateRole/);
    assert.equal(await awsError(['iam', 'get-role', '--role-name', 'sneaky']), 'NoSuchEntity');
    const putPolicy = await asReader(['iam', 'put-role-policy', '--role-name', 'auditor', '--policy-name', 'p', '--policy-document', allow(['ecr:*'])]);
    assert.match(putPolicy.stderr, /AccessDenied.*iam:PutRolePolicy/);
  });

  test('a template\'s custom role must exist, and must let ECR create and tag the repository on a push', async () => {
    const roleArn = `arn:aws:iam::${account}:role/ecr-templates`;
    const missing = await ecr
      .send(new CreateRepositoryCreationTemplateCommand({ prefix: 'tagged', appliedFor: ['CREATE_ON_PUSH'], resourceTags: [{ Key: 'team', Value: 'a' }], customRoleArn: roleArn }))
      .then(() => undefined, (e: Error) => e);
    assert.equal(missing?.name, 'InvalidParameterException');
    assert.match(missing!.message, /customRoleArn/);

    await awsJson(['iam', 'create-role', '--role-name', 'ecr-templates', '--assume-role-policy-document', trust('ecr.amazonaws.com')]);
    await awsJson(['iam', 'put-role-policy', '--role-name', 'ecr-templates', '--policy-name', 'tag-only', '--policy-document', allow(['ecr:TagResource'])]);
    await ecr.send(new CreateRepositoryCreationTemplateCommand({ prefix: 'tagged', appliedFor: ['CREATE_ON_PUSH'], resourceTags: [{ Key: 'team', Value: 'a' }], customRoleArn: roleArn }));

    // The role lacks ecr:CreateRepository: the push is refused, on /v2 as DENIED naming the role, and nothing is created.
    assert.notEqual((await push('tagged/app', 'v1')).code, 0, 'skopeo cannot push');
    const upload = await startUpload(b, 'tagged/app');
    assert.equal(upload.status, 403, upload.describe());
    assert.deepEqual(errorCodes(upload), ['DENIED']);
    assert.match(upload.json<{ errors: Array<{ message: string }> }>().errors[0]!.message, /role\/ecr-templates may not perform ecr:CreateRepository/);
    assert.equal(await repositoryExists('tagged/app'), false);

    // Allowed to create but not to tag: still refused.
    await awsJson(['iam', 'put-role-policy', '--role-name', 'ecr-templates', '--policy-name', 'tag-only', '--policy-document', allow(['ecr:CreateRepository'])]);
    assert.notEqual((await push('tagged/app', 'v1')).code, 0, 'tagging is needed too');
    assert.equal(await repositoryExists('tagged/app'), false);

    // A trust policy for another service: refused whatever the permissions.
    await awsJson(['iam', 'put-role-policy', '--role-name', 'ecr-templates', '--policy-name', 'tag-only', '--policy-document', allow(['ecr:CreateRepository', 'ecr:TagResource'])]);
    await awsJson(['iam', 'update-assume-role-policy', '--role-name', 'ecr-templates', '--policy-document', trust('events.amazonaws.com')]);
    const untrusted = await startUpload(b, 'tagged/app');
    assert.equal(untrusted.status, 403, untrusted.describe());
    assert.match(untrusted.body.toString(), /trust policy/);
    assert.equal(await repositoryExists('tagged/app'), false);

    // Trusted and permitted: the push creates the repository with the template's tags.
    await awsJson(['iam', 'update-assume-role-policy', '--role-name', 'ecr-templates', '--policy-document', trust('ecr.amazonaws.com')]);
    const pushed = await push('tagged/app', 'v1');
    assert.equal(pushed.code, 0, pushed.stderr);
    const repo = (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['tagged/app'] }))).repositories![0]!;
    assert.deepEqual((await ecr.send(new ListTagsForResourceCommand({ resourceArn: repo.repositoryArn }))).tags, [{ Key: 'team', Value: 'a' }]);
  });

  test('a template with KMS encryption: a push creates the repository with the key only if the role may use it (kms:DescribeKey, kms:CreateGrant)', async () => {
    const keyArn = (await awsJson(['kms', 'create-key', '--description', 'for templated repositories'])).KeyMetadata.Arn as string;
    await awsJson(['iam', 'create-role', '--role-name', 'kms-creator', '--assume-role-policy-document', trust('ecr.amazonaws.com')]);
    await awsJson(['iam', 'put-role-policy', '--role-name', 'kms-creator', '--policy-name', 'ecr', '--policy-document', allow(['ecr:CreateRepository'])]);
    const roleArn = `arn:aws:iam::${account}:role/kms-creator`;
    const created = await ecr.send(
      new CreateRepositoryCreationTemplateCommand({ prefix: 'sealed', appliedFor: ['CREATE_ON_PUSH'], encryptionConfiguration: { encryptionType: 'KMS', kmsKey: keyArn }, customRoleArn: roleArn }),
    );
    assert.deepEqual(created.repositoryCreationTemplate?.encryptionConfiguration, { encryptionType: 'KMS', kmsKey: keyArn });

    // The role may create repositories but not use the key: the push is refused, naming the KMS action, and nothing is created.
    assert.notEqual((await push('sealed/app', 'v1')).code, 0, 'skopeo cannot push');
    const upload = await startUpload(b, 'sealed/app');
    assert.equal(upload.status, 403, upload.describe());
    assert.deepEqual(errorCodes(upload), ['DENIED']);
    assert.match(upload.json<{ errors: Array<{ message: string }> }>().errors[0]!.message, /role\/kms-creator may not perform kms:DescribeKey on arn:aws:kms:/);
    assert.equal(await repositoryExists('sealed/app'), false);

    // Allowed on that key: the push creates a repository encrypted with it.
    await awsJson(['iam', 'put-role-policy', '--role-name', 'kms-creator', '--policy-name', 'kms', '--policy-document', allow(['kms:DescribeKey', 'kms:CreateGrant'], keyArn)]);
    const pushed = await push('sealed/app', 'v1');
    assert.equal(pushed.code, 0, pushed.stderr);
    const repo = (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['sealed/app'] }))).repositories![0]!;
    assert.deepEqual(repo.encryptionConfiguration, { encryptionType: 'KMS', kmsKey: keyArn });
    const cli = await awsJson(['ecr', 'describe-repositories', '--repository-names', 'sealed/app']);
    assert.equal(cli.repositories[0].encryptionConfiguration.kmsKey, keyArn);
  });

  test('a custom role on a template without tags is assumed too; updating to a missing role is refused', async () => {
    await awsJson(['iam', 'create-role', '--role-name', 'plain-creator', '--assume-role-policy-document', trust('ecr.amazonaws.com')]);
    const roleArn = `arn:aws:iam::${account}:role/plain-creator`;
    await ecr.send(new CreateRepositoryCreationTemplateCommand({ prefix: 'plain', appliedFor: ['CREATE_ON_PUSH'], customRoleArn: roleArn }));
    assert.notEqual((await push('plain/app', 'v1')).code, 0, 'a role without permissions creates nothing');
    assert.equal(await repositoryExists('plain/app'), false);
    await awsJson(['iam', 'put-role-policy', '--role-name', 'plain-creator', '--policy-name', 'create', '--policy-document', allow(['ecr:CreateRepository'], `arn:aws:ecr:*:${account}:repository/plain/*`)]);
    const pushed = await push('plain/app', 'v1');
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.equal(await repositoryExists('plain/app'), true);

    const refused = await ecr
      .send(new UpdateRepositoryCreationTemplateCommand({ prefix: 'plain', customRoleArn: `arn:aws:iam::${account}:role/gone` }))
      .then(() => undefined, (e: Error) => e);
    assert.equal(refused?.name, 'InvalidParameterException');
    assert.match(refused!.message, /customRoleArn/);
  });
});
