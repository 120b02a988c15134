// The stores behind metrics and the audit trail: the same answers on every database.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { MetadataStore } from '../../src/store/meta/metadata-store.js';
import type { StoreHandle } from './metadata-store-contract.js';
import type { AuditQuery, AuditRow, AuditTrailStore } from '../../src/store/meta/audit-store.js';

const dg = (s: string) => 'sha256:' + createHash('sha256').update(s).digest('hex');
const A = '111122223333';
const B = '444455556666';

export function observabilityStoreContract(name: string, makeStore: () => Promise<StoreHandle<MetadataStore>>): void {
  describe(`StatsStore contract: ${name}`, () => {
    let h: StoreHandle<MetadataStore>;
    let meta: MetadataStore;
    beforeEach(async () => {
      h = await makeStore();
      meta = h.store;
    });
    afterEach(async () => h.close());

    it('storage per repository counts each linked blob once per repository; the total counts each blob once', async () => {
      const app = (await meta.createRepository(A, 'app'))!;
      const web = (await meta.createRepository(A, 'web'))!;
      await meta.createRepository(B, 'empty');
      await meta.commitBlob(app.id, dg('shared'), 1000);
      await meta.commitBlob(app.id, dg('own'), 24);
      await meta.linkBlob(web.id, dg('shared'));
      await meta.linkBlob(app.id, dg('shared'));
      assert.deepEqual(await meta.stats.storageByRepository(), [
        { registryId: A, repositoryName: 'app', bytes: 1024 },
        { registryId: A, repositoryName: 'web', bytes: 1000 },
        { registryId: B, repositoryName: 'empty', bytes: 0 },
      ]);
      assert.equal(await meta.stats.totalBlobBytes(), 1024);
    });

    it('uploads in progress and jobs by kind and status', async () => {
      const app = (await meta.createRepository(A, 'app'))!;
      assert.equal(await meta.stats.uploadsInProgress(), 0);
      await meta.createUpload(app.id);
      const done = await meta.createUpload(app.id);
      await meta.createUpload(app.id);
      await meta.deleteUpload(done.id);
      assert.equal(await meta.stats.uploadsInProgress(), 2);
      await meta.jobs.enqueue({ kind: 'gc.run' });
      await meta.jobs.enqueue({ kind: 'gc.run' });
      await meta.jobs.enqueue({ kind: 'lifecycle.run-all' });
      assert.deepEqual(await meta.stats.jobCounts(), [
        { kind: 'gc.run', status: 'queued', count: 2 },
        { kind: 'lifecycle.run-all', status: 'queued', count: 1 },
      ]);
    });
  });

}

