// RolePermissions: may a service, assuming a role, do an action on a resource? Real roles and
// policies in a real (SQLite) identity store; decisions by the policy evaluator.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdentityDirectory } from '../../src/iam/identity/directory.js';
import { RolePermissions } from '../../src/iam/service-roles.js';
import { IdentityStore } from '../../src/store/meta/identity-store.js';
import { migrate } from '../../src/store/meta/migrations.js';
import { SqliteDb } from '../../src/store/meta/sqlite.js';

const A = '111111111111';
const ECR = 'ecr.amazonaws.com';
const REPO = `arn:aws:ecr:us-east-1:${A}:repository/team/app`;

const trust = (principal: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole', ...extra }] });
const allow = (action: string | string[], resource: string | string[] = '*') =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: resource }] });

describe('RolePermissions', () => {
  let dir: string;
  let db: SqliteDb;
  let directory: IdentityDirectory;
  let roles: RolePermissions;

  const role = async (name: string, trustPolicy: string, ...inline: string[]) => {
    const r = (await directory.createRole(A, { name, assumeRolePolicy: trustPolicy }))!;
    for (const [i, doc] of inline.entries()) await directory.putInlinePolicy(A, 'role', name, `p${i}`, doc);
    return r.arn;
  };
  const verdict = (service: string, arn: string, action = 'ecr:CreateRepository', resource = REPO) => roles.check(service, arn, [{ action, resource }]);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-service-roles-'));
    db = new SqliteDb(join(dir, 'metadata.db'));
    await migrate(db);
    directory = new IdentityDirectory(new IdentityStore(db));
    roles = new RolePermissions(directory);
  });
  after(async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('allowed when the role trusts the service and an inline policy allows the action on the resource', async () => {
    const arn = await role('creator', trust({ Service: ECR }), allow(['ecr:CreateRepository', 'ecr:TagResource'], `arn:aws:ecr:us-east-1:${A}:repository/team/*`));
    assert.deepEqual(await verdict(ECR, arn), { allowed: true });
    assert.deepEqual(await roles.check(ECR, arn, [{ action: 'ecr:CreateRepository', resource: REPO }, { action: 'ecr:TagResource', resource: REPO }]), { allowed: true });
    assert.equal(await roles.exists(arn), true);
  });

  test('refused for a role that does not exist, naming it', async () => {
    const arn = `arn:aws:iam::${A}:role/missing`;
    const v = await verdict(ECR, arn);
    assert.equal(v.allowed, false);
    assert.match(v.allowed ? '' : v.reason, /missing does not exist/);
    assert.equal(await roles.exists(arn), false);
  });

  test('refused when the trust policy names another service, an AWS principal, or denies', async () => {
    const events = await role('events-only', trust({ Service: 'events.amazonaws.com' }), allow('*'));
    const v = await verdict(ECR, events);
    assert.match(v.allowed ? '' : v.reason, /trust policy of the role .*events-only does not let ecr\.amazonaws\.com/);
    assert.deepEqual(await verdict('events.amazonaws.com', events, 'events:InvokeApiDestination', '*'), { allowed: true });

    const account = await role('account-only', trust({ AWS: `arn:aws:iam::${A}:root` }), allow('*'));
    assert.equal((await verdict(ECR, account)).allowed, false);

    const denied = await role(
      'trust-denies',
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: [ECR] }, Action: 'sts:AssumeRole' },
          { Effect: 'Deny', Principal: { Service: ECR }, Action: 'sts:*' },
        ],
      }),
      allow('*'),
    );
    assert.equal((await verdict(ECR, denied)).allowed, false);
  });

  test('trust conditions are evaluated: aws:SourceAccount must match the role\'s account', async () => {
    const mine = await role('source-mine', trust({ Service: ECR }, { Condition: { StringEquals: { 'aws:SourceAccount': A } } }), allow('*'));
    const other = await role('source-other', trust({ Service: ECR }, { Condition: { StringEquals: { 'aws:SourceAccount': '999999999999' } } }), allow('*'));
    assert.deepEqual(await verdict(ECR, mine), { allowed: true });
    assert.equal((await verdict(ECR, other)).allowed, false);
  });

  test('refused when no identity policy allows the action, or one denies it; names role and action', async () => {
    const none = await role('no-policies', trust({ Service: ECR }));
    const v = await verdict(ECR, none);
    assert.match(v.allowed ? '' : v.reason, /no-policies may not perform ecr:CreateRepository on .*team\/app: no policy of the role allows it/);

    const narrow = await role('narrow', trust({ Service: ECR }), allow('ecr:CreateRepository', `arn:aws:ecr:us-east-1:${A}:repository/other/*`));
    assert.equal((await verdict(ECR, narrow)).allowed, false, 'the policy covers other repositories only');

    const tagless = await role('tagless', trust({ Service: ECR }), allow('ecr:CreateRepository'));
    const both = await roles.check(ECR, tagless, [{ action: 'ecr:CreateRepository', resource: REPO }, { action: 'ecr:TagResource', resource: REPO }]);
    assert.match(both.allowed ? '' : both.reason, /may not perform ecr:TagResource/, 'every request must be allowed');

    const denying = await role(
      'denying',
      trust({ Service: ECR }),
      allow('ecr:*'),
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'ecr:CreateRepository', Resource: '*' }] }),
    );
    const d = await verdict(ECR, denying);
    assert.match(d.allowed ? '' : d.reason, /a policy of the role denies it/);
  });

  test("a session of the role carries the role's tags as aws:PrincipalTag: a Deny on them applies, and untagging lifts it", async () => {
    const arn = (await directory.createRole(A, { name: 'tagged-session', assumeRolePolicy: trust({ Service: ECR }), tags: [{ Key: 'stage', Value: 'frozen' }] }))!.arn;
    await directory.putInlinePolicy(A, 'role', 'tagged-session', 'all', allow('ecr:*'));
    await directory.putInlinePolicy(A, 'role', 'tagged-session', 'freeze', JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Action: 'ecr:CreateRepository', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalTag/stage': 'frozen' } } }],
    }));
    const frozen = await verdict(ECR, arn);
    assert.match(frozen.allowed ? '' : frozen.reason, /a policy of the role denies it/);
    await directory.untag('role', A, 'tagged-session', ['stage']);
    assert.deepEqual(await verdict(ECR, arn), { allowed: true });
  });

  test('attached managed policies count, customer and AWS managed; detaching takes the permission away', async () => {
    const arn = await role('managed', trust({ Service: ECR }));
    const policy = (await directory.createPolicy(A, 'create-repos', '/', '', allow('ecr:CreateRepository')))!;
    await directory.attachPolicy(A, 'role', 'managed', policy.arn);
    assert.deepEqual(await verdict(ECR, arn), { allowed: true });
    await directory.detachPolicy(A, 'role', 'managed', policy.arn);
    assert.equal((await verdict(ECR, arn)).allowed, false);
    await directory.attachPolicy(A, 'role', 'managed', 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess');
    assert.deepEqual(await verdict(ECR, arn), { allowed: true });
  });

  test('on a KMS key the key policy is the authority: the role\'s policies count where it lets them; a missing key refuses', async () => {
    const keyArn = `arn:aws:kms:us-east-1:${A}:key/1234abcd-0000-4000-8000-000000000001`;
    const keyPolicies = new Map<string, string>();
    const withKeys = new RolePermissions(directory, async (arn) => keyPolicies.get(arn));
    const user = await role('key-user', trust({ Service: ECR }), allow(['kms:DescribeKey', 'kms:CreateGrant'], keyArn));
    const onKey = () => withKeys.check(ECR, user, [{ action: 'kms:CreateGrant', resource: keyArn, context: { 'kms:ViaService': 'ecr.us-east-1.amazonaws.com' } }]);
    assert.match(((v) => (v.allowed ? '' : v.reason))(await onKey()), /KMS key .* does not exist/);
    const keyPolicy = (statement: Record<string, unknown>) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*', ...statement }] });
    keyPolicies.set(keyArn, keyPolicy({ Principal: { AWS: `arn:aws:iam::${A}:root` } }));
    assert.deepEqual(await onKey(), { allowed: true }, 'the default key policy lets IAM decide');
    keyPolicies.set(keyArn, keyPolicy({ Principal: { AWS: `arn:aws:iam::${A}:user/admin` } }));
    assert.match(((v) => (v.allowed ? '' : v.reason))(await onKey()), /key-user may not perform kms:CreateGrant on .*key policy/);
    keyPolicies.set(keyArn, keyPolicy({ Principal: { AWS: '*' }, Condition: { StringEquals: { 'kms:ViaService': 'ecr.us-east-1.amazonaws.com' } } }));
    const noIdentity = await role('no-kms', trust({ Service: ECR }), allow('ecr:CreateRepository'));
    assert.deepEqual(await withKeys.check(ECR, noIdentity, [{ action: 'kms:CreateGrant', resource: keyArn, context: { 'kms:ViaService': 'ecr.us-east-1.amazonaws.com' } }]), { allowed: true }, 'a key policy granting through ECR needs no identity policy');
    assert.equal((await withKeys.check(ECR, noIdentity, [{ action: 'kms:CreateGrant', resource: keyArn }])).allowed, false, 'not through ECR: no grant');
  });

  test('a changed trust policy takes effect at once', async () => {
    const arn = await role('retrusted', trust({ Service: 'events.amazonaws.com' }), allow('*'));
    assert.equal((await verdict(ECR, arn)).allowed, false);
    await directory.updateRole(A, 'retrusted', { assumeRolePolicy: trust({ Service: ECR }) });
    assert.deepEqual(await verdict(ECR, arn), { allowed: true });
  });
});
