import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Principal } from '../../src/iam/auth/principal.js';
import { Authorizer, type ResourcePolicySource } from '../../src/iam/authorizer.js';
import type { AuthzContext } from '../../src/iam/identity.js';
import { IdentityDirectory } from '../../src/iam/identity/directory.js';
import { MANAGED_POLICIES } from '../../src/policy/managed-policies.js';
import { IdentityStore } from '../../src/store/meta/identity-store.js';
import { MetadataStore } from '../../src/store/meta/metadata-store.js';
import { migrate } from '../../src/store/meta/migrations.js';
import { SqliteDb } from '../../src/store/meta/sqlite.js';
import { FsBlobStore } from '../../src/store/blob/fs-blob-store.js';
import { Registry } from '../../src/domain/registry/registry.js';
import { resourcePolicies } from '../../src/wiring.js';

const A = '111111111111';
const B = '222222222222';
const repoArn = (account: string, name: string) => `arn:aws:ecr:us-east-1:${account}:repository/${name}`;
let dir: string;
let meta: MetadataStore;
let store: IdentityDirectory;
let authz: Authorizer;

async function user(account: string, name: string, ...policyArns: string[]): Promise<Principal> {
  const u = (await store.createUser(account, name))!;
  for (const arn of policyArns) await store.attachPolicy(account, 'user', name, arn);
  return { arn: u.arn, account, userName: name, anonymous: false };
}

async function allows(p: Principal, action: string, resource: string, context: AuthzContext = {}): Promise<void> {
  const decision = await authz.authorize(p, action, resource, context);
  assert.ok(decision.allowed, `${p.arn} was denied ${action} on ${resource}: ${decision.allowed ? '' : decision.message}`);
}

async function denial(p: Principal, action: string, resource: string, context: AuthzContext = {}): Promise<string> {
  const decision = await authz.authorize(p, action, resource, context);
  if (decision.allowed) assert.fail(`${p.arn} was allowed ${action} on ${resource}`);
  return decision.message;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iam-authz-'));
  const db = new SqliteDb(join(dir, 'm.db'));
  await migrate(db);
  meta = new MetadataStore(db);
  store = new IdentityDirectory(new IdentityStore(db));
  authz = new Authorizer(store, resourcePolicies(new Registry(meta, new FsBlobStore(dir))));
  for (const id of [A, B]) await store.createAccount(id, 'us-east-1');
  await meta.createRepository(A, 'app');
});

after(async () => {
  await meta.close();
  await rm(dir, { recursive: true, force: true });
});

test('ReadOnly may pull but not push, with AWS wording', async () => {
  const reader = await user(A, 'reader', MANAGED_POLICIES.AmazonEC2ContainerRegistryReadOnly.arn);
  await allows(reader, 'ecr:BatchGetImage', repoArn(A, 'app'));
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
  await allows(dev, 'ecr:PutImage', repoArn(A, 'app'));

  const repo = (await meta.getRepository(A, 'app'))!;
  await meta.updateRepositorySettings(repo.id, () => ({
    policyText: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: { AWS: dev.arn }, Action: 'ecr:PutImage' }] }),
  }));
  authz.invalidate();
  const msg = await denial(dev, 'ecr:PutImage', repoArn(A, 'app'));
  assert.match(msg, /with an explicit deny in a resource-based policy$/);
  await allows(dev, 'ecr:BatchGetImage', repoArn(A, 'app'));
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
  await allows(outsider, 'ecr:BatchGetImage', repoArn(A, 'app'));
  const bare = await user(B, 'bare');
  await denial(bare, 'ecr:BatchGetImage', repoArn(A, 'app'));
  await meta.updateRepositorySettings(repo.id, () => ({ policyText: undefined }));
  authz.invalidate();
});

test('anonymous callers pull only public repositories and never push', async () => {
  await meta.createRepository(A, 'pub', { public: true });
  const anon: Principal = { arn: '*', account: A, anonymous: true };
  await allows(anon, 'ecr:BatchGetImage', repoArn(A, 'pub'));
  await allows(anon, 'ecr:GetDownloadUrlForLayer', repoArn(A, 'pub'));
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
  await allows(p, 'ecr:BatchGetImage', repoArn(A, 'tagged'));
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
  await allows(p, 'ecr:PutImage', repoArn(A, 'app'), { 'aws:SourceIp': '10.1.2.3' });
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
  await allows(anonymous, 'ecr:BatchGetImage', repoArn(A, 'app'));
  authz.invalidate();
  await allows(outsider, 'ecr:BatchGetImage', repoArn(A, 'app'));
  await meta.updateRepositorySettings(repo.id, () => ({ public: undefined }));
  authz.invalidate();
});

