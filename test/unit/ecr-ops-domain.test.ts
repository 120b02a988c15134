// Repository creation templates (which one a new repository gets, what create-on-push does with it),
// pull-time exclusions in the pull recorder, and the signing configuration: the domain over SQLite.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BlobEncryption } from '../../src/domain/encryption/blob-encryption.js';
import { Kms } from '../../src/domain/kms/kms.js';
import { MasterKey } from '../../src/domain/kms/master-key.js';
import { isRegistryError } from '../../src/domain/registry/errors.js';
import { isExcludedPrincipal } from '../../src/domain/registry/pull-time-exclusions.js';
import { PullRecorder } from '../../src/domain/registry/pull-recorder.js';
import { Registry } from '../../src/domain/registry/registry.js';
import { IdentityDirectory } from '../../src/iam/identity/directory.js';
import { RolePermissions } from '../../src/iam/service-roles.js';
import { FsBlobStore } from '../../src/store/blob/fs-blob-store.js';
import { MetadataStore } from '../../src/store/meta/metadata-store.js';
import { migrate } from '../../src/store/meta/migrations.js';
import { SqliteDb } from '../../src/store/meta/sqlite.js';

const A = '111122223333';
const kind = (k: string) => (e: unknown) => isRegistryError(e) && e.kind === k;

let dir: string;
let db: SqliteDb;
let meta: MetadataStore;
let registry: Registry;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-ecr-ops-'));
  db = new SqliteDb(join(dir, 'metadata.db'));
  await migrate(db);
  meta = new MetadataStore(db);
  const blobs = new FsBlobStore(dir);
  await blobs.init();
  registry = new Registry(meta, blobs);
});

