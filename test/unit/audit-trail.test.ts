import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AuditTrail } from '../../src/domain/audit/audit-trail.js';
import { auditCallRow, auditRow, HIDDEN, withRecord, type AuditedCall } from '../../src/domain/audit/cloudtrail-record.js';
import { openAuditFile } from '../../src/store/meta/audit-file.js';
import { AuditWriterThread } from '../../src/domain/audit/writer-thread.js';
import { AuditStore } from '../../src/store/meta/audit-store.js';
import { MetadataStore } from '../../src/store/meta/metadata-store.js';
import { migrate } from '../../src/store/meta/migrations.js';
import { SqliteDb } from '../../src/store/meta/sqlite.js';

const ACCOUNT = '111122223333';

function call(more: Partial<AuditedCall> = {}): AuditedCall {
  return {
    requestId: 'req-1',
    time: Date.UTC(2026, 0, 31, 12, 0, 0, 123),
    eventSource: 'ecr.amazonaws.com',
    eventName: 'PutImage',
    readOnly: false,
    principal: { arn: `arn:aws:iam::${ACCOUNT}:user/alice`, account: ACCOUNT, userName: 'alice', accessKeyId: 'AKIAALICE', anonymous: false },
    sourceIp: '10.0.0.7',
    userAgent: 'aws-cli/2.9',
    requestParameters: { repositoryName: 'app', imageTag: 'v1', imageManifest: '{"schemaVersion":2}' },
    responseElements: { image: { imageManifest: '{…}', imageId: { imageTag: 'v1' } } },
    region: 'eu-west-1',
    ...more,
  };
}

test('a CloudTrail record: its fields, the identity, the repository resource, secrets hidden', () => {
  const row = auditRow(call({ principalId: 'AIDAALICE' }), 'event-1');
  const r = JSON.parse(row.record);
  assert.equal(r.eventVersion, '1.09');
  assert.equal(r.eventTime, '2026-01-31T12:00:00Z');
  assert.equal(r.eventSource, 'ecr.amazonaws.com');
  assert.equal(r.eventName, 'PutImage');
  assert.equal(r.awsRegion, 'eu-west-1');
  assert.equal(r.sourceIPAddress, '10.0.0.7');
  assert.equal(r.userAgent, 'aws-cli/2.9');
  assert.equal(r.requestID, 'req-1');
  assert.equal(r.eventID, 'event-1');
  assert.equal(r.readOnly, false);
  assert.equal(r.eventType, 'AwsApiCall');
  assert.equal(r.recipientAccountId, ACCOUNT);
  assert.deepEqual(r.userIdentity, { type: 'IAMUser', principalId: 'AIDAALICE', arn: `arn:aws:iam::${ACCOUNT}:user/alice`, accountId: ACCOUNT, accessKeyId: 'AKIAALICE', userName: 'alice' });
  assert.deepEqual(r.resources, [{ accountId: ACCOUNT, type: 'AWS::ECR::Repository', ARN: `arn:aws:ecr:eu-west-1:${ACCOUNT}:repository/app` }]);
  assert.equal(r.requestParameters.imageManifest, HIDDEN, 'manifest bodies are not kept');
  assert.equal(r.responseElements.image.imageManifest, HIDDEN);
  assert.equal(r.errorCode, undefined);
  assert.deepEqual([row.eventName, row.username, row.accessKeyId, row.resourceType, row.resourceName, row.readOnly], ['PutImage', 'alice', 'AKIAALICE', 'AWS::ECR::Repository', 'app', false]);
});

test('no password, secret key or token reaches the record, however deep', () => {
  const row = auditRow(call({
    eventSource: 'iam.amazonaws.com',
    eventName: 'CreateLoginProfile',
    requestParameters: { userName: 'bob', password: 'hunter2', nested: [{ SecretAccessKey: 'wJalrXUtnFEMI' }] },
    responseElements: { authorizationData: [{ authorizationToken: 'QVdTOnNlY3JldA==' }], credentials: { sessionToken: 'FwoG' } },
  }));
  for (const secret of ['hunter2', 'wJalrXUtnFEMI', 'QVdTOnNlY3JldA==', 'FwoG']) assert.ok(!row.record.includes(secret), `${secret} leaked`);
  const r = JSON.parse(row.record);
  assert.deepEqual(r.resources, [{ accountId: ACCOUNT, type: 'AWS::IAM::User', ARN: `arn:aws:iam::${ACCOUNT}:user/bob` }]);
});

