// Usage and cost: an image pushed with skopeo, pulled with skopeo and through the ECR API, then
// `berth admin usage` reports the push, the pulls, the bytes sent, the bytes stored and the
// GB-months they add up to, in JSON, CSV and as a table; once the image is archived, its bytes are
// archive storage, at the archive price.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BatchGetImageCommand, GetDownloadUrlForLayerCommand, UpdateImageStorageClassCommand } from '@aws-sdk/client-ecr';
import { REPO_ROOT, startBerth, type Berth } from '../helpers/berth.js';
import { buildImage, type LayoutImage } from '../helpers/images.js';
import { run, skopeo, tempDir } from '../helpers/tools.js';

const REPO = 'usage/app';
const GiB = 2 ** 30;

interface Report {
  month: string;
  repositories: Array<{
    repositoryName: string;
    region: string;
    storageBytes: number;
    storageByteHours: number;
    storageGbMonth: number;
    archiveStorageBytes: number;
    archiveStorageByteHours: number;
    archiveStorageGbMonth: number;
    transferOutBytes: number;
    pushCount: number;
    pullCount: number;
    storageCostUsd: number;
    archiveStorageCostUsd: number;
    transferOutCostUsd: number;
    estimatedCostUsd: number;
  }>;
  prices: { archiveStorageGbMonthUsd: number };
  totals: { pushCount: number; pullCount: number; archiveStorageGbMonth: number };
  trend: Array<{ month: string }>;
}

function currentMonth(): string {
  return new Date().toISOString().slice(0, 7);
}

