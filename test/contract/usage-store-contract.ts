// Usage metering on every database: hourly rows added to by upserts (from several writers at
// once), stored bytes as ECR bills them, and storage integrated between samples at known times.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { MetadataStore } from '../../src/store/meta/metadata-store.js';
import type { UsageCounts, UsageKey } from '../../src/store/meta/usage-store.js';
import { sampleStorage, usageSampleJobHandler } from '../../src/domain/usage/storage-sampler.js';
import { gbMonths, parseMonth } from '../../src/domain/usage/pricing.js';
import { UsageMeter } from '../../src/domain/usage/usage-meter.js';
import { manifestRow, type StoreHandle } from './metadata-store-contract.js';

const dg = (s: string) => 'sha256:' + createHash('sha256').update(s).digest('hex');
const A = '111122223333';
const REGION = 'eu-west-1';
const HOUR = 3_600_000;
const MARCH = parseMonth('2026-03')!;
const key = (repositoryName: string, registryId = A): UsageKey => ({ registryId, region: REGION, repositoryName });
const counts = (repositoryName: string, hour: number, c: Partial<UsageCounts>): UsageCounts =>
  ({ ...key(repositoryName), hour, transferOutBytes: 0, pushCount: 0, pullCount: 0, ...c });

export function usageStoreContract(name: string, makeStore: () => Promise<StoreHandle<MetadataStore>>): void {
  describe(`UsageStore contract: ${name}`, () => {
    let h: StoreHandle<MetadataStore>;
    let meta: MetadataStore;
    beforeEach(async () => {
      h = await makeStore();
      meta = h.store;
    });
    afterEach(async () => h.close());

    it('counters add up per repository and hour, also from writers flushing at the same time', async () => {
      const hour = MARCH.start + 5 * HOUR;
      await Promise.all(Array.from({ length: 8 }, () =>
        meta.transaction((tx) => tx.usage.addCounts([counts('app', hour, { transferOutBytes: 100, pullCount: 1 }), counts('app', hour + HOUR, { pushCount: 1 })]), 'usage'),
      ));
      await meta.usage.addCounts([counts('web', hour, { transferOutBytes: 7, pushCount: 2, pullCount: 3 })]);
      const hours = await meta.usage.hours(key('app'), MARCH.start, MARCH.end);
      assert.deepEqual(hours.map((r) => [r.hour, r.transferOutBytes, r.pushCount, r.pullCount]), [[hour, 800, 0, 8], [hour + HOUR, 0, 8, 0]]);
      const totals = await meta.usage.totals(MARCH.start, MARCH.end);
      assert.deepEqual(totals.map((t) => [t.repositoryName, t.transferOutBytes, t.pushCount, t.pullCount, t.storageByteHours]), [
        ['app', 800, 8, 8, 0],
        ['web', 7, 2, 3, 0],
      ]);
      assert.deepEqual(await meta.usage.totals(MARCH.end, MARCH.end + 31 * 24 * HOUR), [], 'April has nothing of March');
    });

    it('the meter batches counts in memory and writes them at flush', async () => {
      const meter = new UsageMeter(meta, REGION, { flushIntervalMs: 60_000 });
      const at = MARCH.start + 90 * 60_000;
      meter.count({ registryId: A, name: 'app' }, { pull: true, transferOutBytes: 1000 }, at);
      meter.count({ registryId: A, name: 'app' }, { push: true }, at + 1000);
      assert.deepEqual(await meta.usage.totals(MARCH.start, MARCH.end), [], 'nothing written before the flush');
      await meter.close();
      const [row] = await meta.usage.hours(key('app'), MARCH.start, MARCH.end);
      assert.deepEqual([row!.hour, row!.transferOutBytes, row!.pushCount, row!.pullCount], [MARCH.start + HOUR, 1000, 1, 1]);
    });

    it('stored bytes count each linked blob once per repository, and its manifests', async () => {
      const app = (await meta.createRepository(A, 'app'))!;
      const web = (await meta.createRepository(A, 'web'))!;
      await meta.commitBlob(app.id, dg('shared'), 1000);
      await meta.commitBlob(app.id, dg('config'), 24);
      await meta.linkBlob(web.id, dg('shared'));
      const manifest = manifestRow(app.id, 'm1');
      await meta.insertManifest(manifest, [{ child: dg('shared'), kind: 'blob' }, { child: dg('config'), kind: 'blob' }]);
      await meta.insertManifest(manifestRow(app.id, 'm2'), [{ child: dg('shared'), kind: 'blob' }]);
      assert.deepEqual(await meta.usage.storedBytes(), [
        { registryId: A, repositoryName: 'app', bytes: 1024 + manifest.size + manifestRow(app.id, 'm2').size, archiveBytes: 0 },
        { registryId: A, repositoryName: 'web', bytes: 1000, archiveBytes: 0 },
      ]);
    });

    it('stored bytes in the archive: archived images (also while being restored) and the blobs only they use', async () => {
      const app = (await meta.createRepository(A, 'app'))!;
      await meta.commitBlob(app.id, dg('shared'), 1000);
      await meta.commitBlob(app.id, dg('old-layer'), 300);
      await meta.commitBlob(app.id, dg('loose'), 7); // uploaded, used by no image: standard storage
      const m1 = manifestRow(app.id, 'm1');
      const m2 = manifestRow(app.id, 'm2');
      await meta.insertManifest(m1, [{ child: dg('shared'), kind: 'blob' }]);
      await meta.insertManifest(m2, [{ child: dg('shared'), kind: 'blob' }, { child: dg('old-layer'), kind: 'blob' }]);
      const total = 1307 + m1.size + m2.size;
      await meta.archiveManifest(app.id, dg('m2'), 1);
      // The shared layer is still used by an active image: standard. The old layer only by the archived one.
      assert.deepEqual(await meta.usage.storedBytes(), [{ registryId: A, repositoryName: 'app', bytes: total - 300 - m2.size, archiveBytes: 300 + m2.size }]);
      await meta.archiveManifest(app.id, dg('m1'), 2);
      assert.deepEqual(await meta.usage.storedBytes(), [{ registryId: A, repositoryName: 'app', bytes: 7, archiveBytes: total - 7 }]);
      await meta.startActivation(app.id, dg('m1'));
      assert.deepEqual(await meta.usage.storedBytes(), [{ registryId: A, repositoryName: 'app', bytes: 7, archiveBytes: total - 7 }], 'still in the archive while being restored');
      await meta.finishActivation(app.id, dg('m1'), 3);
      assert.deepEqual(await meta.usage.storedBytes(), [{ registryId: A, repositoryName: 'app', bytes: total - 300 - m2.size, archiveBytes: 300 + m2.size }]);
    });

    it('archive storage is integrated apart from standard storage, from the sample after the archive', async () => {
      // The image is archived between the samples at t0+2h and t0+3h: storage counts as standard until t0+3h.
      const app = (await meta.createRepository(A, 'app'))!;
      await meta.commitBlob(app.id, dg('layer'), 5000);
      const m = manifestRow(app.id, 'm');
      await meta.insertManifest(m, [{ child: dg('layer'), kind: 'blob' }]);
      const bytes = 5000 + m.size;
      const t0 = MARCH.start + 10 * HOUR;
      await sampleStorage(meta, REGION, t0);
      await sampleStorage(meta, REGION, t0 + 2 * HOUR);
      await meta.archiveManifest(app.id, dg('m'), t0 + 2 * HOUR);
      await sampleStorage(meta, REGION, t0 + 3 * HOUR);
      await sampleStorage(meta, REGION, t0 + 5 * HOUR);
      const [total] = await meta.usage.totals(MARCH.start, MARCH.end);
      assert.deepEqual(
        [total!.storageByteHours, total!.archiveStorageByteHours, total!.storageBytes, total!.archiveStorageBytes],
        [bytes * 3, bytes * 2, 0, bytes],
      );
      const hours = await meta.usage.hours(key('app'), MARCH.start, MARCH.end);
      assert.deepEqual(hours.map((h) => [h.hour - t0, h.byteHours, h.archiveByteHours]), [
        [0, bytes, 0],
        [HOUR, bytes, 0],
        [2 * HOUR, bytes, 0],
        [3 * HOUR, 0, bytes],
        [4 * HOUR, 0, bytes],
        [5 * HOUR, 0, 0],
      ]);
      assert.deepEqual((await meta.usage.storageMarks(REGION)).map((mk) => [mk.bytes, mk.archiveBytes]), [[0, bytes]]);
    });

    it('storage held for a known time at a known size is that many byte-hours, and its GB-months follow the formula', async () => {
      const app = (await meta.createRepository(A, 'app'))!;
      const size = 3 * 2 ** 30 + 12345;
      await meta.commitBlob(app.id, dg('layer'), size);
      const t0 = MARCH.start + 2 * 24 * HOUR + 15 * 60_000; // 2 March 00:15
      const t1 = t0 + 10 * 24 * HOUR + 5.5 * HOUR; // 12 March 05:45
      await sampleStorage(meta, REGION, t0);
      await sampleStorage(meta, REGION, t0 + 7 * HOUR + 1234); // a sample in between changes nothing
      await sampleStorage(meta, REGION, t1);

      const hours = await meta.usage.hours(key('app'), MARCH.start, MARCH.end);
      const first = t0 - (t0 % HOUR);
      assert.equal(hours.length, Math.ceil((t1 - first) / HOUR), 'a row for every hour the repository held storage');
      assert.equal(hours[0]!.hour, first);
      assert.ok(Math.abs(hours[0]!.byteHours - size * 0.75) < 1e-3, 'the first hour: 45 minutes');
      assert.ok(Math.abs(hours[1]!.byteHours - size) < 1e-3, 'a whole hour');
      assert.ok(Math.abs(hours.at(-1)!.byteHours - size * 0.75) < 1e-3, 'the last hour: 45 minutes');

      const [total] = await meta.usage.totals(MARCH.start, MARCH.end);
      const heldHours = (t1 - t0) / HOUR;
      assert.ok(Math.abs(total!.storageByteHours - size * heldHours) < 1e-2);
      assert.equal(total!.storageBytes, size);
      const expectedGbMonth = (size * heldHours) / (2 ** 30 * 31 * 24);
      assert.ok(Math.abs(gbMonths(total!.storageByteHours, MARCH) - expectedGbMonth) < 1e-12);
    });

    it('a storage change counts from the next sample; a deleted repository is charged until the sample that notices it, then holds nothing', async () => {
      const app = (await meta.createRepository(A, 'app'))!;
      await meta.commitBlob(app.id, dg('a'), 1000);
      const t0 = MARCH.start + 10 * HOUR;
      await sampleStorage(meta, REGION, t0);
      await meta.commitBlob(app.id, dg('b'), 3000);
      await sampleStorage(meta, REGION, t0 + 2 * HOUR);
      await meta.deleteRepository(app.id);
      await sampleStorage(meta, REGION, t0 + 3 * HOUR);
      await sampleStorage(meta, REGION, t0 + 9 * HOUR);
      const [total] = await meta.usage.totals(MARCH.start, MARCH.end);
      assert.equal(total!.storageByteHours, 1000 * 2 + 4000 * 1);
      assert.equal(total!.storageBytes, 0);
      assert.deepEqual(await meta.usage.storageMarks(REGION), []);
    });

    it('the sampling job samples storage and deletes the rows older than the retention', async () => {
      const app = (await meta.createRepository(A, 'app'))!;
      await meta.commitBlob(app.id, dg('a'), 1000);
      await meta.usage.addCounts([counts('old', MARCH.start - 400 * 24 * HOUR, { pullCount: 1 }), counts('old', MARCH.start - 10 * 24 * HOUR, { pullCount: 2 })]);
      let now = MARCH.start + HOUR;
      const job = usageSampleJobHandler(meta, REGION, 30, undefined, () => now);
      await job({} as never);
      now += 2 * HOUR;
      await job({} as never);
      const kept = await meta.usage.totals(0, MARCH.end);
      assert.deepEqual(kept.map((t) => [t.repositoryName, t.pullCount, t.storageByteHours]), [['app', 0, 2000], ['old', 2, 0]]);
    });

    it('two samplers at once integrate each interval once', async () => {
      const app = (await meta.createRepository(A, 'app'))!;
      await meta.commitBlob(app.id, dg('a'), 1000);
      const t0 = MARCH.start;
      await sampleStorage(meta, REGION, t0);
      await Promise.all([sampleStorage(meta, REGION, t0 + HOUR), sampleStorage(meta, REGION, t0 + HOUR), sampleStorage(meta, REGION, t0 + HOUR / 2)]);
      const [total] = await meta.usage.totals(MARCH.start, MARCH.end);
      assert.equal(total!.storageByteHours, 1000);
    });
  });
}