test('a denied call records its error and no response; anonymous callers are AWSAccount anonymous', () => {
  const r = JSON.parse(auditRow(call({ errorCode: 'AccessDeniedException', errorMessage: 'User: … is not authorized', principal: { arn: '*', account: ACCOUNT, anonymous: true } })).record);
  assert.equal(r.errorCode, 'AccessDeniedException');
  assert.equal(r.errorMessage, 'User: … is not authorized');
  assert.equal(r.responseElements, null);
  assert.deepEqual(r.userIdentity, { type: 'AWSAccount', principalId: '', accountId: 'anonymous' });
});

/** Runs `fn` on a fresh trail file (schema ready), then closes and removes it. */
async function withAuditFile(fn: (file: string, store: AuditStore) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-audit-'));
  const file = join(dir, 'audit.db');
  const { db, store } = await openAuditFile(file, join(dir, 'metadata.db'));
  try {
    await fn(file, store);
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

test('the trail writes in batches without waiting, on its writer thread, and close() writes everything recorded', () =>
  withAuditFile(async (file, store) => {
    const trail = new AuditTrail(() => store, { flushMs: 60_000, batchSize: 100, writer: new AuditWriterThread(file), userIdOf: async (_a, name) => `AIDA${name.toUpperCase()}` });
    for (let i = 0; i < 250; i++) trail.record(call({ requestId: `r${i}`, time: 1000 + i }));
    assert.ok(trail.waiting > 0, 'record() returned before anything was written');
    await trail.close();
    assert.equal(trail.waiting, 0);
    assert.equal(trail.written, 250);
    const rows = await trail.lookup({ limit: 1000 });
    assert.equal(rows.length, 250);
    assert.equal(JSON.parse(rows[0]!.record).userIdentity.principalId, 'AIDAALICE');
    assert.deepEqual(new Set(rows.map((r) => JSON.parse(r.record).requestID)).size, 250);
    assert.equal(await trail.prune(1, 1000 + 86_400_000 + 100), 100, 'retention counts days back from now (a closed writer starts again)');
    assert.equal((await store.lookup({ limit: 1000 })).length, 150);
    await trail.close();
  }));

test('the writer thread writes the very rows the request thread would, a user id learnt after recording included', () =>
  withAuditFile(async (file, store) => {
    const writer = new AuditWriterThread(file);
    try {
      const held = [
        { call: call({ requestId: 'plain', time: 1000, requestParameters: { repositoryName: 'app', note: 'line\nbreak', password: 'hunter2' } }), eventId: 'e1' },
        { call: call({ requestId: 'odd', time: 2000, requestParameters: { repositoryName: 'app', callback: () => 1 } }), eventId: 'e2' },
        { call: call({ requestId: 'anonymous', time: 3000, principal: { arn: '*', account: ACCOUNT, anonymous: true } }), eventId: 'e3' },
        // Multi-byte UTF-8 and a lone surrogate (JSON escapes it) cross to the thread intact.
        { call: call({ requestId: 'utf8', time: 4000, requestParameters: { repositoryName: 'app', imageTag: 'café-ü-日本-🚢', odd: '\ud800' } }), eventId: 'e4' },
      ];
      const numbered = held.map((h) => ({ ...h, json: JSON.stringify(h.call) }));
      numbered[0]!.call.principalId = 'AIDALEARNTLATER';
      await writer.write(numbered.slice(0, 2));
      await writer.write(numbered.slice(2));
      assert.equal(JSON.parse((await store.lookup({ limit: 10, oldestFirst: true })).map(withRecord)[3]!.record).requestParameters.imageTag, 'café-ü-日本-🚢');
      const read = (await store.lookup({ limit: 10, oldestFirst: true })).map(withRecord);
      assert.deepEqual(read, held.map((h) => auditRow(h.call, h.eventId)));
      assert.equal(JSON.parse(read[0]!.record).userIdentity.principalId, 'AIDALEARNTLATER');
      assert.deepEqual(JSON.parse(read[1]!.record).requestParameters, { repositoryName: 'app' });
      assert.ok(!read[0]!.record.includes('hunter2'));
    } finally {
      await writer.close();
    }
  }));

test('the writer thread answers with the database error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-audit-error-'));
  const writer = new AuditWriterThread(join(dir, 'not-prepared.db'));
  try {
    await assert.rejects(writer.write([{ call: call(), eventId: 'e1' }]), /no such table: audit_events/);
    await assert.rejects(writer.prune(1), /no such table: audit_events/);
  } finally {
    await writer.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('the trail file takes over the rows an earlier version kept in the metadata database, once', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-audit-adopt-'));
  const metadataFile = join(dir, 'metadata.db');
  const db = new SqliteDb(metadataFile);
  try {
    await migrate(db);
    const rows = [auditCallRow(call({ requestId: 'early-1', time: 1000 }), 'early-1'), auditRow(call({ requestId: 'early-2', time: 2000 }), 'early-2')];
    await new AuditStore(db).append(rows);
    for (let start = 1; start <= 2; start++) {
      const audit = await openAuditFile(join(dir, 'audit.db'), metadataFile);
      try {
        if (start === 1) await audit.store.append([auditCallRow(call({ requestId: 'later', time: 3000 }), 'later')]);
        const ids = (await audit.store.lookup({ limit: 10 })).map((r) => r.eventId);
        assert.deepEqual(ids, ['later', 'early-2', 'early-1'], `start ${start}`);
      } finally {
        await audit.db.close();
      }
    }
    assert.deepEqual(await new AuditStore(db).lookup({ limit: 10 }), [], 'the metadata database keeps none of them');
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a failed write keeps the calls for the next attempt', async () => {
  let fail = true;
  const appended: number[] = [];
  const store = { append: async (rows: unknown[]) => { if (fail) throw new Error('database down'); appended.push(rows.length); } } as never;
  const trail = new AuditTrail(() => store, { flushMs: 60_000 });
  trail.record(call());
  trail.record(call());
  await trail.flush();
  assert.equal(trail.waiting, 2);
  fail = false;
  await trail.close();
  assert.deepEqual(appended, [2]);
  assert.equal(trail.waiting, 0);
});

test('retention: a periodic audit.prune job through the job queue deletes what is older than BERTH_AUDIT_RETENTION_DAYS', async () => {
  const { JobQueue } = await import('../../src/domain/jobs/queue.js');
  const { JobWorker } = await import('../../src/domain/jobs/worker.js');
  const { AUDIT_PRUNE_JOB, auditPruneJobHandler, startAuditPruneScheduler } = await import('../../src/domain/audit/retention.js');
  const { loadConfig } = await import('../../src/config.js');
  const pino = (await import('pino')).default;
  assert.equal(loadConfig({}, {}).auditRetentionDays, 90);
  assert.equal(loadConfig({}, { BERTH_AUDIT_RETENTION_DAYS: '7' }).auditRetentionDays, 7);
  assert.throws(() => loadConfig({}, { BERTH_AUDIT_RETENTION_DAYS: '0' }), /BERTH_AUDIT_RETENTION_DAYS/);

  const dir = await mkdtemp(join(tmpdir(), 'berth-audit-prune-'));
  const db = new SqliteDb(join(dir, 'metadata.db'));
  const log = pino({ level: 'silent' });
  try {
    await migrate(db);
    const meta = new MetadataStore(db);
    const audit = new AuditStore(db);
    const trail = new AuditTrail(() => audit);
    const day = 86_400_000;
    trail.record(call({ requestId: 'ancient', time: Date.now() - 8 * day }));
    trail.record(call({ requestId: 'recent', time: Date.now() - 6 * day }));
    await trail.flush();
    const queue = new JobQueue(meta.jobs);
    const worker = new JobWorker(meta.jobs, { log, pollMs: 50 }).register(AUDIT_PRUNE_JOB, auditPruneJobHandler(trail, 7, log));
    worker.start(queue);
    const scheduler = startAuditPruneScheduler(queue, log, 1);
    try {
      for (let i = 0; i < 60 && (await audit.lookup({ limit: 10 })).length > 1; i++) await new Promise((r) => setTimeout(r, 100));
    } finally {
      await scheduler.stop();
      await worker.stop();
    }
    const left = await trail.lookup({ limit: 10 });
    assert.deepEqual(left.map((r) => JSON.parse(r.record).requestID), ['recent']);
    assert.ok((await queue.list({ kind: AUDIT_PRUNE_JOB })).some((j) => j.status === 'succeeded'));
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('oversized parameters are left out of the record, the rest is kept', () => {
  const r = JSON.parse(auditRow(call({ eventName: 'SetRepositoryPolicy', requestParameters: { repositoryName: 'app', policyText: 'x'.repeat(200_000) }, responseElements: { repositoryName: 'app' } })).record);
  assert.deepEqual(r.requestParameters, { omitted: true, reason: 'larger than the trail keeps' });
  assert.deepEqual(r.responseElements, { repositoryName: 'app' });
  assert.equal(r.eventName, 'SetRepositoryPolicy');
});

test('a call stored without its record reads back with the very record auditRow() builds', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-audit-compact-'));
  const db = new SqliteDb(join(dir, 'metadata.db'));
  try {
    await migrate(db);
    const audit = new AuditStore(db);
    const calls: AuditedCall[] = [
      call({ principalId: 'AIDAALICE' }),
      call({ principal: { arn: `arn:aws:iam::${ACCOUNT}:user/bob`, account: ACCOUNT, userName: 'bob', anonymous: false } }),
      call({ principal: { arn: `arn:aws:iam::${ACCOUNT}:root`, account: ACCOUNT, accessKeyId: 'AKIAROOT', anonymous: false }, recipientAccountId: '444455556666' }),
      call({ principal: { arn: '*', account: ACCOUNT, anonymous: true }, errorCode: 'AccessDeniedException', errorMessage: 'not authorized' }),
      call({ errorCode: 'RepositoryNotFoundException', responseElements: undefined }),
      call({ eventName: 'BatchGetImage', readOnly: true, requestParameters: { registryId: ACCOUNT, repositoryName: 'team/app', imageIds: [{ imageTag: 'v1' }], acceptedMediaTypes: ['application/vnd.oci.image.manifest.v1+json'] }, responseElements: undefined }),
      call({ eventSource: 'iam.amazonaws.com', eventName: 'CreateLoginProfile', requestParameters: { userName: 'bob', password: 'hunter2' }, responseElements: { loginProfile: { userName: 'bob' } } }),
      call({ eventSource: 'sts.amazonaws.com', eventName: 'GetCallerIdentity', requestParameters: null, responseElements: null }),
      call({ eventName: 'SetRepositoryPolicy', requestParameters: { repositoryName: 'app', policyText: 'x'.repeat(200_000) }, responseElements: { repositoryName: 'app' } }),
    ];
    const rows = calls.map((c, i) => auditCallRow({ ...c, time: c.time + i }, `event-${i}`));
    for (const row of rows) assert.equal(row.record, '', 'nothing of the record is built on the way in');
    assert.ok(!JSON.stringify(rows).includes('hunter2'), 'secrets are hidden before the row is stored');
    await audit.append(rows);
    const read = (await audit.lookup({ limit: 100, oldestFirst: true })).map(withRecord);
    assert.equal(read.length, calls.length);
    read.forEach((row, i) => {
      const expected = auditRow({ ...calls[i]!, time: calls[i]!.time + i }, `event-${i}`);
      assert.deepEqual(row, expected, `call ${i} (${calls[i]!.eventName})`);
    });
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
});