describe('usage and cost', { timeout: 600_000 }, () => {
  let b: Berth;
  let work: { path: string; remove: () => Promise<void> };
  let image: LayoutImage;
  let storedSize = 0;
  let pulledBytes = 0;
  let manifestGets = 0;

  let adminEnv: Record<string, string> = {};
  const admin = (args: string[], check = true) =>
    run(process.execPath, [join(REPO_ROOT, 'bin', 'berth.js'), 'admin', 'usage', ...args, '--data-dir', b.dataDir], { timeoutMs: 120_000, check, env: adminEnv });

  async function report(...more: string[]): Promise<Report> {
    return JSON.parse((await admin(['--month', currentMonth(), '--json', ...more])).stdout) as Report;
  }

  /** Counters reach the database within a few seconds of the requests: wait for them. */
  async function reportWhen(ready: (r: Report) => boolean): Promise<Report> {
    let last: Report | undefined;
    for (let i = 0; i < 30; i++) {
      last = await report();
      if (ready(last)) return last;
      await new Promise((r) => setTimeout(r, 1000));
    }
    assert.fail(`usage never showed what was expected: ${JSON.stringify(last)}`);
  }

  before(async () => {
    // Storage sampled by the server every second, besides the samples `berth admin usage` takes.
    b = await startBerth({ env: { BERTH_LOG_LEVEL: 'info', BERTH_USAGE_SAMPLE_INTERVAL: '1' } });
    work = await tempDir('berth-usage-');
    image = await buildImage({ layout: join(work.path, 'layout'), tag: 'v1', files: [{ path: '/etc/motd', content: 'usage test\n'.repeat(5000) }, { path: '/etc/other', content: 'other' }] });
    await b.createRepository(REPO);
    const creds = `AWS:${b.password}`;
    await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', creds, image.ref, `docker://${b.host}/${REPO}:v1`]);
    // What the repository holds, as its clients see it: the manifest, its config and layers.
    const raw = (await skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', creds, `docker://${b.host}/${REPO}:v1`])).stdout;
    const manifest = JSON.parse(raw) as { config: { size: number }; layers: Array<{ size: number }> };
    storedSize = Buffer.byteLength(raw) + manifest.config.size + manifest.layers.reduce((s, l) => s + l.size, 0);
    await skopeo(['copy', '--src-tls-verify=false', '--src-creds', creds, `docker://${b.host}/${REPO}:v1`, `oci:${join(work.path, 'pulled')}:v1`]);
    pulledBytes += storedSize;
    // A pull through the ECR API: BatchGetImage, and a layer through its download URL.
    const got = await b.ecr!.send(new BatchGetImageCommand({ repositoryName: REPO, imageIds: [{ imageTag: 'v1' }] }));
    assert.equal(got.images?.length, 1);
    const url = await b.ecr!.send(new GetDownloadUrlForLayerCommand({ repositoryName: REPO, layerDigest: image.layerDigests[0]! }));
    const layer = Buffer.from(await (await fetch(url.downloadUrl!)).arrayBuffer());
    pulledBytes += layer.length;
    manifestGets = 1; // the BatchGetImage call
  });

  after(async () => {
    await b?.destroy();
    await work?.remove();
  });

  test('the push, the pulls, the bytes sent and the bytes stored', async () => {
    // The /v2 manifest GETs and PUTs skopeo made (`inspect` and `copy` each GET the manifest), as
    // the request log recorded them; it is written in blocks, so wait for the last request's line.
    type Line = { action?: string; repository?: string; status: number };
    const requestLines = () => b.output().split('\n').filter((l) => l.startsWith('{') && l.includes('"msg":"request"')).map((l) => JSON.parse(l) as Line);
    let logged = requestLines();
    for (let i = 0; i < 50 && !logged.some((l) => l.action === 'download layer'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      logged = requestLines();
    }
    const manifestPulls = logged.filter((l) => l.action === 'pull manifest' && l.repository === REPO && l.status === 200).length;
    const manifestPushes = logged.filter((l) => l.action === 'push manifest' && l.repository === REPO && l.status === 201).length;
    assert.ok(manifestPulls >= 2 && manifestPushes === 1, `${manifestPulls} manifest GETs, ${manifestPushes} PUTs logged`);
    const r = await reportWhen((rep) => rep.repositories.some((x) => x.repositoryName === REPO && x.pullCount >= manifestPulls + manifestGets));
    assert.equal(r.month, currentMonth());
    const repo = r.repositories.find((x) => x.repositoryName === REPO)!;
    assert.equal(repo.region, 'us-east-1');
    assert.equal(repo.pushCount, manifestPushes);
    assert.equal(repo.pullCount, manifestPulls + manifestGets);
    assert.ok(repo.transferOutBytes >= pulledBytes, `${repo.transferOutBytes} bytes sent, ${pulledBytes} pulled`);
    assert.ok(repo.transferOutBytes < pulledBytes + 64 * 1024, 'only content reads count, with their headers');
    assert.equal(repo.storageBytes, storedSize);
    assert.equal(r.trend.length, 6);
    assert.equal(r.trend.at(-1)!.month, currentMonth());
  });

  test('storage GB-months accrue between samples at the stored size', async () => {
    const before = (await report()).repositories.find((x) => x.repositoryName === REPO)!;
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 2000));
    const t1 = Date.now();
    const after = (await report()).repositories.find((x) => x.repositoryName === REPO)!;
    const t2 = Date.now();
    // The second report sampled somewhere in [t1, t2]; the first one before t0.
    const added = after.storageByteHours - before.storageByteHours;
    assert.ok(added >= (storedSize * (t1 - t0)) / 3_600_000, `${added} byte-hours added`);
    const hoursInMonth = (() => {
      const d = new Date();
      return (Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) - Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)) / 3_600_000;
    })();
    assert.ok(Math.abs(after.storageGbMonth - after.storageByteHours / (GiB * hoursInMonth)) < 1e-15);
    assert.ok(added <= (storedSize * (t2 - t0 + 60_000)) / 3_600_000);
    // Well within the free tier: nothing to pay for storage; the transfer out costs $0.09 per GB.
    assert.ok(Math.abs(after.estimatedCostUsd - (after.transferOutBytes / GiB) * 0.09) <= 1e-8);
  });

  test('the server samples storage by itself: the stored bytes and GB-months grow without berth admin sampling', async () => {
    const first = (await report('--no-sample')).repositories.find((x) => x.repositoryName === REPO)!;
    assert.equal(first.storageBytes, storedSize);
    let later = first;
    for (let i = 0; i < 20 && later.storageByteHours <= first.storageByteHours; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      later = (await report('--no-sample')).repositories.find((x) => x.repositoryName === REPO)!;
    }
    assert.ok(later.storageByteHours > first.storageByteHours, 'the usage.sample-storage job integrated more storage');
  });

  test('CSV and the table name the repository; a malformed month is refused', async () => {
    const csv = (await admin(['--month', currentMonth(), '--csv'])).stdout.trim().split('\n');
    assert.match(csv[0]!, /^month,repositoryName,region,registryId,accountId,public,storageBytes,storageGbMonth,transferOutBytes,pushCount,pullCount,.*,archiveStorageBytes,archiveStorageGbMonth,archiveStorageCostUsd$/);
    const row = csv.find((l) => l.includes(`,${REPO},`));
    assert.ok(row, csv.join('\n'));
    assert.equal(row!.split(',')[6], String(storedSize));
    const table = (await admin(['--month', currentMonth()])).stdout;
    assert.match(table, new RegExp(`Usage for ${currentMonth()}`));
    assert.match(table, /REPOSITORY +ACCOUNT +REGION +STORED +GB-MONTH +ARCHIVED +ARCHIVE GB-MONTH +TRANSFER OUT +PUSHES +PULLS +EST\. COST/);
    assert.match(table, new RegExp(`^${REPO.replace('/', '\\/')} `, 'm'));
    assert.match(table, /^Trend:/m);
    for (const bad of ['2026-13', '2026-1', 'last-month']) {
      const res = await admin(['--month', bad, '--json'], false);
      assert.notEqual(res.code, 0, bad);
      assert.match(res.stderr, /YYYY-MM/);
      assert.equal(res.stdout, '');
    }
    const empty = JSON.parse((await admin(['--month', '2001-01', '--json'])).stdout) as Report;
    assert.deepEqual(empty.repositories, []);
  });

  test('an archived image is archive storage: its own bytes and GB-months, at BERTH_PRICE_ARCHIVE_STORAGE_GB_MONTH', async () => {
    const archived = await b.ecr!.send(new UpdateImageStorageClassCommand({ repositoryName: REPO, imageId: { imageTag: 'v1' }, targetStorageClass: 'ARCHIVE' }));
    assert.equal(archived.imageStatus, 'ARCHIVED');
    adminEnv = { BERTH_PRICE_ARCHIVE_STORAGE_GB_MONTH: '5000' };
    const first = (await report()).repositories.find((x) => x.repositoryName === REPO)!;
    assert.deepEqual([first.storageBytes, first.archiveStorageBytes], [0, storedSize], 'the sample after the archive holds it all in the archive');
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 2000));
    const r = await report();
    assert.equal(r.prices.archiveStorageGbMonthUsd, 5000);
    const later = r.repositories.find((x) => x.repositoryName === REPO)!;
    const addedArchive = later.archiveStorageByteHours - first.archiveStorageByteHours;
    assert.ok(addedArchive >= (storedSize * (Date.now() - t0 - 2000)) / 3_600_000 && addedArchive > 0, `${addedArchive} archive byte-hours added`);
    assert.equal(later.storageByteHours, first.storageByteHours, 'no standard storage accrues once archived');
    const hoursInMonth = (() => {
      const d = new Date();
      return (Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) - Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)) / 3_600_000;
    })();
    assert.ok(Math.abs(later.archiveStorageGbMonth - later.archiveStorageByteHours / (GiB * hoursInMonth)) < 1e-15);
    assert.ok(Math.abs(later.archiveStorageCostUsd - later.archiveStorageGbMonth * 5000) <= 1e-8);
    assert.ok(later.archiveStorageCostUsd > 0);
    assert.ok(Math.abs(later.estimatedCostUsd - (later.storageCostUsd + later.archiveStorageCostUsd + later.transferOutCostUsd)) <= 2e-8);
    assert.equal(r.totals.archiveStorageGbMonth, later.archiveStorageGbMonth);

    const csv = (await admin(['--month', currentMonth(), '--csv'])).stdout.trim().split('\n');
    const columns = csv[0]!.split(',');
    const row = csv.find((l) => l.includes(`,${REPO},`))!.split(',');
    assert.equal(row[columns.indexOf('archiveStorageBytes')], String(storedSize));
    assert.ok(Number(row[columns.indexOf('archiveStorageGbMonth')]) > 0);
    assert.match(await admin(['--month', currentMonth()]).then((t) => t.stdout), /\$5000\/GB-month archived/);
  });
});
