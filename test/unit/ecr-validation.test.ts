// ECR operations' input validation and error shapes, called in-process and through the JSON 1.1 door.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { LifecyclePolicies } from '../../src/domain/lifecycle/policies.js';
import { createEcrDoor, TARGET_PREFIX } from '../../src/doors/ecr/door.js';
import { EcrError } from '../../src/doors/ecr/errors.js';
import { modelledMembers, validateAgainstModel } from '../../src/doors/ecr/model-validate.js';
import { OPERATION_INPUTS } from '../../src/doors/ecr/model-table.js';
import { ECR_ACTIONS, namesOnly } from '../../src/domain/registry/ecr-actions.js';
import type { EcrContext } from '../../src/doors/ecr/operation.js';
import { OPERATIONS } from '../../src/doors/ecr/operations/index.js';
import { decodePageToken as decodeToken, encodePageToken as encodeToken, page } from '../../src/domain/registry/paging.js';
import { toEcrError } from '../../src/doors/ecr/registry-errors.js';
import { OpenIdentity } from '../helpers/open-identity.js';
import { Registry } from '../../src/domain/registry/registry.js';
import { JobQueue } from '../../src/domain/jobs/queue.js';
import { Scanning } from '../../src/domain/scanning/scanning.js';
import { FsBlobStore } from '../../src/store/blob/fs-blob-store.js';
import { MetadataStore } from '../../src/store/meta/metadata-store.js';
import { migrate } from '../../src/store/meta/migrations.js';
import { SqliteDb } from '../../src/store/meta/sqlite.js';

const ACCOUNT = '111122223333';

let dir: string;
let meta: MetadataStore;
let registry: Registry;
let scanning: Scanning;
let server: Server;
let url: string;
const identity = new OpenIdentity(ACCOUNT);
const authorized: Array<[string, string]> = [];

function context(input: Record<string, unknown>): EcrContext {
  return {
    principal: { arn: `arn:aws:iam::${ACCOUNT}:root`, account: ACCOUNT, anonymous: false },
    identity,
    registryId: typeof input.registryId === 'string' ? input.registryId : ACCOUNT,
    region: 'us-east-1',
    registry,
    lifecycle: new LifecyclePolicies(registry, meta.lifecycle),
    scanning,
    baseUrl: 'http://127.0.0.1:5000',
    registryHost: '127.0.0.1:5000',
    sourceIp: '127.0.0.1',
    authorize: async (action, arn) => {
      authorized.push([action, arn]);
    },
  };
}

async function call(op: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
  const fn = OPERATIONS[op];
  assert.ok(fn, `operation ${op} is registered`);
  try {
    validateAgainstModel(op, input);
    const fields = modelledMembers(op, input);
    return await fn(fields, context(fields));
  } catch (e) {
    throw toEcrError(e, { repositoryName: String(input.repositoryName ?? ''), registryId: ACCOUNT });
  }
}

