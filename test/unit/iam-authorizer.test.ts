import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EcrError } from '../../src/ecr/errors.js';
import { Authorizer } from '../../src/iam/authorizer.js';
import { IdentityStore } from '../../src/iam/identity-store.js';
import { MANAGED_POLICIES } from '../../src/iam/managed-policies.js';
import type { Principal } from '../../src/iam/principal.js';
import { MetadataStore } from '../../src/store/meta/metadata-store.js';
import { migrate } from '../../src/store/meta/migrations.js';
import { SqliteDb } from '../../src/store/meta/sqlite.js';

const A = '111111111111';
const B = '222222222222';
const repoArn = (account: string, name: string) => `arn:aws:ecr:us-east-1:${account}:repository/${name}`;
let dir: string;
let meta: MetadataStore;
let store: IdentityStore;
let authz: Authorizer;

async function user(account: string, name: string, ...policyArns: string[]): Promise<Principal> {
  const u = (await store.createUser(account, name))!;
  for (const arn of policyArns) await store.attachPolicy(account, 'user', name, arn);
  return { arn: u.arn, account, userName: name, anonymous: false };
}

async function denial(p: Principal, action: string, resource: string, context = {}): Promise<string> {
  try {
    await authz.authorize(p, action, resource, context);
  } catch (err) {
    assert.ok(err instanceof EcrError);
    assert.equal(err.type, 'AccessDeniedException');
    return err.message;
  }
  assert.fail(`${p.arn} was allowed ${action} on ${resource}`);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iam-authz-'));
  const db = new SqliteDb(join(dir, 'm.db'));
  await migrate(db);
  meta = new MetadataStore(db);
  store = new IdentityStore(meta);
  authz = new Authorizer(meta, store);
  for (const id of [A, B]) await store.createAccount(id, 'us-east-1');
  await meta.createRepository(A, 'app');
});

after(async () => {
  await meta.db.close();
  await rm(dir, { recursive: true, force: true });
});

test('ReadOnly may pull but not push, with AWS wording', async () => {
  const reader = await user(A, 'reader', MANAGED_POLICIES.AmazonEC2ContainerRegistryReadOnly.arn);
  await authz.authorize(reader, 'ecr:BatchGetImage', repoArn(A, 'app'));
  const msg = await denial(reader, 'ecr:PutImage', repoArn(A, 'app'));
  assert.equal(
    msg,
    `User: ${reader.arn} is not authorized to perform: ecr:PutImage on resource: ${repoArn(A, 'app')} because no identity-based policy allows the ecr:PutImage action`,
  );
});

test('group policies and customer managed policies count; a Deny in the repository policy wins', async () => {
  const dev = await user(A, 'dev');
  await store.createGroup(A, 'devs');
  await store.addUserToGroup(A, 'devs', 'dev');
  await denial(dev, 'ecr:PutImage', repoArn(A, 'app'));
  const policy = (await store.createPolicy(A, 'push', '/', '', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:*', Resource: '*' }] })))!;
  await store.attachPolicy(A, 'group', 'devs', policy.arn);
  authz.invalidate();
  await authz.authorize(dev, 'ecr:PutImage', repoArn(A, 'app'));

  const repo = (await meta.getRepository(A, 'app'))!;
  await meta.updateRepositorySettings(repo.id, () => ({
    policyText: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: { AWS: dev.arn }, Action: 'ecr:PutImage' }] }),
  }));
  authz.invalidate();
  const msg = await denial(dev, 'ecr:PutImage', repoArn(A, 'app'));
  assert.match(msg, /with an explicit deny in a resource-based policy$/);
  await authz.authorize(dev, 'ecr:BatchGetImage', repoArn(A, 'app'));
  await meta.updateRepositorySettings(repo.id, () => ({ policyText: undefined }));
  authz.invalidate();
});