afterEach(async () => {
  await registry.close();
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a template\'s custom role', () => {
  const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ecr.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
  const allow = (...actions: string[]) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] });

  it('must exist; ECR creates a repository from the template only as far as the role allows, else nothing is created', async () => {
    const directory = new IdentityDirectory(meta.identities);
    const blobs = new FsBlobStore(dir);
    const withRoles = new Registry(meta, blobs, { serviceRoles: new RolePermissions(directory) });
    try {
      const roleArn = `arn:aws:iam::${A}:role/creator`;
      const template = { appliedFor: ['CREATE_ON_PUSH' as const], resourceTags: [{ Key: 'team', Value: 'a' }], customRoleArn: roleArn };
      await assert.rejects(withRoles.templates.create(A, 'team', template), (e: unknown) => kind('InvalidParameter')(e) && (e as { detail: { field?: string } }).detail.field === 'customRoleArn');
      await directory.createRole(A, { name: 'creator', assumeRolePolicy: trust });
      await directory.putInlinePolicy(A, 'role', 'creator', 'p', allow('ecr:CreateRepository'));
      await withRoles.templates.create(A, 'team', template);
      const ref = { registryId: A, name: 'team/app' };
      await assert.rejects(withRoles.repositories.forPush(ref, async () => undefined), (e: unknown) => kind('RoleDenied')(e) && /creator may not perform ecr:TagResource/.test((e as Error).message));
      assert.equal(await withRoles.repositories.find(ref), undefined, 'nothing is created');
      assert.equal((await meta.events.list({ limit: 100 })).filter((e) => e.type === 'repository.created').length, 0);
      await directory.putInlinePolicy(A, 'role', 'creator', 'p', allow('ecr:CreateRepository', 'ecr:TagResource'));
      const repo = await withRoles.repositories.forPush(ref, async () => undefined);
      assert.deepEqual(repo.settings.tags, [{ Key: 'team', Value: 'a' }]);
    } finally {
      await withRoles.close();
    }
  });

  it('with KMS encryption: accepted with a role; a push creates the repository with the key only if the role may use it through ECR', async () => {
    const region = 'us-east-1';
    const scope = { accountId: A, region };
    const master = MasterKey.fromBytes(randomBytes(32));
    const kms = new Kms(() => meta.kms, master);
    const directory = new IdentityDirectory(meta.identities);
    const roles = new RolePermissions(directory, async (arn) => (await kms.resolve(scope, arn).catch(() => undefined))?.policy);
    const blobs = new FsBlobStore(dir);
    const withRoles = new Registry(meta, blobs, { serviceRoles: roles, region, encryption: new BlobEncryption(meta, blobs, master, kms, region) });
    try {
      const key = await kms.createKey(scope, {});
      const keyArn = `arn:aws:kms:${region}:${A}:key/${key.id}`;
      const roleArn = `arn:aws:iam::${A}:role/creator`;
      await directory.createRole(A, { name: 'creator', assumeRolePolicy: trust });
      await directory.putInlinePolicy(A, 'role', 'creator', 'ecr', allow('ecr:CreateRepository'));
      const encryptionConfiguration = { encryptionType: 'KMS' as const, kmsKey: keyArn };
      await assert.rejects(
        withRoles.templates.create(A, 'secret', { appliedFor: ['CREATE_ON_PUSH'], encryptionConfiguration }),
        (e: unknown) => kind('InvalidParameter')(e) && /custom role is required when the template uses KMS/.test((e as Error).message),
      );
      const created = await withRoles.templates.create(A, 'secret', { appliedFor: ['CREATE_ON_PUSH'], encryptionConfiguration, customRoleArn: roleArn });
      assert.deepEqual(created.encryptionConfiguration, encryptionConfiguration);

      // The role may create repositories but not use the key: refused as KMS refuses ECR, nothing created.
      const ref = { registryId: A, name: 'secret/app' };
      const kmsDenied = (action: string) => (e: unknown) =>
        kind('Kms')(e) && (e as { detail: { kmsError?: string } }).detail.kmsError === 'AccessDeniedException' && new RegExp(`creator may not perform ${action} on ${keyArn}`).test((e as Error).message);
      await assert.rejects(withRoles.repositories.forPush(ref, async () => undefined), kmsDenied('kms:DescribeKey'));
      await directory.putInlinePolicy(A, 'role', 'creator', 'kms', allow('kms:DescribeKey'));
      await assert.rejects(withRoles.repositories.forPush(ref, async () => undefined), kmsDenied('kms:CreateGrant'));
      assert.equal(await withRoles.repositories.find(ref), undefined, 'nothing is created');
      assert.equal((await meta.events.list({ limit: 100 })).filter((e) => e.type === 'repository.created').length, 0);

      // The key policy is the authority: a role the key policy leaves out is refused whatever its own policies say.
      await directory.putInlinePolicy(A, 'role', 'creator', 'kms', allow('kms:DescribeKey', 'kms:CreateGrant'));
      const onlyAdmin = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:user/admin` }, Action: 'kms:*', Resource: '*' }] });
      await kms.putPolicy(key, 'default', onlyAdmin);
      await assert.rejects(withRoles.repositories.forPush(ref, async () => undefined), kmsDenied('kms:DescribeKey'));
      await kms.putPolicy(key, 'default', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: 'kms:*', Resource: '*' }] }));

      // Allowed: the repository is created with the template's key.
      const repo = await withRoles.repositories.forPush(ref, async () => undefined);
      assert.deepEqual(repo.settings.encryptionConfiguration, { encryptionType: 'KMS', kmsKey: keyArn });

      // A disabled key is refused whatever the role may do.
      await kms.disable((await kms.resolve(scope, keyArn))!);
      await assert.rejects(withRoles.repositories.forPush({ registryId: A, name: 'secret/other' }, async () => undefined), kind('Kms'));
      assert.equal(await withRoles.repositories.find({ registryId: A, name: 'secret/other' }), undefined);

      // KMS without a key is the AWS managed key alias/aws/ecr, whose policy lets the account's principals use it through ECR.
      await withRoles.templates.create(A, 'managed', { appliedFor: ['CREATE_ON_PUSH'], encryptionConfiguration: { encryptionType: 'KMS' }, customRoleArn: roleArn });
      await directory.deleteInlinePolicy(A, 'role', 'creator', 'kms');
      const managed = await withRoles.repositories.forPush({ registryId: A, name: 'managed/app' }, async () => undefined);
      const managedKey = await kms.ecrManagedKey(scope);
      assert.deepEqual(managed.settings.encryptionConfiguration, { encryptionType: 'KMS', kmsKey: `arn:aws:kms:${region}:${A}:key/${managedKey.id}` });
    } finally {
      await withRoles.close();
    }
  });

  it('without a role directory, no role exists: a template naming one is refused', async () => {
    await assert.rejects(registry.templates.create(A, 'team', { appliedFor: ['CREATE_ON_PUSH'], customRoleArn: `arn:aws:iam::${A}:role/any` }), kind('InvalidParameter'));
  });
});

describe('repository creation templates', () => {
  it('a new repository gets the longest prefix it lies under among templates for that use, else ROOT', async () => {
    const t = registry.templates;
    await t.create(A, 'ROOT', { appliedFor: ['CREATE_ON_PUSH'], description: 'root' });
    await t.create(A, 'team', { appliedFor: ['CREATE_ON_PUSH'], description: 'team' });
    await t.create(A, 'team/sub/', { appliedFor: ['CREATE_ON_PUSH'], description: 'sub' });
    await t.create(A, 'team/sub/deeper', { appliedFor: ['REPLICATION'], description: 'replication only' });
    const pick = async (name: string) => (await t.forNewRepository(A, name, 'CREATE_ON_PUSH'))?.description;
    assert.equal(await pick('team/app'), 'team');
    assert.equal(await pick('team/sub/app'), 'sub');
    assert.equal(await pick('team/sub/deeper/app'), 'sub', 'a template for another use does not count');
    assert.equal(await pick('teamwork/app'), 'root', 'a prefix matches whole path segments');
    assert.equal(await pick('team'), 'root', 'the prefix itself is not under the prefix');
    assert.equal(await t.forNewRepository(A, 'team/app', 'PULL_THROUGH_CACHE'), undefined);
    assert.equal(await t.forNewRepository('444455556666', 'team/app', 'CREATE_ON_PUSH'), undefined, 'templates belong to one registry');
  });

  it('create-on-push applies the template only when the pusher may create, and only for a missing repository', async () => {
    await registry.templates.create(A, 'team', { appliedFor: ['CREATE_ON_PUSH'], imageTagMutability: 'IMMUTABLE' });
    await assert.rejects(registry.repositories.forPush({ registryId: A, name: 'team/app' }), kind('RepositoryNotFound'), 'no permission check given: no creation');
    await assert.rejects(
      registry.repositories.forPush({ registryId: A, name: 'team/app' }, async () => {
        throw new Error('denied');
      }),
      /denied/,
    );
    assert.equal(await registry.repositories.find({ registryId: A, name: 'team/app' }), undefined);
    let asked = 0;
    const repo = await registry.repositories.forPush({ registryId: A, name: 'team/app' }, async () => void asked++);
    assert.equal(repo.settings.imageTagMutability, 'IMMUTABLE');
    assert.equal(asked, 1);
    await registry.repositories.forPush({ registryId: A, name: 'team/app' }, async () => void asked++);
    assert.equal(asked, 1, 'an existing repository needs no creation permission');
    const events = await meta.events.list({ limit: 100 });
    assert.deepEqual(events.filter((e) => e.type === 'repository.created').map((e) => e.detail), [{ createdOnPush: true, template: 'team' }]);
  });

  it('an update keeps what it does not name and is checked as a whole; a refused update changes nothing', async () => {
    await registry.templates.create(A, 'team', { appliedFor: ['CREATE_ON_PUSH'], description: 'd', imageTagMutability: 'IMMUTABLE' });
    const updated = await registry.templates.update(A, 'team/', { appliedFor: ['REPLICATION'] });
    assert.deepEqual([updated.description, updated.imageTagMutability, updated.appliedFor], ['d', 'IMMUTABLE', ['REPLICATION']]);
    await assert.rejects(registry.templates.update(A, 'team', { resourceTags: [{ Key: 'k', Value: 'v' }] }), kind('InvalidParameter'), 'tags need a custom role');
    await assert.rejects(registry.templates.update(A, 'team', { lifecyclePolicy: '{}' }), kind('InvalidLifecyclePolicy'));
    await assert.rejects(registry.templates.update(A, 'team', { encryptionConfiguration: { encryptionType: 'KMS' } }), kind('InvalidParameter'));
    assert.deepEqual((await registry.templates.get(A, 'team')).appliedFor, ['REPLICATION']);
    assert.equal((await registry.templates.get(A, 'team')).encryptionConfiguration.encryptionType, 'AES256');
  });
});

describe('pull-time update exclusions', () => {
  it('match users exactly and roles by their sessions', () => {
    assert.ok(isExcludedPrincipal(`arn:aws:iam::${A}:user/alice`, `arn:aws:iam::${A}:user/alice`));
    assert.ok(!isExcludedPrincipal(`arn:aws:iam::${A}:user/bob`, `arn:aws:iam::${A}:user/alice`));
    assert.ok(isExcludedPrincipal(`arn:aws:sts::${A}:assumed-role/scanner/session-1`, `arn:aws:iam::${A}:role/scanner`));
    assert.ok(isExcludedPrincipal(`arn:aws:sts::${A}:assumed-role/scanner/session-1`, `arn:aws:iam::${A}:role/tools/scanner`));
    assert.ok(!isExcludedPrincipal(`arn:aws:sts::444455556666:assumed-role/scanner/s`, `arn:aws:iam::${A}:role/scanner`));
    assert.ok(!isExcludedPrincipal(`arn:aws:sts::${A}:assumed-role/other/s`, `arn:aws:iam::${A}:role/scanner`));
  });

  it('the recorder skips excluded pullers but keeps everyone else’s pull of the same image', async () => {
    const repo = (await meta.createRepository(A, 'app'))!;
    const digest = 'sha256:' + 'a'.repeat(64);
    await meta.insertManifest(
      { repoId: repo.id, digest, mediaType: 'm', artifactType: null, configMediaType: null, subject: null, annotations: null, size: 2, layersSize: 0, body: Buffer.from('{}'), pushedAt: 1, lastPulledAt: null },
      [],
    );
    const excluded = `arn:aws:iam::${A}:user/scanner`;
    await registry.pullExclusions.register(A, excluded);
    const recorder = new PullRecorder(meta, undefined, 60_000);
    const pulledAt = async () => (await meta.getManifest(repo.id, digest))!.lastPulledAt;

    recorder.record({ id: repo.id, registryId: A }, digest, excluded);
    await recorder.flush();
    assert.equal(await pulledAt(), null, 'an excluded principal’s pull is not recorded');

    recorder.record({ id: repo.id, registryId: A }, digest, `arn:aws:iam::${A}:user/alice`);
    recorder.record({ id: repo.id, registryId: A }, digest, excluded);
    await recorder.flush();
    assert.ok((await pulledAt()) !== null, 'a later excluded pull does not hide an earlier counted one');
    await recorder.close();
  });

  it('register refuses duplicates and more than the limit; deregister refuses what is not there', async () => {
    await registry.pullExclusions.register(A, `arn:aws:iam::${A}:user/u0`);
    await assert.rejects(registry.pullExclusions.register(A, `arn:aws:iam::${A}:user/u0`), kind('ExclusionAlreadyExists'));
    for (let i = 1; i < 100; i++) await registry.pullExclusions.register(A, `arn:aws:iam::${A}:user/u${i}`);
    await assert.rejects(registry.pullExclusions.register(A, `arn:aws:iam::${A}:user/u100`), kind('LimitExceeded'));
    assert.equal((await registry.pullExclusions.list(A)).length, 100);
    await assert.rejects(registry.pullExclusions.deregister(A, `arn:aws:iam::${A}:user/nobody`), kind('ExclusionNotFound'));
  });
});

describe('signing configuration', () => {
  it('keeps only a configuration without rules; a rule is refused and nothing is stored', async () => {
    await assert.rejects(registry.signing.get(A), kind('SigningConfigurationNotFound'));
    await assert.rejects(registry.signing.put(A, { rules: [{ signingProfileArn: 'arn:aws:signer:us-east-1:111122223333:/signing-profiles/p1' }] }), kind('FeatureNotAvailable'));
    await assert.rejects(registry.signing.get(A), kind('SigningConfigurationNotFound'));
    await registry.signing.put(A, { rules: [] });
    assert.deepEqual(await registry.signing.delete(A), { rules: [] });
    await assert.rejects(registry.signing.delete(A), kind('SigningConfigurationNotFound'));
  });
});