async function rejects(op: string, input: Record<string, unknown>, type: string, message?: string | RegExp): Promise<EcrError> {
  try {
    await call(op, input);
  } catch (e) {
    assert.ok(e instanceof EcrError, `${op} threw ${String(e)}`);
    assert.equal(e.type, type, `${op}: ${e.message}`);
    assert.equal(e.status, 400);
    if (typeof message === 'string') assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    return e;
  }
  assert.fail(`${op} ${JSON.stringify(input)} should have failed with ${type}`);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-ecr-unit-'));
  const db = new SqliteDb(join(dir, 'metadata.db'));
  await migrate(db);
  meta = new MetadataStore(db);
  const blobs = new FsBlobStore(dir);
  await blobs.init();
  registry = new Registry(meta, blobs);
  scanning = new Scanning(meta, registry, new JobQueue(meta.jobs));
  const door = createEcrDoor(identity, OPERATIONS, (_req, _principal, input) => context(input), pino({ level: 'silent' }));
  server = createServer((req, res) => void door(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/`;
  await call('CreateRepository', { repositoryName: 'unit/repo' });
});

after(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await meta.close();
  await rm(dir, { recursive: true, force: true });
});

describe('parameter validation', () => {
  it('repository names: length and grammar with ECR messages', async () => {
    await rejects('CreateRepository', { repositoryName: 'a' }, 'InvalidParameterException', "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must have length greater than or equal to 2'");
    await rejects('CreateRepository', { repositoryName: 'x'.repeat(257) }, 'InvalidParameterException', /must have length less than or equal to 256/);
    for (const bad of ['Upper', 'a//b', '-ab', 'ab-', 'a..b', 'ab/']) {
      await rejects(
        'CreateRepository',
        { repositoryName: bad },
        'InvalidParameterException',
        "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''",
      );
    }
    await rejects('ListImages', {}, 'InvalidParameterException', "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must not be null'");
    await rejects('ListImages', { repositoryName: 42 }, 'SerializationException');
    await rejects('ListImages', { repositoryName: 'unit/repo', registryId: '12' }, 'InvalidParameterException', /registryId/);
  });

  it('enums, ranges and combinations', async () => {
    await rejects('CreateRepository', { repositoryName: 'unit/x', imageTagMutability: 'NEVER' }, 'InvalidParameterException', /imageTagMutability/);
    await rejects('CreateRepository', { repositoryName: 'unit/x', imageTagMutability: 'MUTABLE', imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'a*' }] }, 'InvalidParameterException');
    await rejects('CreateRepository', { repositoryName: 'unit/x', imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'bad filter!' }] }, 'InvalidParameterException');
    await rejects('CreateRepository', { repositoryName: 'unit/x', encryptionConfiguration: { encryptionType: 'ROT13' } }, 'InvalidParameterException');
    await rejects('CreateRepository', { repositoryName: 'unit/x', encryptionConfiguration: { encryptionType: 'AES256', kmsKey: 'k' } }, 'InvalidParameterException');
    await rejects('CreateRepository', { repositoryName: 'unit/x', tags: [{ Key: '', Value: 'v' }] }, 'InvalidTagParameterException');
    await rejects('CreateRepository', { repositoryName: 'unit/x', tags: Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: '' })) }, 'TooManyTagsException');
    await rejects('ListImages', { repositoryName: 'unit/repo', maxResults: 0 }, 'InvalidParameterException', "Invalid parameter at 'maxResults' failed to satisfy constraint: 'must be greater than or equal to 1'");
    await rejects('ListImages', { repositoryName: 'unit/repo', maxResults: 1001 }, 'InvalidParameterException', /less than or equal to 1000/);
    await rejects('ListImages', { repositoryName: 'unit/repo', filter: { tagStatus: 'SOME' } }, 'InvalidParameterException', /tagStatus/);
    await rejects('BatchGetImage', { repositoryName: 'unit/repo', imageIds: [] }, 'InvalidParameterException', /imageIds/);
    await rejects('BatchGetImage', { repositoryName: 'unit/repo', imageIds: Array.from({ length: 101 }, () => ({ imageTag: 't' })) }, 'InvalidParameterException');
    await rejects('DescribeRepositories', { repositoryNames: ['unit/repo'], maxResults: 5 }, 'InvalidParameterException');
    await rejects('PutAccountSetting', { name: 'BLOB_MOUNTING', value: 'SOMETIMES' }, 'InvalidParameterException');
    await rejects('GetAccountSetting', { name: 'COLOUR' }, 'InvalidParameterException');
    await rejects('UploadLayerPart', { repositoryName: 'unit/repo', uploadId: 'not-a-uuid', partFirstByte: 0, partLastByte: 0, layerPartBlob: 'AA==' }, 'InvalidParameterException', /uploadId/);
    await rejects('UploadLayerPart', { repositoryName: 'unit/repo', uploadId: '00000000-0000-4000-8000-000000000000', partFirstByte: 0, partLastByte: 0, layerPartBlob: '***' }, 'SerializationException');
    await rejects('GetDownloadUrlForLayer', { repositoryName: 'unit/repo', layerDigest: 'nodigest' }, 'InvalidParameterException', /layerDigest/);
    await rejects('TagResource', { resourceArn: 'arn:aws:ecr:eu-west-1:111122223333:repository/unit/repo', tags: [] }, 'InvalidParameterException');
  });

  it('policies: invalid documents and missing policies', async () => {
    await rejects('SetRepositoryPolicy', { repositoryName: 'unit/repo', policyText: '[]' }, 'InvalidParameterException', "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'");
    await rejects('SetRepositoryPolicy', { repositoryName: 'unit/repo', policyText: 'x'.repeat(10241) }, 'InvalidParameterException', /10240/);
    await rejects('PutRegistryPolicy', { policyText: '{"Statement": []' }, 'InvalidParameterException', "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid registry policy provided'");
    await rejects('GetRepositoryPolicy', { repositoryName: 'unit/repo' }, 'RepositoryPolicyNotFoundException', `Repository policy does not exist for the repository with name 'unit/repo' in the registry with id '${ACCOUNT}'`);
    await rejects('DeleteRegistryPolicy', {}, 'RegistryPolicyNotFoundException', `Registry policy does not exist in the registry with id '${ACCOUNT}'`);
    await rejects('GetRepositoryPolicy', { repositoryName: 'unit/none' }, 'RepositoryNotFoundException', `The repository with name 'unit/none' does not exist in the registry with id '${ACCOUNT}'`);
  });

  it('authorizes each operation on the repository ARN first', async () => {
    authorized.length = 0;
    await call('ListImages', { repositoryName: 'unit/repo' });
    await call('GetAuthorizationToken', {});
    assert.deepEqual(authorized, [
      ['ecr:ListImages', `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/unit/repo`],
      ['ecr:GetAuthorizationToken', '*'],
    ]);
    authorized.length = 0;
    await rejects('ListImages', { repositoryName: 'unit/none' }, 'RepositoryNotFoundException');
    assert.deepEqual(authorized, [['ecr:ListImages', `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/unit/none`]]);
  });

  it('GetAuthorizationToken answers with the identity token and the proxy endpoint', async () => {
    const out = (await call('GetAuthorizationToken', {})) as { authorizationData: Array<Record<string, unknown>> };
    assert.equal(out.authorizationData.length, 1);
    const data = out.authorizationData[0]!;
    assert.equal(Buffer.from(String(data.authorizationToken), 'base64').toString().split(':')[0], 'AWS');
    assert.equal(typeof data.expiresAt, 'number');
    assert.ok(Math.abs((data.expiresAt as number) - (Date.now() / 1000 + 12 * 3600)) < 60);
    assert.equal(data.proxyEndpoint, 'http://127.0.0.1:5000');
  });
});

describe('pagination tokens', () => {
  it('round-trip, refuse forged or foreign tokens, and end with no token', () => {
    assert.equal(decodeToken(encodeToken(40, 'scope'), 'scope'), 40);
    const asEcr = (fn: () => unknown) => () => {
      try {
        fn();
      } catch (e) {
        throw toEcrError(e, { repositoryName: '', registryId: ACCOUNT });
      }
    };
    assert.throws(asEcr(() => decodeToken(encodeToken(40, 'other'), 'scope')), (e: unknown) => e instanceof EcrError && e.type === 'InvalidParameterException');
    assert.throws(asEcr(() => decodeToken('@@@', 'scope')), EcrError);
    const items = Array.from({ length: 7 }, (_, i) => i);
    const first = page(items, undefined, 3, 's');
    assert.deepEqual(first.items, [0, 1, 2]);
    const second = page(items, first.nextToken, 3, 's');
    assert.deepEqual(second.items, [3, 4, 5]);
    const last = page(items, second.nextToken, 3, 's');
    assert.deepEqual(last.items, [6]);
    assert.equal(last.nextToken, undefined);
    assert.equal(page(items, undefined, 7, 's').nextToken, undefined);
  });
});

describe('the JSON 1.1 door', () => {
  async function post(target: string, body: string) {
    const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': target }, body });
    return { status: res.status, type: res.headers.get('x-amzn-errortype'), requestId: res.headers.get('x-amzn-requestid'), body: (await res.json()) as Record<string, unknown> };
  }

  it('answers successes with the JSON 1.1 content type and a request id', async () => {
    const r = await post(`${TARGET_PREFIX}DescribeRepositories`, '{}');
    assert.equal(r.status, 200);
    assert.ok(r.requestId);
    const repos = r.body.repositories as Array<Record<string, unknown>>;
    assert.equal(repos[0]!.repositoryName, 'unit/repo');
    assert.equal(typeof repos[0]!.createdAt, 'number');
  });

  it('renders errors as {__type, message} with x-amzn-ErrorType, never a 500', async () => {
    const cases: Array<[string, string, string]> = [
      [`${TARGET_PREFIX}NoSuchThing`, '{}', 'UnknownOperationException'],
      ['SomethingElse.ListImages', '{}', 'UnknownOperationException'],
      [`${TARGET_PREFIX}ListImages`, '{oops', 'SerializationException'],
      [`${TARGET_PREFIX}ListImages`, '[1,2]', 'SerializationException'],
      [`${TARGET_PREFIX}ListImages`, '{"repositoryName": ["a"]}', 'SerializationException'],
      [`${TARGET_PREFIX}ListImages`, '{"repositoryName": "Bad Name"}', 'InvalidParameterException'],
      [`${TARGET_PREFIX}PutImage`, '{"repositoryName": "unit/repo", "imageManifest": "{}"}', 'InvalidParameterException'],
      [`${TARGET_PREFIX}PutImage`, '{"repositoryName": "unit/none", "imageManifest": "{}"}', 'RepositoryNotFoundException'],
      [`${TARGET_PREFIX}CompleteLayerUpload`, '{"repositoryName": "unit/repo", "uploadId": "00000000-0000-4000-8000-000000000000", "layerDigests": ["sha256:00"]}', 'UploadNotFoundException'],
    ];
    for (const [target, body, type] of cases) {
      const r = await post(target, body);
      assert.equal(r.status, 400, `${target} ${body}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.__type, type, `${target} ${body}: ${JSON.stringify(r.body)}`);
      assert.equal(r.type, type);
      assert.equal(typeof r.body.message, 'string');
    }
  });
});

