// Identity and access end to end: the aws CLI (IAM, STS, ECR), skopeo and raw HTTP against a real
// server, with users whose policies allow some things and not others.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { ECRClient } from '@aws-sdk/client-ecr';
import { AWS } from '../helpers/aws-cli.js';
import { getLoginPassword, parseIni, REPO_ROOT, startBerth, type Berth } from '../helpers/berth.js';
import { buildImage, type LayoutImage } from '../helpers/images.js';
import { run, skopeo, tempDir, type RunResult } from '../helpers/tools.js';
import { readFile, writeFile } from 'node:fs/promises';

const OTHER_ACCOUNT = '123456789012';
const READ_ONLY = 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly';
const POWER_USER = 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser';

interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
}

describe('identity and access', { timeout: 300_000 }, () => {
  let b: Berth;
  let work: { path: string; remove: () => Promise<void> };
  let image: LayoutImage;
  let accountId: string;

  function aws(args: string[], credentialsFile = join(b.dataDir, 'admin-credentials'), check = true): Promise<RunResult> {
    return run(AWS, ['--profile', 'berth', '--endpoint-url', b.url, '--output', 'json', ...args], {
      env: { AWS_SHARED_CREDENTIALS_FILE: credentialsFile, AWS_CONFIG_FILE: '/dev/null', AWS_MAX_ATTEMPTS: '1', AWS_PAGER: '' },
      check,
      timeoutMs: 60_000,
    });
  }

  async function awsJson<T>(args: string[]): Promise<T> {
    return JSON.parse((await aws(args)).stdout) as T;
  }

  async function writeProfile(name: string, keys: Keys): Promise<string> {
    const file = join(work.path, `${name}.credentials`);
    await writeFile(file, `[berth]\naws_access_key_id = ${keys.accessKeyId}\naws_secret_access_key = ${keys.secretAccessKey}\nregion = us-east-1\n`, { mode: 0o600 });
    return file;
  }

  async function iamUser(name: string, policyArn?: string): Promise<Keys> {
    await aws(['iam', 'create-user', '--user-name', name]);
    if (policyArn) await aws(['iam', 'attach-user-policy', '--user-name', name, '--policy-arn', policyArn]);
    const out = await awsJson<{ AccessKey: { AccessKeyId: string; SecretAccessKey: string } }>(['iam', 'create-access-key', '--user-name', name]);
    return { accessKeyId: out.AccessKey.AccessKeyId, secretAccessKey: out.AccessKey.SecretAccessKey };
  }

  async function passwordFor(keys: Keys): Promise<string> {
    const ecr = new ECRClient({ endpoint: b.url, region: 'us-east-1', credentials: keys, maxAttempts: 1 });
    try {
      return await getLoginPassword(ecr);
    } finally {
      ecr.destroy();
    }
  }

  function push(password: string | undefined, repo: string, tag: string): Promise<RunResult> {
    const creds = password === undefined ? ['--dest-no-creds'] : ['--dest-creds', `AWS:${password}`];
    return skopeo(['copy', '--dest-tls-verify=false', ...creds, image.ref, `docker://${b.host}/${repo}:${tag}`], { check: false });
  }

  function inspect(password: string | undefined, repo: string, tag: string): Promise<RunResult> {
    const creds = password === undefined ? ['--no-creds'] : ['--creds', `AWS:${password}`];
    return skopeo(['inspect', '--raw', '--tls-verify=false', ...creds, `docker://${b.host}/${repo}:${tag}`], { check: false });
  }

  /** A raw /v2 request with an explicit Host header (node's fetch will not send one). */
  function v2(path: string, host: string, password?: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
    const url = new URL(path, b.url);
    const headers: Record<string, string> = { host, accept: 'application/vnd.oci.image.manifest.v1+json' };
    if (password !== undefined) headers.authorization = `Basic ${Buffer.from(`AWS:${password}`).toString('base64')}`;
    return new Promise((resolve, reject) => {
      const req = httpRequest({ hostname: url.hostname, port: url.port, path: url.pathname + url.search, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  function berthAdmin(args: string[]): Promise<RunResult> {
    return run(process.execPath, [join(REPO_ROOT, 'bin', 'berth.js'), 'admin', ...args, '--data-dir', b.dataDir]);
  }

  before(async () => {
    b = await startBerth();
    work = await tempDir('berth-access-');
    image = await buildImage({ layout: join(work.path, 'layout'), tag: 'v1', files: [{ path: '/etc/motd', content: 'access test\n' }] });
    await b.createRepository('app');
    const pushed = await push(b.password, 'app', 'v1');
    assert.equal(pushed.code, 0, pushed.stderr);
    accountId = (await awsJson<{ Account: string }>(['sts', 'get-caller-identity'])).Account;
  });

  after(async () => {
    await b?.destroy();
    await work?.remove();
  });

  test('the admin credentials file is a 0600 [berth] profile and STS names the administrator', async () => {
    const text = await readFile(join(b.dataDir, 'admin-credentials'), 'utf8');
    assert.ok(parseIni(text).berth?.aws_secret_access_key);
    const { stat } = await import('node:fs/promises');
    assert.equal((await stat(join(b.dataDir, 'admin-credentials'))).mode & 0o777, 0o600);
    const me = await awsJson<{ Arn: string; Account: string; UserId: string }>(['sts', 'get-caller-identity']);
    assert.match(me.Account, /^\d{12}$/);
    assert.equal(me.Arn, `arn:aws:iam::${me.Account}:user/admin`);
    assert.match(b.output(), /AWS_SHARED_CREDENTIALS_FILE=.*admin-credentials aws --profile berth --endpoint-url http:\/\/127\.0\.0\.1:\d+ ecr describe-repositories/);
  });

  test('/v2 without credentials answers 401 with the Basic challenge', async () => {
    const res = await fetch(`${b.url}/v2/`);
    await res.arrayBuffer();
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), `Basic realm="${b.url}/",service="ecr.amazonaws.com"`);
    const bad = await v2('/v2/app/manifests/v1', b.host, 'not-a-token');
    assert.equal(bad.status, 401);
  });

  test('IAM lists page with MaxItems and Marker; the aws CLI follows the markers', async () => {
    for (const name of ['page-a', 'page-b', 'page-c']) await aws(['iam', 'create-user', '--user-name', name]);
    const all = await awsJson<{ Users: Array<{ UserName: string }> }>(['iam', 'list-users']);
    const paged = await awsJson<{ Users: Array<{ UserName: string }> }>(['iam', 'list-users', '--page-size', '1']);
    assert.deepEqual(paged.Users.map((u) => u.UserName), all.Users.map((u) => u.UserName));
    assert.ok(all.Users.length >= 4, JSON.stringify(all));
    const first = await awsJson<{ Users: Array<{ UserName: string }>; NextToken?: string }>(['iam', 'list-users', '--max-items', '2']);
    assert.equal(first.Users.length, 2);
    assert.ok(first.NextToken, 'a truncated listing carries a token');
    const rest = await awsJson<{ Users: Array<{ UserName: string }> }>(['iam', 'list-users', '--starting-token', first.NextToken!]);
    assert.deepEqual([...first.Users, ...rest.Users].map((u) => u.UserName), all.Users.map((u) => u.UserName));
    const bad = await aws(['iam', 'list-users', '--page-size', '0'], undefined, false);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /ValidationError|maxItems|MaxItems/);
    for (const name of ['page-a', 'page-b', 'page-c']) await aws(['iam', 'delete-user', '--user-name', name]);
  });

  test('managed policy versions: create, list, switch the default (which decides access), delete', async () => {
    const allowDescribe = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:DescribeRepositories', Resource: '*' }] });
    const allowNothing = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:ListImages', Resource: '*' }] });
    const created = await awsJson<{ Policy: { Arn: string } }>(['iam', 'create-policy', '--policy-name', 'versioned', '--policy-document', allowDescribe]);
    const arn = created.Policy.Arn;
    const profile = await writeProfile('versioned', await iamUser('versioned-user', arn));
    const describe = () => aws(['ecr', 'describe-repositories'], profile, false);
    assert.equal((await describe()).code, 0, 'v1 allows DescribeRepositories');

    await aws(['iam', 'create-policy-version', '--policy-arn', arn, '--policy-document', allowNothing, '--set-as-default']);
    const listed = await awsJson<{ Versions: Array<{ VersionId: string; IsDefaultVersion: boolean }> }>(['iam', 'list-policy-versions', '--policy-arn', arn]);
    assert.deepEqual(listed.Versions.map((v) => [v.VersionId, v.IsDefaultVersion]).sort(), [['v1', false], ['v2', true]]);
    const denied = await describe();
    assert.notEqual(denied.code, 0, 'v2 no longer allows DescribeRepositories');
    assert.match(denied.stderr, /AccessDenied/);

    const conflict = await aws(['iam', 'delete-policy-version', '--policy-arn', arn, '--version-id', 'v2'], undefined, false);
    assert.match(conflict.stderr, /DeleteConflict/);
    const missing = await aws(['iam', 'set-default-policy-version', '--policy-arn', arn, '--version-id', 'v9'], undefined, false);
    assert.match(missing.stderr, /NoSuchEntity/);
    await aws(['iam', 'set-default-policy-version', '--policy-arn', arn, '--version-id', 'v1']);
    assert.equal((await describe()).code, 0, 'back on v1');
    await aws(['iam', 'delete-policy-version', '--policy-arn', arn, '--version-id', 'v2']);
    const after = await awsJson<{ Versions: Array<{ VersionId: string }> }>(['iam', 'list-policy-versions', '--policy-arn', arn]);
    assert.deepEqual(after.Versions.map((v) => v.VersionId), ['v1']);
  });

  test('groups through the aws CLI: members get the group\'s inline and managed policies; list-groups-for-user; delete needs it empty', async () => {
    const profile = await writeProfile('grouped', await iamUser('grouped-user'));
    const describe = () => aws(['ecr', 'describe-repositories'], profile, false);
    assert.match((await describe()).stderr, /AccessDenied/, 'no policy of its own');

    await aws(['iam', 'create-group', '--group-name', 'viewers']);
    await aws(['iam', 'create-group', '--group-name', 'others']);
    await aws(['iam', 'add-user-to-group', '--group-name', 'viewers', '--user-name', 'grouped-user']);
    const allowDescribe = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:DescribeRepositories', Resource: '*' }] });
    await aws(['iam', 'put-group-policy', '--group-name', 'viewers', '--policy-name', 'describe', '--policy-document', allowDescribe]);
    assert.equal((await describe()).code, 0, 'the group\'s inline policy allows it');

    const group = await awsJson<{ Group: { GroupName: string; Arn: string }; Users: Array<{ UserName: string }> }>(['iam', 'get-group', '--group-name', 'viewers']);
    assert.equal(group.Group.Arn, `arn:aws:iam::${accountId}:group/viewers`);
    assert.deepEqual(group.Users.map((u) => u.UserName), ['grouped-user']);
    const mine = await awsJson<{ Groups: Array<{ GroupName: string }> }>(['iam', 'list-groups-for-user', '--user-name', 'grouped-user']);
    assert.deepEqual(mine.Groups.map((g) => g.GroupName), ['viewers']);
    const missing = await aws(['iam', 'list-groups-for-user', '--user-name', 'nobody'], undefined, false);
    assert.match(missing.stderr, /NoSuchEntity/);

    const conflict = await aws(['iam', 'delete-group', '--group-name', 'viewers'], undefined, false);
    assert.match(conflict.stderr, /DeleteConflict/);
    await aws(['iam', 'delete-group-policy', '--group-name', 'viewers', '--policy-name', 'describe']);
    await aws(['iam', 'attach-group-policy', '--group-name', 'viewers', '--policy-arn', READ_ONLY]);
    assert.equal((await describe()).code, 0, 'the group\'s managed policy allows it');
    await aws(['iam', 'remove-user-from-group', '--group-name', 'viewers', '--user-name', 'grouped-user']);
    assert.match((await describe()).stderr, /AccessDenied/, 'out of the group, out of its policies');
    assert.deepEqual((await awsJson<{ Groups: unknown[] }>(['iam', 'list-groups-for-user', '--user-name', 'grouped-user'])).Groups, []);
    await aws(['iam', 'detach-group-policy', '--group-name', 'viewers', '--policy-arn', READ_ONLY]);
    await aws(['iam', 'delete-group', '--group-name', 'viewers']);
    await aws(['iam', 'delete-group', '--group-name', 'others']);
    assert.deepEqual((await awsJson<{ Groups: Array<{ GroupName: string }> }>(['iam', 'list-groups'])).Groups.filter((g) => g.GroupName === 'viewers'), []);
  });

  test('tag-based policies: aws:RequestTag and aws:TagKeys decide creating and tagging in ECR, KMS and EventBridge', async () => {
    await aws(['iam', 'create-user', '--user-name', 'tagger']);
    const policy = {
      Version: '2012-10-17',
      Statement: [
        // Creating needs the team tag set to infra.
        { Effect: 'Allow', Action: ['ecr:CreateRepository', 'kms:CreateKey', 'kms:TagResource', 'events:PutRule'], Resource: '*', Condition: { StringEquals: { 'aws:RequestTag/team': 'infra' } } },
        // Tagging may only set team and cost; untagging anything but team is allowed.
        { Effect: 'Allow', Action: ['ecr:TagResource', 'events:TagResource'], Resource: '*', Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team', 'cost'] } } },
        { Effect: 'Allow', Action: ['ecr:UntagResource', 'ecr:ListTagsForResource', 'kms:UntagResource'], Resource: '*' },
        { Effect: 'Deny', Action: ['ecr:UntagResource', 'kms:UntagResource'], Resource: '*', Condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['team'] } } },
      ],
    };
    await aws(['iam', 'put-user-policy', '--user-name', 'tagger', '--policy-name', 'tags', '--policy-document', JSON.stringify(policy)]);
    const out = await awsJson<{ AccessKey: { AccessKeyId: string; SecretAccessKey: string } }>(['iam', 'create-access-key', '--user-name', 'tagger']);
    const profile = await writeProfile('tagger', { accessKeyId: out.AccessKey.AccessKeyId, secretAccessKey: out.AccessKey.SecretAccessKey });
    const as = (args: string[]) => aws(args, profile, false);
    const denied = async (args: string[], why: string) => assert.match((await as(args)).stderr, /AccessDenied/, why);
    const allowed = async (args: string[], why: string) => {
      const res = await as(args);
      assert.equal(res.code, 0, `${why}: ${res.stderr}`);
      return res;
    };

    await denied(['ecr', 'create-repository', '--repository-name', 'tags/none'], 'no tags: the condition key is absent');
    await denied(['ecr', 'create-repository', '--repository-name', 'tags/other', '--tags', 'Key=team,Value=web'], 'the wrong team');
    const repo = JSON.parse((await allowed(['ecr', 'create-repository', '--repository-name', 'tags/infra', '--tags', 'Key=team,Value=infra'], 'the team tag')).stdout).repository.repositoryArn as string;
    await allowed(['ecr', 'tag-resource', '--resource-arn', repo, '--tags', 'Key=cost,Value=42'], 'cost is among the keys allowed');
    await denied(['ecr', 'tag-resource', '--resource-arn', repo, '--tags', 'Key=cost,Value=1', 'Key=owner,Value=me'], 'owner is not');
    await denied(['ecr', 'untag-resource', '--resource-arn', repo, '--tag-keys', 'cost', 'team'], 'removing team is denied');
    await allowed(['ecr', 'untag-resource', '--resource-arn', repo, '--tag-keys', 'cost'], 'removing cost is not');
    const tags = JSON.parse((await aws(['ecr', 'list-tags-for-resource', '--resource-arn', repo])).stdout).tags;
    assert.deepEqual(tags, [{ Key: 'team', Value: 'infra' }]);

    await denied(['kms', 'create-key'], 'a key without tags');
    const key = JSON.parse((await allowed(['kms', 'create-key', '--tags', 'TagKey=team,TagValue=infra'], 'a key with the team tag')).stdout).KeyMetadata.KeyId as string;
    await denied(['kms', 'untag-resource', '--key-id', key, '--tag-keys', 'team'], 'removing team from a key is denied');

    const pattern = JSON.stringify({ source: ['aws.ecr'] });
    await denied(['events', 'put-rule', '--name', 'untagged', '--event-pattern', pattern], 'a rule without tags');
    await denied(['events', 'put-rule', '--name', 'owned', '--event-pattern', pattern, '--tags', 'Key=team,Value=infra', 'Key=owner,Value=me'], 'TagResource allows only team and cost');
    const rule = JSON.parse((await allowed(['events', 'put-rule', '--name', 'tagged', '--event-pattern', pattern, '--tags', 'Key=team,Value=infra'], 'a rule with the team tag')).stdout).RuleArn as string;
    await denied(['events', 'tag-resource', '--resource-arn', rule, '--tags', 'Key=owner,Value=me'], 'owner is not among the keys allowed');
    await aws(['ecr', 'delete-repository', '--repository-name', 'tags/infra']);
  });

  test('a ReadOnly user pulls but is denied pushing (403 DENIED)', async () => {
    const keys = await iamUser('reader', READ_ONLY);
    const attached = await awsJson<{ AttachedPolicies: Array<{ PolicyArn: string }> }>(['iam', 'list-attached-user-policies', '--user-name', 'reader']);
    assert.deepEqual(attached.AttachedPolicies.map((p) => p.PolicyArn), [READ_ONLY]);
    const password = await passwordFor(keys);
    const pulled = await inspect(password, 'app', 'v1');
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal(pulled.stdout.trim(), image.manifest.toString('utf8').trim());
    const pushed = await push(password, 'app', 'reader');
    assert.notEqual(pushed.code, 0);
    assert.match(pushed.stderr, /403|denied/i);
    const raw = await fetch(`${b.url}/v2/app/blobs/uploads/`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`AWS:${password}`).toString('base64')}` } });
    const body = (await raw.json()) as { errors: Array<{ code: string; message: string }> };
    assert.equal(raw.status, 403);
    assert.equal(body.errors[0]!.code, 'DENIED');
    assert.match(body.errors[0]!.message, /is not authorized to perform: ecr:InitiateLayerUpload/);
    const ecrDenied = await aws(['ecr', 'delete-repository', '--repository-name', 'app'], await writeProfile('reader', keys), false);
    assert.notEqual(ecrDenied.code, 0);
    assert.match(ecrDenied.stderr, /AccessDeniedException.*user\/reader is not authorized to perform: ecr:DeleteRepository/);
  });

  test('a PowerUser pushes; a Deny in the repository policy overrides the identity Allow', async () => {
    const keys = await iamUser('power', POWER_USER);
    const password = await passwordFor(keys);
    const pushed = await push(password, 'app', 'power');
    assert.equal(pushed.code, 0, pushed.stderr);
    const userArn = `arn:aws:iam::${accountId}:user/power`;
    await aws(['ecr', 'set-repository-policy', '--repository-name', 'app', '--policy-text', JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Sid: 'NoPushForPower', Effect: 'Deny', Principal: { AWS: userArn }, Action: ['ecr:PutImage', 'ecr:InitiateLayerUpload'] }],
    })]);
    const denied = await push(password, 'app', 'power2');
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /403|denied/i);
    assert.equal((await inspect(password, 'app', 'power')).code, 0);
    await aws(['ecr', 'delete-repository-policy', '--repository-name', 'app']);
  });

  test('an inactive access key is refused', async () => {
    const keys = await iamUser('sleeper', READ_ONLY);
    const file = await writeProfile('sleeper', keys);
    assert.equal((await aws(['ecr', 'describe-repositories'], file)).code, 0);
    await aws(['iam', 'update-access-key', '--user-name', 'sleeper', '--access-key-id', keys.accessKeyId, '--status', 'Inactive']);
    const listed = await awsJson<{ AccessKeyMetadata: Array<{ Status: string }> }>(['iam', 'list-access-keys', '--user-name', 'sleeper']);
    assert.equal(listed.AccessKeyMetadata[0]!.Status, 'Inactive');
    const refused = await aws(['ecr', 'describe-repositories'], file, false);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /UnrecognizedClientException.*The security token included in the request is invalid/);
    const sts = await aws(['sts', 'get-caller-identity'], file, false);
    assert.match(sts.stderr, /InvalidClientTokenId/);
  });

  test('cross-account pull works only with both the identity policy and the repository policy', async () => {
    await berthAdmin(['account', 'create', '--id', OTHER_ACCOUNT]);
    await berthAdmin(['user', 'create', 'partner', '--account', OTHER_ACCOUNT, '--policy-arn', READ_ONLY]);
    await berthAdmin(['user', 'create', 'nobody', '--account', OTHER_ACCOUNT]);
    const keyOf = async (user: string): Promise<Keys> => {
      const file = join(work.path, `${user}.ini`);
      await berthAdmin(['access-key', 'create', user, '--account', OTHER_ACCOUNT, '--output', file, '--profile', 'berth']);
      const p = parseIni(await readFile(file, 'utf8')).berth!;
      return { accessKeyId: p.aws_access_key_id!, secretAccessKey: p.aws_secret_access_key! };
    };
    const partner = await passwordFor(await keyOf('partner'));
    // Without an identity policy, the other account's user cannot even log in to the registry.
    await assert.rejects(passwordFor(await keyOf('nobody')), /not authorized to perform: ecr:GetAuthorizationToken/);
    const host = `${accountId}.localhost:${new URL(b.url).port}`;

    const before = await v2('/v2/app/manifests/v1', host, partner);
    assert.equal(before.status, 403, before.body);
    assert.match(before.body, /DENIED/);
    // Without the account Host, the partner addresses its own (empty) registry.
    assert.equal((await v2('/v2/app/manifests/v1', b.host, partner)).status, 404);

    await aws(['ecr', 'set-repository-policy', '--repository-name', 'app', '--policy-text', JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Sid: 'Partner', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OTHER_ACCOUNT}:root` }, Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] }],
    })]);
    const allowed = await v2('/v2/app/manifests/v1', host, partner);
    assert.equal(allowed.status, 200, allowed.body);
    assert.equal(allowed.body, image.manifest.toString('utf8'));
    await aws(['ecr', 'delete-repository-policy', '--repository-name', 'app']);
  });

  test('anonymous callers pull a public repository, cannot push, and list nothing', async () => {
    await b.createRepository('pub');
    assert.equal((await push(b.password, 'pub', 'v1')).code, 0);
    const privateBefore = await inspect(undefined, 'pub', 'v1');
    assert.notEqual(privateBefore.code, 0, 'a private repository was readable anonymously');
    await berthAdmin(['repository', 'set-public', 'pub']);
    const pulled = await inspect(undefined, 'pub', 'v1');
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal(pulled.stdout.trim(), image.manifest.toString('utf8').trim());
    const pushed = await push(undefined, 'pub', 'anon');
    assert.notEqual(pushed.code, 0);
    assert.notEqual((await inspect(undefined, 'app', 'v1')).code, 0);
    const catalog = await v2('/v2/_catalog', b.host);
    assert.equal(catalog.status, 200, catalog.body);
    assert.deepEqual((JSON.parse(catalog.body) as { repositories: string[] }).repositories, []);
    const adminCatalog = await v2('/v2/_catalog', b.host, b.password);
    assert.deepEqual((JSON.parse(adminCatalog.body) as { repositories: string[] }).repositories, ['app', 'pub']);
    await berthAdmin(['repository', 'set-public', 'pub', '--off']);
    assert.notEqual((await inspect(undefined, 'pub', 'v1')).code, 0, 'private again at once');
  });

  test('IAM errors come back in AWS shapes', async () => {
    const dup = await aws(['iam', 'create-user', '--user-name', 'reader'], undefined, false);
    assert.match(dup.stderr, /EntityAlreadyExists.*User with name reader already exists/);
    const missing = await aws(['iam', 'get-user', '--user-name', 'ghost'], undefined, false);
    assert.match(missing.stderr, /NoSuchEntity/);
    const bad = await aws(['iam', 'put-user-policy', '--user-name', 'reader', '--policy-name', 'x', '--policy-document', '{"Statement":'], undefined, false);
    assert.match(bad.stderr, /MalformedPolicyDocument/);
    const conflict = await aws(['iam', 'delete-user', '--user-name', 'reader'], undefined, false);
    assert.match(conflict.stderr, /DeleteConflict/);
  });

  test('user and role tags: shown, changed, and read by policies as aws:PrincipalTag (ABAC with ${aws:PrincipalTag/team})', async () => {
    const created = await awsJson<{ User: { Tags?: unknown } }>(['iam', 'create-user', '--user-name', 'abac', '--tags', 'Key=team,Value=infra', 'Key=cost,Value=1']);
    assert.deepEqual(created.User.Tags, [{ Key: 'team', Value: 'infra' }, { Key: 'cost', Value: '1' }]);
    await aws(['iam', 'tag-user', '--user-name', 'abac', '--tags', 'Key=Cost,Value=2']);
    await aws(['iam', 'untag-user', '--user-name', 'abac', '--tag-keys', 'nothing']);
    const listed = await awsJson<{ Tags: Array<{ Key: string; Value: string }> }>(['iam', 'list-user-tags', '--user-name', 'abac']);
    assert.deepEqual(listed.Tags, [{ Key: 'team', Value: 'infra' }, { Key: 'Cost', Value: '2' }], 'keys compare without case: Cost replaced cost');
    const got = await awsJson<{ User: { Tags?: unknown } }>(['iam', 'get-user', '--user-name', 'abac']);
    assert.deepEqual(got.User.Tags, listed.Tags);
    const users = await awsJson<{ Users: Array<{ UserName: string; Tags?: unknown }> }>(['iam', 'list-users']);
    assert.equal(users.Users.find((u) => u.UserName === 'abac')?.Tags, undefined, 'ListUsers shows no tags, as IAM');
    assert.match((await aws(['iam', 'tag-user', '--user-name', 'abac', '--tags', 'Key=aws:x,Value=y'], undefined, false)).stderr, /InvalidInput/);
    const many = Array.from({ length: 49 }, (_, i) => `Key=k${i},Value=v`);
    assert.match((await aws(['iam', 'tag-user', '--user-name', 'abac', '--tags', ...many], undefined, false)).stderr, /LimitExceeded/);
    assert.match((await aws(['iam', 'tag-user', '--user-name', 'ghost', '--tags', 'Key=a,Value=b'], undefined, false)).stderr, /NoSuchEntity/);

    // The user may see repositories whose team tag is its own team, and nothing once its tag is gone.
    await aws(['iam', 'put-user-policy', '--user-name', 'abac', '--policy-name', 'team', '--policy-document', JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'ecr:DescribeRepositories', Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/team': '${aws:PrincipalTag/team}' } } }],
    })]);
    await aws(['ecr', 'create-repository', '--repository-name', 'abac/infra', '--tags', 'Key=team,Value=infra']);
    await aws(['ecr', 'create-repository', '--repository-name', 'abac/web', '--tags', 'Key=team,Value=web']);
    const key = await awsJson<{ AccessKey: { AccessKeyId: string; SecretAccessKey: string } }>(['iam', 'create-access-key', '--user-name', 'abac']);
    const profile = await writeProfile('abac', { accessKeyId: key.AccessKey.AccessKeyId, secretAccessKey: key.AccessKey.SecretAccessKey });
    const describe = (name: string) => aws(['ecr', 'describe-repositories', '--repository-names', name], profile, false);
    assert.equal((await describe('abac/infra')).code, 0, 'its own team');
    assert.match((await describe('abac/web')).stderr, /AccessDenied/, 'another team');
    await aws(['iam', 'untag-user', '--user-name', 'abac', '--tag-keys', 'TEAM']);
    assert.match((await describe('abac/infra')).stderr, /AccessDenied/, 'without the tag, at once');
    for (const repo of ['abac/infra', 'abac/web']) await aws(['ecr', 'delete-repository', '--repository-name', repo]);

    const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ecr.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
    await aws(['iam', 'create-role', '--role-name', 'tagged-role', '--assume-role-policy-document', trust, '--tags', 'Key=env,Value=lab']);
    await aws(['iam', 'tag-role', '--role-name', 'tagged-role', '--tags', 'Key=owner,Value=ops']);
    await aws(['iam', 'untag-role', '--role-name', 'tagged-role', '--tag-keys', 'env']);
    assert.deepEqual((await awsJson<{ Tags: unknown }>(['iam', 'list-role-tags', '--role-name', 'tagged-role'])).Tags, [{ Key: 'owner', Value: 'ops' }]);
    // A role's own tags are its aws:ResourceTag in IAM calls on it: a protected role cannot be changed.
    await aws(['iam', 'put-user-policy', '--user-name', 'abac', '--policy-name', 'roles', '--policy-document', JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'iam:UpdateRole', Resource: '*' },
        { Effect: 'Deny', Action: 'iam:UpdateRole', Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/owner': 'ops' } } },
      ],
    })]);
    assert.match((await aws(['iam', 'update-role', '--role-name', 'tagged-role', '--description', 'x'], profile, false)).stderr, /AccessDenied/);
    await aws(['iam', 'untag-role', '--role-name', 'tagged-role', '--tag-keys', 'owner']);
    assert.equal((await aws(['iam', 'update-role', '--role-name', 'tagged-role', '--description', 'x'], profile, false)).code, 0);
    await aws(['iam', 'delete-role', '--role-name', 'tagged-role']);
  });

  test('over plain HTTP, policies see aws:SecureTransport false: a Deny on insecure transport applies', async () => {
    await aws(['iam', 'create-user', '--user-name', 'insecure']);
    await aws(['iam', 'put-user-policy', '--user-name', 'insecure', '--policy-name', 'tls-only', '--policy-document', JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'ecr:*', Resource: '*' },
        { Effect: 'Deny', Action: '*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
      ],
    })]);
    const key = await awsJson<{ AccessKey: { AccessKeyId: string; SecretAccessKey: string } }>(['iam', 'create-access-key', '--user-name', 'insecure']);
    const profile = await writeProfile('insecure', { accessKeyId: key.AccessKey.AccessKeyId, secretAccessKey: key.AccessKey.SecretAccessKey });
    assert.match((await aws(['ecr', 'describe-repositories'], profile, false)).stderr, /AccessDenied/);
  });

  test('global condition keys: aws:RequestedRegion (a region lock lets calls in the served region through) and aws:PrincipalType', async () => {
    await aws(['iam', 'create-user', '--user-name', 'region-locked']);
    const lock = (regions: string[]) => JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'ecr:*', Resource: '*' },
        { Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringNotEquals: { 'aws:RequestedRegion': regions } } },
      ],
    });
    await aws(['iam', 'put-user-policy', '--user-name', 'region-locked', '--policy-name', 'lock', '--policy-document', lock(['us-east-1', 'eu-west-1'])]);
    const key = await awsJson<{ AccessKey: { AccessKeyId: string; SecretAccessKey: string } }>(['iam', 'create-access-key', '--user-name', 'region-locked']);
    const profile = await writeProfile('region-locked', { accessKeyId: key.AccessKey.AccessKeyId, secretAccessKey: key.AccessKey.SecretAccessKey });
    const describe = () => aws(['ecr', 'describe-repositories'], profile, false);
    assert.equal((await describe()).code, 0, 'us-east-1 is among the regions allowed');
    await aws(['iam', 'put-user-policy', '--user-name', 'region-locked', '--policy-name', 'lock', '--policy-document', lock(['eu-west-1'])]);
    assert.match((await describe()).stderr, /AccessDenied/, 'us-east-1 is not');
    await aws(['iam', 'put-user-policy', '--user-name', 'region-locked', '--policy-name', 'lock', '--policy-document', JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'ecr:*', Resource: '*' },
        { Effect: 'Deny', Action: 'ecr:DescribeRepositories', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalType': 'User' } } },
      ],
    })]);
    assert.match((await describe()).stderr, /AccessDenied/, 'an IAM user is of type User');
  });

  test('list-entities-for-policy: the groups, users and roles a managed policy is attached to, filtered and paged', async () => {
    const doc = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:DescribeRepositories', Resource: '*' }] });
    const policy = (await awsJson<{ Policy: { Arn: string } }>(['iam', 'create-policy', '--policy-name', 'entities', '--policy-document', doc])).Policy.Arn;
    const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ecr.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
    await aws(['iam', 'create-user', '--user-name', 'entity-user']);
    await aws(['iam', 'create-group', '--group-name', 'entity-group']);
    await aws(['iam', 'create-role', '--role-name', 'entity-role', '--assume-role-policy-document', trust]);
    await aws(['iam', 'attach-user-policy', '--user-name', 'entity-user', '--policy-arn', policy]);
    await aws(['iam', 'attach-group-policy', '--group-name', 'entity-group', '--policy-arn', policy]);
    await aws(['iam', 'attach-role-policy', '--role-name', 'entity-role', '--policy-arn', policy]);
    type Entities = { PolicyGroups: Array<{ GroupName: string }>; PolicyUsers: Array<{ UserName: string }>; PolicyRoles: Array<{ RoleName: string }> };
    const names = (e: Entities) => [...e.PolicyGroups.map((g) => g.GroupName), ...e.PolicyUsers.map((u) => u.UserName), ...e.PolicyRoles.map((r) => r.RoleName)];
    assert.deepEqual(names(await awsJson<Entities>(['iam', 'list-entities-for-policy', '--policy-arn', policy])), ['entity-group', 'entity-user', 'entity-role']);
    assert.deepEqual(names(await awsJson<Entities>(['iam', 'list-entities-for-policy', '--policy-arn', policy, '--entity-filter', 'User'])), ['entity-user']);
    assert.deepEqual(names(await awsJson<Entities>(['iam', 'list-entities-for-policy', '--policy-arn', policy, '--policy-usage-filter', 'PermissionsBoundary'])), []);
    const first = await awsJson<Entities & { IsTruncated: boolean; Marker?: string }>(['iam', 'list-entities-for-policy', '--policy-arn', policy, '--max-items', '2', '--no-paginate']);
    assert.deepEqual(names(first), ['entity-group', 'entity-user']);
    assert.equal(first.IsTruncated, true);
    const rest = await awsJson<Entities>(['iam', 'list-entities-for-policy', '--policy-arn', policy, '--no-paginate', '--marker', first.Marker!]);
    assert.deepEqual(names(rest), ['entity-role']);
    assert.match((await aws(['iam', 'list-entities-for-policy', '--policy-arn', `arn:aws:iam::${accountId}:policy/none`], undefined, false)).stderr, /NoSuchEntity/);
    for (const [kind, name] of [['user', 'entity-user'], ['group', 'entity-group'], ['role', 'entity-role']] as const) {
      await aws(['iam', `detach-${kind}-policy`, `--${kind}-name`, name, '--policy-arn', policy]);
    }
    assert.deepEqual(names(await awsJson<Entities>(['iam', 'list-entities-for-policy', '--policy-arn', policy])), []);
  });

  test('what IAM here would store and not honour is refused: user permissions boundaries, policy tags', async () => {
    const boundary = await aws(['iam', 'create-user', '--user-name', 'bounded', '--permissions-boundary', READ_ONLY, '--tags', 'Key=team,Value=infra'], undefined, false);
    assert.match(boundary.stderr, /InvalidInput.*Permissions boundaries are not supported/);
    assert.match((await aws(['iam', 'get-user', '--user-name', 'bounded'], undefined, false)).stderr, /NoSuchEntity/, 'a refused create leaves no user behind');
    const doc = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:DescribeRepositories', Resource: '*' }] });
    const policy = await aws(['iam', 'create-policy', '--policy-name', 'tagged-policy', '--policy-document', doc, '--tags', 'Key=team,Value=infra'], undefined, false);
    assert.match(policy.stderr, /InvalidInput.*Tags on managed policies are not supported/);
    await aws(['iam', 'create-policy', '--policy-name', 'usage-listed', '--policy-document', doc]);
    const names = async (filter: string) => (await awsJson<{ Policies: Array<{ PolicyName: string }> }>(['iam', 'list-policies', '--scope', 'Local', '--policy-usage-filter', filter])).Policies.map((p) => p.PolicyName);
    assert.ok((await names('PermissionsPolicy')).includes('usage-listed'));
    assert.deepEqual(await names('PermissionsBoundary'), [], 'no policy is used as a boundary here');
  });
});