test('a decision says allowed, or denied with whether a statement denied it and AWS wording', async () => {
  const d = (await store.createUser(A, 'decided'))!;
  await store.putInlinePolicy(A, 'user', 'decided', 'p', JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'ecr:BatchGetImage', Resource: '*' },
      { Effect: 'Deny', Action: 'ecr:DeleteRepository', Resource: '*' },
    ],
  }));
  const p: Principal = { arn: d.arn, account: A, userName: 'decided', anonymous: false };
  assert.deepEqual(await authz.authorize(p, 'ecr:BatchGetImage', repoArn(A, 'app')), { allowed: true });

  const implicit = await authz.authorize(p, 'ecr:PutImage', repoArn(A, 'app'));
  assert.equal(implicit.allowed, false);
  assert.ok(!implicit.allowed);
  assert.equal(implicit.explicit, false);
  assert.equal(implicit.message, `User: ${d.arn} is not authorized to perform: ecr:PutImage on resource: ${repoArn(A, 'app')} because no identity-based policy allows the ecr:PutImage action`);
  assert.ok(implicit.reason.length > 0);

  const explicit = await authz.authorize(p, 'ecr:DeleteRepository', repoArn(A, 'app'));
  assert.ok(!explicit.allowed);
  assert.equal(explicit.explicit, true);
  assert.equal(explicit.message, `User: ${d.arn} is not authorized to perform: ecr:DeleteRepository on resource: ${repoArn(A, 'app')} with an explicit deny in an identity-based policy`);

  const anonymous = await authz.authorize({ arn: '*', account: A, anonymous: true }, 'ecr:PutImage', repoArn(A, 'app'));
  assert.ok(!anonymous.allowed);
  assert.match(anonymous.message, /^User: anonymous is not authorized to perform: ecr:PutImage/);
});

test('resource policies come through the port: cached 2 s for authenticated callers, read every time for anonymous ones', async () => {
  const reads: string[] = [];
  const source: ResourcePolicySource = {
    async repository(registryId, name) {
      reads.push(`repository ${registryId}/${name}`);
      return { public: name === 'open', tags: [] };
    },
    async registryPolicy(accountId) {
      reads.push(`registry ${accountId}`);
      return undefined;
    },
  };
  const ported = new Authorizer(store, source);
  const admin = (await store.createUser(A, 'port-admin'))!;
  await store.putInlinePolicy(A, 'user', 'port-admin', 'all', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }));
  const p: Principal = { arn: admin.arn, account: A, userName: 'port-admin', anonymous: false };
  const anonymous: Principal = { arn: '*', account: A, anonymous: true };

  assert.equal((await ported.authorize(p, 'ecr:PutImage', repoArn(A, 'closed'))).allowed, true);
  assert.equal((await ported.authorize(p, 'ecr:PutImage', repoArn(A, 'closed'))).allowed, true);
  assert.deepEqual(reads, [`repository ${A}/closed`, `registry ${A}`]);

  assert.equal((await ported.authorize(anonymous, 'ecr:BatchGetImage', repoArn(A, 'open'))).allowed, true);
  assert.equal((await ported.authorize(anonymous, 'ecr:BatchGetImage', repoArn(A, 'open'))).allowed, true);
  assert.equal((await ported.authorize(anonymous, 'ecr:BatchGetImage', repoArn(A, 'closed'))).allowed, false);
  assert.equal(reads.filter((r) => r === `repository ${A}/open`).length, 2);

  ported.invalidate();
  await ported.authorize(p, 'ecr:PutImage', repoArn(A, 'closed'));
  assert.equal(reads.filter((r) => r === `repository ${A}/closed`).length, 3);
});

test('ECR Public: ecr-public actions on public repository ARNs; anyone pulls; ecr:* grants none of it', async () => {
  const registry = new Registry(meta, new FsBlobStore(dir));
  await registry.publicRegistries.createRepository(A, 'app', {}, []);
  const publicArn = `arn:aws:ecr-public::${A}:repository/app`;
  const anonymous: Principal = { arn: '*', account: A, anonymous: true };
  await allows(anonymous, 'ecr-public:BatchGetImage', publicArn);
  await allows(anonymous, 'ecr-public:GetDownloadUrlForLayer', publicArn);
  await denial(anonymous, 'ecr-public:PutImage', publicArn);
  // The private repository of the same name is still private.
  await denial(anonymous, 'ecr:BatchGetImage', repoArn(A, 'app'));

  const power = await user(A, 'public-power', MANAGED_POLICIES.AmazonElasticContainerRegistryPublicPowerUser.arn);
  await allows(power, 'ecr-public:PutImage', publicArn);
  await allows(power, 'sts:GetServiceBearerToken', '*');
  await denial(power, 'ecr-public:DeleteRepository', publicArn);
  await denial(power, 'ecr:PutImage', repoArn(A, 'app'));
  const privateAdmin = await user(A, 'private-admin', MANAGED_POLICIES.AmazonEC2ContainerRegistryFullAccess.arn);
  await denial(privateAdmin, 'ecr-public:PutImage', publicArn);

  // A public repository's policy lets another account push; the registry policy (private ECR's) does not apply.
  const partner = await user(B, 'partner', MANAGED_POLICIES.AmazonElasticContainerRegistryPublicFullAccess.arn);
  await denial(partner, 'ecr-public:PutImage', publicArn);
  const repo = (await registry.repositories.find(registry.publicRegistries.ref(A, 'app')))!;
  await registry.repositories.setPolicy(repo, JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${B}:root` }, Action: 'ecr-public:PutImage' }] }));
  authz.invalidate();
  await allows(partner, 'ecr-public:PutImage', publicArn);
  await denial(partner, 'ecr:PutImage', repoArn(A, 'app'));
});