test('cross-account access needs the identity policy and the repository policy', async () => {
  const outsider = await user(B, 'outsider', MANAGED_POLICIES.AmazonEC2ContainerRegistryReadOnly.arn);
  const msg = await denial(outsider, 'ecr:BatchGetImage', repoArn(A, 'app'));
  assert.match(msg, /because no resource-based policy allows the ecr:BatchGetImage action$/);
  const repo = (await meta.getRepository(A, 'app'))!;
  await meta.updateRepositorySettings(repo.id, () => ({
    policyText: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${B}:root` }, Action: ['ecr:BatchGetImage'] }] }),
  }));
  authz.invalidate();
  await authz.authorize(outsider, 'ecr:BatchGetImage', repoArn(A, 'app'));
  const bare = await user(B, 'bare');
  await denial(bare, 'ecr:BatchGetImage', repoArn(A, 'app'));
  await meta.updateRepositorySettings(repo.id, () => ({ policyText: undefined }));
  authz.invalidate();
});

test('anonymous callers pull only public repositories and never push', async () => {
  await meta.createRepository(A, 'pub', { public: true });
  const anon: Principal = { arn: '*', account: A, anonymous: true };
  await authz.authorize(anon, 'ecr:BatchGetImage', repoArn(A, 'pub'));
  await authz.authorize(anon, 'ecr:GetDownloadUrlForLayer', repoArn(A, 'pub'));
  await denial(anon, 'ecr:PutImage', repoArn(A, 'pub'));
  await denial(anon, 'ecr:DescribeRepositories', repoArn(A, 'pub'));
  await denial(anon, 'ecr:BatchGetImage', repoArn(A, 'app'));
});

test('repository tags are ecr:ResourceTag and aws:ResourceTag condition keys', async () => {
  await meta.createRepository(A, 'tagged', { tags: [{ Key: 'team', Value: 'blue' }] });
  await meta.createRepository(A, 'untagged');
  const blue = (await store.createUser(A, 'blue'))!;
  await store.putInlinePolicy(A, 'user', 'blue', 'team', JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'ecr:BatchGetImage', Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/team': 'blue' } } }],
  }));
  const p: Principal = { arn: blue.arn, account: A, userName: 'blue', anonymous: false };
  await authz.authorize(p, 'ecr:BatchGetImage', repoArn(A, 'tagged'));
  await denial(p, 'ecr:BatchGetImage', repoArn(A, 'untagged'));
});

test('an explicit identity Deny names the identity-based policy; aws:SourceIp conditions see the passed address', async () => {
  const ip = (await store.createUser(A, 'ip'))!;
  await store.putInlinePolicy(A, 'user', 'ip', 'p', JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'ecr:*', Resource: '*' },
      { Effect: 'Deny', Action: 'ecr:*', Resource: '*', Condition: { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } },
    ],
  }));
  const p: Principal = { arn: ip.arn, account: A, userName: 'ip', anonymous: false };
  await authz.authorize(p, 'ecr:PutImage', repoArn(A, 'app'), { 'aws:SourceIp': '10.1.2.3' });
  const msg = await denial(p, 'ecr:PutImage', repoArn(A, 'app'), { 'aws:SourceIp': '192.168.1.1' });
  assert.match(msg, /with an explicit deny in an identity-based policy$/);
});

test('policies are cached for authenticated callers until invalidated; anonymous callers always see the store', async () => {
  const outsider = await user(B, 'cache-outsider', MANAGED_POLICIES.AmazonEC2ContainerRegistryReadOnly.arn);
  const anonymous: Principal = { arn: '*', account: A, anonymous: true };
  await denial(outsider, 'ecr:BatchGetImage', repoArn(A, 'app'));
  await denial(anonymous, 'ecr:BatchGetImage', repoArn(A, 'app'));
  const repo = (await meta.getRepository(A, 'app'))!;
  await meta.updateRepositorySettings(repo.id, () => ({ public: true }));
  // A change made elsewhere: the anonymous decision follows at once; others after invalidate().
  await authz.authorize(anonymous, 'ecr:BatchGetImage', repoArn(A, 'app'));
  authz.invalidate();
  await authz.authorize(outsider, 'ecr:BatchGetImage', repoArn(A, 'app'));
  await meta.updateRepositorySettings(repo.id, () => ({ public: undefined }));
  authz.invalidate();
});