/** Where the audit trail's rows are kept: the same answers on every database, and behind the writer thread. */
export function auditStoreContract(name: string, makeStore: () => Promise<StoreHandle<AuditTrailStore>>): void {
  describe(`AuditStore contract: ${name}`, () => {
    let h: StoreHandle<AuditTrailStore>;
    let audit: AuditTrailStore;
    beforeEach(async () => {
      h = await makeStore();
      audit = h.store;
    });
    afterEach(async () => h.close());

    const row = (eventId: string, eventTime: number, more: Partial<AuditRow> = {}): AuditRow => ({
      eventId,
      eventTime,
      eventName: 'PutImage',
      eventSource: 'ecr.amazonaws.com',
      username: 'alice',
      accessKeyId: 'AKIAALICE',
      readOnly: false,
      resourceType: 'AWS::ECR::Repository',
      resourceName: 'app',
      record: JSON.stringify({ eventID: eventId }),
      ...more,
    });

    it('appends in batches, skips an event id already stored, lists newest first with ties broken by id', async () => {
      await audit.append([row('e1', 100), row('e2', 200), row('e3', 200)]);
      await audit.append([row('e2', 200, { eventName: 'Other' }), row('e4', 50)]);
      const all = await audit.lookup({ limit: 10 });
      assert.deepEqual(all.map((r) => r.eventId), ['e3', 'e2', 'e1', 'e4']);
      assert.deepEqual(all[1], row('e2', 200), 'the first write of an event id stays');
      assert.deepEqual((await audit.lookup({ limit: 10, oldestFirst: true })).map((r) => r.eventId), ['e4', 'e1', 'e2', 'e3']);
      await audit.append([]);
      const many = Array.from({ length: 450 }, (_, i) => row(`m${String(i).padStart(3, '0')}`, 1000 + i));
      await audit.append(many);
      assert.equal((await audit.lookup({ limit: 1000 })).length, 454);
    });

    it('filters by one attribute and a time range; pages after a row in either order', async () => {
      await audit.append([
        row('a', 10),
        row('b', 20, { eventName: 'BatchGetImage', readOnly: true, username: 'bob', accessKeyId: 'AKIABOB' }),
        row('c', 30, { eventSource: 'iam.amazonaws.com', eventName: 'CreateUser', resourceType: 'AWS::IAM::User', resourceName: 'carol', username: null, accessKeyId: null }),
        row('d', 40, { resourceName: 'web' }),
      ]);
      const ids = async (q: AuditQuery) => (await audit.lookup(q)).map((r) => r.eventId);
      assert.deepEqual(await ids({ limit: 10, attribute: { key: 'eventName', value: 'PutImage' } }), ['d', 'a']);
      assert.deepEqual(await ids({ limit: 10, attribute: { key: 'readOnly', value: 'true' } }), ['b']);
      assert.deepEqual(await ids({ limit: 10, attribute: { key: 'readOnly', value: 'false' } }), ['d', 'c', 'a']);
      assert.deepEqual(await ids({ limit: 10, attribute: { key: 'username', value: 'bob' } }), ['b']);
      assert.deepEqual(await ids({ limit: 10, attribute: { key: 'accessKeyId', value: 'AKIAALICE' } }), ['d', 'a']);
      assert.deepEqual(await ids({ limit: 10, attribute: { key: 'eventSource', value: 'iam.amazonaws.com' } }), ['c']);
      assert.deepEqual(await ids({ limit: 10, attribute: { key: 'resourceType', value: 'AWS::IAM::User' } }), ['c']);
      assert.deepEqual(await ids({ limit: 10, attribute: { key: 'resourceName', value: 'web' } }), ['d']);
      assert.deepEqual(await ids({ limit: 10, attribute: { key: 'eventId', value: 'b' } }), ['b']);
      assert.deepEqual(await ids({ limit: 10, start: 20, end: 30 }), ['c', 'b']);
      assert.deepEqual(await ids({ limit: 2 }), ['d', 'c']);
      assert.deepEqual(await ids({ limit: 2, after: { eventTime: 30, eventId: 'c' } }), ['b', 'a']);
      assert.deepEqual(await ids({ limit: 2, after: { eventTime: 20, eventId: 'b' }, oldestFirst: true }), ['c', 'd']);
    });

    it('a row stored without its record reads back with its call columns, and filters like the others', async () => {
      const call = {
        requestId: 'req-9',
        principalArn: `arn:aws:iam::${A}:user/alice`,
        principalAccount: A,
        principalId: 'AIDAALICE',
        sourceIp: '10.0.0.7',
        userAgent: 'docker/27.0',
        requestParameters: JSON.stringify({ repositoryName: 'app', imageIds: [{ imageTag: 'v1' }] }),
        responseElements: null,
        errorCode: 'AccessDeniedException',
        errorMessage: 'not authorized',
        recipientAccountId: B,
        region: 'eu-west-1',
      };
      const anonymous = { ...call, requestId: 'req-10', principalArn: null, principalAccount: null, principalId: null, errorCode: null, errorMessage: null, requestParameters: null };
      await audit.append([row('c1', 10, { record: '', call, eventName: 'BatchGetImage' }), row('c2', 20, { record: '', call: anonymous, username: null, accessKeyId: null }), row('r1', 30)]);
      const all = await audit.lookup({ limit: 10, oldestFirst: true });
      assert.deepEqual(all, [row('c1', 10, { record: '', call, eventName: 'BatchGetImage' }), row('c2', 20, { record: '', call: anonymous, username: null, accessKeyId: null }), row('r1', 30)]);
      assert.deepEqual((await audit.lookup({ limit: 10, attribute: { key: 'eventName', value: 'BatchGetImage' } })).map((r) => r.eventId), ['c1']);
    });

    it('prunes what is older than a time', async () => {
      await audit.append([row('old', 10), row('edge', 20), row('new', 30)]);
      assert.equal(await audit.prune(20), 1);
      assert.deepEqual((await audit.lookup({ limit: 10 })).map((r) => r.eventId), ['new', 'edge']);
      assert.equal(await audit.prune(20), 0);
    });
  });
}
