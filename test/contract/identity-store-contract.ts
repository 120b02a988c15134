// The IdentityStore contract, run against every database implementation.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { IdentityStore, RoleRow, UserRow } from '../../src/store/meta/identity-store.js';
import type { StoreHandle } from './metadata-store-contract.js';

const A = '111122223333';
const B = '444455556666';

const user = (name: string, accountId = A, createdAt = 1000): UserRow => ({
  accountId,
  name,
  userId: `AIDA${accountId}${name.toUpperCase()}`,
  arn: `arn:aws:iam::${accountId}:user/${name}`,
  path: '/',
  tags: [],
  createdAt,
});

const policy = (name: string, accountId = A) => ({
  arn: `arn:aws:iam::${accountId}:policy/${name}`,
  accountId,
  name,
  policyId: `ANPA${name.toUpperCase()}`,
  path: '/',
  description: `about ${name}`,
  createdAt: 2000,
});

const TRUST = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ecr.amazonaws.com' }, Action: 'sts:AssumeRole' }] });

const role = (name: string, accountId = A, path = '/'): RoleRow => ({
  accountId,
  name,
  roleId: `AROA${accountId}${name.toUpperCase()}`,
  arn: `arn:aws:iam::${accountId}:role${path}${name}`,
  path,
  description: `the ${name} role`,
  maxSessionDuration: 3600,
  assumeRolePolicy: TRUST,
  tags: [{ Key: 'team', Value: 'platform' }],
  createdAt: 3000,
});

const doc = (action: string) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }] });