describe('the model table', () => {
  it('covers every operation berth answers, and every model operation is an ECR action', () => {
    // Operations newer than the model the table was generated from are validated by hand.
    const newerThanModel = ['StartReplicationBackfill', 'StopReplicationBackfill', 'ListReplicationBackfills', 'DescribeReplicationBackfillResults'];
    for (const op of Object.keys(OPERATIONS)) assert.ok(Object.hasOwn(OPERATION_INPUTS, op) || newerThanModel.includes(op), `${op} is in the model table`);
    for (const op of Object.keys(OPERATION_INPUTS)) assert.ok(ECR_ACTIONS.includes(`ecr:${op}`), `ecr:${op} is a known action`);
  });

  it('keeps only the members the operation has', () => {
    assert.deepEqual(modelledMembers('PutRegistryPolicy', { policyText: '{}', registryId: '999999999999' }), { policyText: '{}' });
    assert.deepEqual(modelledMembers('ListImages', { repositoryName: 'a/b', registryId: ACCOUNT, bogus: 1 }), { repositoryName: 'a/b', registryId: ACCOUNT });
    assert.deepEqual(modelledMembers('DescribeRegistry', { registryId: ACCOUNT }), {});
  });

  it('checks nested members with their paths, and wrong JSON types as serialization errors', () => {
    const check = (op: string, input: Record<string, unknown>) => {
      try {
        validateAgainstModel(op, input);
        return undefined;
      } catch (e) {
        assert.ok(e instanceof EcrError);
        return [e.type, e.message];
      }
    };
    assert.equal(check('ListImages', { repositoryName: 'a/b', filter: { tagStatus: 'TAGGED', imageStatus: 'ANY' } }), undefined);
    assert.deepEqual(check('ListImages', { repositoryName: 'a/b', filter: { imageStatus: 'GONE' } }), [
      'InvalidParameterException',
      "Invalid parameter at 'filter.imageStatus' failed to satisfy constraint: 'Member must satisfy enum value set: [ACTIVE, ARCHIVED, ACTIVATING, ANY]'",
    ]);
    assert.deepEqual(check('BatchGetImage', { repositoryName: 'a/b', imageIds: [{ imageTag: 'x' }, null] }), [
      'InvalidParameterException',
      "Invalid parameter at 'imageIds.2.member' failed to satisfy constraint: 'must not be null'",
    ]);
    assert.deepEqual(check('BatchGetImage', { repositoryName: 'a/b' }), ['InvalidParameterException', "Invalid parameter at 'imageIds' failed to satisfy constraint: 'must not be null'"]);
    assert.equal(check('ListImages', { repositoryName: 'a/b', maxResults: '5' })?.[0], 'SerializationException');
    assert.equal(check('ListImages', { repositoryName: 'a/b', filter: [] })?.[0], 'SerializationException');
    assert.equal(check('DeleteRepository', { repositoryName: 'a/b', force: 'yes' })?.[0], 'SerializationException');
    assert.deepEqual(check('PutLifecyclePolicy', { repositoryName: 'a/b', lifecyclePolicyText: '{}' }), [
      'InvalidParameterException',
      "Invalid parameter at 'lifecyclePolicyText' failed to satisfy constraint: 'must have length greater than or equal to 100'",
    ]);
    assert.deepEqual(check('GetAuthorizationToken', { registryIds: ['1'] }), [
      'InvalidParameterException',
      "Invalid parameter at 'registryIds.1.member' failed to satisfy constraint: 'must satisfy regular expression '[0-9]{12}''",
    ]);
    // Repository names keep the grammar and wording of ECR's recorded answers.
    assert.deepEqual(check('DescribeRepositories', { repositoryNames: ['ok/name', 'Bad'] }), [
      'InvalidParameterException',
      "Invalid parameter at 'repositoryNames.2.member' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''",
    ]);
  });

  it('lists no image for an archived or activating status: berth archives none', async () => {
    const out = await call('ListImages', { repositoryName: 'unit/repo', filter: { imageStatus: 'ARCHIVED' } });
    assert.deepEqual(out.imageIds, []);
    const described = await call('DescribeImages', { repositoryName: 'unit/repo', filter: { imageStatus: 'ACTIVATING' } });
    assert.deepEqual(described.imageDetails, []);
  });
});

describe('registry policy actions', () => {
  it('names ECR actions only, all of them among those the scope allows', () => {
    assert.equal(namesOnly('ecr:*', ECR_ACTIONS), true);
    assert.equal(namesOnly('ecr:Batch*', ECR_ACTIONS), true);
    assert.equal(namesOnly('ECR:putimage', ECR_ACTIONS), true);
    assert.equal(namesOnly('ecr:Nothing*', ECR_ACTIONS), false);
    assert.equal(namesOnly('s3:*', ECR_ACTIONS), false);
    assert.equal(namesOnly('*', ECR_ACTIONS), false);
  });

  it('the V1 scope, which ECR no longer accepts, is refused rather than stored', async () => {
    await rejects('PutAccountSetting', { name: 'REGISTRY_POLICY_SCOPE', value: 'V1' }, 'InvalidParameterException', "Invalid parameter at 'value' failed to satisfy constraint: 'Member must satisfy enum value set: [V2]'");
  });
});