export function identityStoreContract(name: string, makeStore: () => Promise<StoreHandle<IdentityStore>>): void {
  describe(`IdentityStore contract: ${name}`, () => {
    let h: StoreHandle<IdentityStore>;
    let store: IdentityStore;
    beforeEach(async () => {
      h = await makeStore();
      store = h.store;
    });
    afterEach(async () => h.close());

    it('accounts: created once, then known', async () => {
      assert.equal(await store.accountExists(A), false);
      assert.equal(await store.createAccount(A, 'us-east-1'), true);
      assert.equal(await store.createAccount(A, 'eu-west-1'), false);
      assert.equal(await store.accountExists(A), true);
    });

    it('users: inserted once per account and name, read back as inserted, listed by name, deleted', async () => {
      assert.equal(await store.insertUser(user('bob')), true);
      assert.equal(await store.insertUser(user('alice')), true);
      assert.equal(await store.insertUser({ ...user('bob'), userId: 'AIDAOTHER', arn: 'arn:aws:iam::111122223333:user/x/bob' }), false);
      assert.equal(await store.insertUser(user('bob', B)), true, 'names are per account');
      assert.deepEqual(await store.getUser(A, 'bob'), user('bob'));
      assert.equal(await store.getUser(A, 'carol'), undefined);
      assert.deepEqual((await store.listUsers(A)).map((u) => u.name), ['alice', 'bob']);
      assert.equal(await store.userHasDependents(A, 'bob'), false);
      assert.equal(await store.deleteUser(A, 'bob'), true);
      assert.equal(await store.deleteUser(A, 'bob'), false);
      assert.ok(await store.getUser(B, 'bob'));
    });

    it('access keys: found by id, listed per user, status changed and deleted only through their user', async () => {
      await store.insertUser(user('bob'));
      const k1 = { id: 'AKIA0000000000000001', secret: 's1', accountId: A, userName: 'bob', status: 'Active' as const, createdAt: 10 };
      const k2 = { ...k1, id: 'AKIA0000000000000002', secret: 's2', createdAt: 20 };
      await store.insertAccessKey(k2);
      await store.insertAccessKey(k1);
      assert.deepEqual(await store.getAccessKey(k1.id), k1);
      assert.equal(await store.getAccessKey('AKIANOPE'), undefined);
      assert.deepEqual((await store.listAccessKeys(A, 'bob')).map((k) => k.id), [k1.id, k2.id]);
      assert.equal(await store.userHasDependents(A, 'bob'), true);
      assert.equal(await store.setAccessKeyStatus(A, 'alice', k1.id, 'Inactive'), false);
      assert.equal(await store.setAccessKeyStatus(A, 'bob', k1.id, 'Inactive'), true);
      assert.equal((await store.getAccessKey(k1.id))?.status, 'Inactive');
      assert.equal(await store.deleteAccessKey(A, 'alice', k2.id), false);
      assert.equal(await store.deleteAccessKey(A, 'bob', k2.id), true);
      assert.deepEqual((await store.listAccessKeys(A, 'bob')).map((k) => k.id), [k1.id]);
    });

    it('groups: membership is idempotent and seen from both sides; a group with members has dependents', async () => {
      await store.insertUser(user('bob'));
      await store.insertUser(user('alice'));
      const devs = { accountId: A, name: 'devs', groupId: 'AGPADEVS', arn: `arn:aws:iam::${A}:group/devs`, path: '/', createdAt: 5 };
      assert.equal(await store.insertGroup(devs), true);
      assert.equal(await store.insertGroup({ ...devs, groupId: 'AGPAOTHER', arn: 'other' }), false);
      assert.deepEqual(await store.getGroup(A, 'devs'), devs);
      await store.insertGroup({ ...devs, name: 'ops', groupId: 'AGPAOPS', arn: `arn:aws:iam::${A}:group/ops` });
      assert.deepEqual((await store.listGroups(A)).map((g) => g.name), ['devs', 'ops']);

      await store.addUserToGroup(A, 'devs', 'bob');
      await store.addUserToGroup(A, 'devs', 'bob');
      await store.addUserToGroup(A, 'devs', 'alice');
      await store.addUserToGroup(A, 'ops', 'bob');
      assert.deepEqual((await store.groupMembers(A, 'devs')).map((u) => u.name), ['alice', 'bob']);
      assert.deepEqual(await store.groupsOfUser(A, 'bob'), ['devs', 'ops']);
      assert.equal(await store.groupHasDependents(A, 'devs'), true);
      assert.equal(await store.userHasDependents(A, 'alice'), true);

      assert.equal(await store.removeUserFromGroup(A, 'devs', 'alice'), true);
      assert.equal(await store.removeUserFromGroup(A, 'devs', 'alice'), false);
      assert.equal(await store.removeUserFromGroup(A, 'ops', 'bob'), true);
      assert.equal(await store.groupHasDependents(A, 'ops'), false);
      assert.equal(await store.deleteGroup(A, 'ops'), true);
      assert.equal(await store.getGroup(A, 'ops'), undefined);
    });

    it('inline policies: put replaces, listed by name, per owner kind', async () => {
      await store.putInlinePolicy(A, 'user', 'bob', 'pull', doc('ecr:BatchGetImage'));
      await store.putInlinePolicy(A, 'user', 'bob', 'pull', doc('ecr:*'));
      await store.putInlinePolicy(A, 'user', 'bob', 'admin', doc('*'));
      await store.putInlinePolicy(A, 'group', 'bob', 'other', doc('iam:*'));
      assert.equal(await store.getInlinePolicy(A, 'user', 'bob', 'pull'), doc('ecr:*'));
      assert.deepEqual(await store.listInlinePolicies(A, 'user', 'bob'), [
        { name: 'admin', document: doc('*') },
        { name: 'pull', document: doc('ecr:*') },
      ]);
      assert.equal(await store.userHasDependents(A, 'bob'), true);
      assert.equal(await store.groupHasDependents(A, 'bob'), true);
      assert.equal(await store.deleteInlinePolicy(A, 'user', 'bob', 'pull'), true);
      assert.equal(await store.deleteInlinePolicy(A, 'user', 'bob', 'pull'), false);
      assert.equal(await store.getInlinePolicy(A, 'user', 'bob', 'pull'), undefined);
    });

    it('managed policies: v1 on creation, later versions numbered on and never reused, one default', async () => {
      const p = policy('push');
      assert.equal(await store.insertPolicy(p, doc('ecr:PutImage')), true);
      assert.equal(await store.insertPolicy({ ...p, policyId: 'ANPAOTHER' }, doc('*')), false);
      assert.deepEqual(await store.getPolicy(p.arn), { ...p, defaultVersion: 'v1', updatedAt: p.createdAt, attachmentCount: 0 });
      assert.equal(await store.defaultPolicyDocument(p.arn), doc('ecr:PutImage'));

      assert.equal(await store.createPolicyVersion(p.arn, doc('ecr:Get*'), false, 3000), 'v2');
      assert.equal(await store.defaultPolicyDocument(p.arn), doc('ecr:PutImage'));
      assert.equal(await store.deletePolicyVersion(p.arn, 'v2'), true);
      assert.equal(await store.createPolicyVersion(p.arn, doc('ecr:*'), true, 4000), 'v3');
      assert.equal(await store.defaultPolicyDocument(p.arn), doc('ecr:*'));
      const got = await store.getPolicy(p.arn);
      assert.equal(got?.defaultVersion, 'v3');
      assert.equal(got?.updatedAt, 4000);
      assert.deepEqual(await store.listPolicyVersions(p.arn), [
        { versionId: 'v3', document: doc('ecr:*'), createdAt: 4000, isDefault: true },
        { versionId: 'v1', document: doc('ecr:PutImage'), createdAt: p.createdAt, isDefault: false },
      ]);
      assert.equal(await store.countPolicyVersions(p.arn), 2);
      assert.deepEqual(await store.getPolicyVersion(p.arn, 'v1'), { versionId: 'v1', document: doc('ecr:PutImage'), createdAt: p.createdAt, isDefault: false });
      assert.equal(await store.setDefaultPolicyVersion(p.arn, 'v2'), false);
      assert.equal(await store.setDefaultPolicyVersion(p.arn, 'v1', 5000), true);
      assert.equal(await store.defaultPolicyDocument(p.arn), doc('ecr:PutImage'));

      await store.insertPolicy(policy('alpha'), doc('*'));
      await store.insertPolicy(policy('other', B), doc('*'));
      assert.deepEqual((await store.listPolicies(A)).map((x) => x.name), ['alpha', 'push']);

      assert.equal(await store.deletePolicy(p.arn), true);
      assert.equal(await store.getPolicy(p.arn), undefined);
      assert.equal(await store.countPolicyVersions(p.arn), 0);
    });

    it('attachments: idempotent, counted per policy, listed per owner', async () => {
      const p = policy('push');
      await store.insertPolicy(p, doc('ecr:PutImage'));
      const aws = 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly';
      await store.attachPolicy(A, 'user', 'bob', p.arn);
      await store.attachPolicy(A, 'user', 'bob', p.arn);
      await store.attachPolicy(A, 'user', 'bob', aws);
      await store.attachPolicy(A, 'group', 'devs', p.arn);
      assert.deepEqual(await store.attachedPolicies(A, 'user', 'bob'), [p.arn, aws]);
      assert.equal(await store.policyAttachmentCount(p.arn), 2);
      assert.equal((await store.getPolicy(p.arn))?.attachmentCount, 2);
      assert.equal(await store.userHasDependents(A, 'bob'), true);
      assert.equal(await store.detachPolicy(A, 'group', 'devs', p.arn), true);
      assert.equal(await store.detachPolicy(A, 'group', 'devs', p.arn), false);
      assert.deepEqual(await store.attachedPolicies(A, 'group', 'devs'), []);
      assert.equal(await store.policyAttachmentCount(p.arn), 1);
    });

    it('roles: one per account and name in any case, read back by name and ARN, settings changed, deleted only without policies', async () => {
      const deploy = role('deploy', A, '/service/');
      assert.equal(await store.insertRole(deploy), true);
      assert.equal(await store.insertRole(role('builder')), true);
      assert.equal(await store.insertRole({ ...role('DEPLOY'), roleId: 'AROAOTHER' }), false, 'role names are unique regardless of case');
      assert.equal(await store.insertRole(role('deploy', B)), true, 'names are per account');
      assert.deepEqual(await store.getRole(A, 'deploy'), deploy);
      assert.deepEqual(await store.getRoleByArn(deploy.arn), deploy);
      assert.equal(await store.getRoleByArn(`arn:aws:iam::${A}:role/deploy`), undefined, 'the ARN carries the path');
      const { description: _, ...bare } = role('bare');
      assert.equal(await store.insertRole(bare), true);
      assert.deepEqual(await store.getRole(A, 'bare'), bare, 'a role without a description reads back without one');
      assert.deepEqual((await store.listRoles(A)).map((r) => r.name), ['bare', 'builder', 'deploy']);

      const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
      assert.equal(await store.updateRole(A, 'deploy', { maxSessionDuration: 7200 }), true);
      assert.equal(await store.updateRole(A, 'deploy', { description: 'changed', assumeRolePolicy: trust }), true);
      assert.deepEqual(await store.getRole(A, 'deploy'), { ...deploy, description: 'changed', maxSessionDuration: 7200, assumeRolePolicy: trust });
      assert.equal(await store.updateRole(A, 'nobody', { description: 'x' }), false);

      await store.putInlinePolicy(A, 'role', 'deploy', 'create', doc('ecr:CreateRepository'));
      assert.equal(await store.roleHasDependents(A, 'deploy'), true);
      assert.deepEqual(await store.listInlinePolicies(A, 'user', 'deploy'), [], 'role policies are the role\'s own');
      await store.deleteInlinePolicy(A, 'role', 'deploy', 'create');
      const p = policy('invoke');
      await store.insertPolicy(p, doc('events:InvokeApiDestination'));
      await store.attachPolicy(A, 'role', 'deploy', p.arn);
      assert.equal(await store.roleHasDependents(A, 'deploy'), true);
      assert.equal(await store.policyAttachmentCount(p.arn), 1);
      await store.detachPolicy(A, 'role', 'deploy', p.arn);
      assert.equal(await store.roleHasDependents(A, 'deploy'), false);
      assert.equal(await store.deleteRole(A, 'deploy'), true);
      assert.equal(await store.deleteRole(A, 'deploy'), false);
      assert.equal(await store.getRoleByArn(deploy.arn), undefined);
      assert.ok(await store.getRole(B, 'deploy'));
    });

    it('tags of users and roles: stored with the user, changed in one step, per account', async () => {
      const tagged = { ...user('tagged'), tags: [{ Key: 'team', Value: 'infra' }] };
      assert.equal(await store.insertUser(tagged), true);
      assert.deepEqual(await store.getUser(A, 'tagged'), tagged);
      await store.insertUser(user('tagged', B));
      const added = await store.changeTags('user', A, 'tagged', (tags) => [...tags, { Key: 'cost', Value: '42' }]);
      assert.deepEqual(added, [{ Key: 'team', Value: 'infra' }, { Key: 'cost', Value: '42' }]);
      assert.deepEqual((await store.getUser(A, 'tagged'))?.tags, added);
      assert.deepEqual((await store.getUser(B, 'tagged'))?.tags, [], "another account's user keeps its own");
      assert.equal(await store.changeTags('user', A, 'nobody', (tags) => tags), undefined);
      await store.insertRole(role('tagged-role'));
      assert.deepEqual(await store.changeTags('role', A, 'tagged-role', () => [{ Key: 'env', Value: 'lab' }]), [{ Key: 'env', Value: 'lab' }]);
      assert.deepEqual((await store.getRole(A, 'tagged-role'))?.tags, [{ Key: 'env', Value: 'lab' }]);
      // Concurrent changes each see the other's result.
      await Promise.all(Array.from({ length: 8 }, (_, i) => store.changeTags('user', A, 'tagged', (tags) => [...tags, { Key: `k${i}`, Value: 'v' }])));
      assert.equal((await store.getUser(A, 'tagged'))?.tags.length, 10);
    });
  });
}
