// The scanner over the embedded stores, without HTTP: scan on push queues a job in the push's
// transaction, a layer shared by two images is read once, the 24-hour limit, continuous rescans
// after the database changes, and findings gone with the image.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { collectGarbage } from '../../src/domain/gc/collect.js';
import { JobQueue } from '../../src/domain/jobs/queue.js';
import type { Repository } from '../../src/domain/registry/model.js';
import { Registry } from '../../src/domain/registry/registry.js';
import { isScanError } from '../../src/domain/scanning/errors.js';
import { RESCAN_JOB, SCAN_JOB, Scanning } from '../../src/domain/scanning/scanning.js';
import { ANALYZER_VERSION } from '../../src/domain/scanning/layers/analyze.js';
import { FsBlobStore } from '../../src/store/blob/fs-blob-store.js';
import type { Job } from '../../src/store/meta/job-store.js';
import { MetadataStore } from '../../src/store/meta/metadata-store.js';
import { migrate } from '../../src/store/meta/migrations.js';
import { SqliteDb } from '../../src/store/meta/sqlite.js';
import { dpkgStanzas, layerOf } from '../helpers/layers.js';

const ACCOUNT = '111122223333';
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'scanning');
const dg = (b: Buffer | string) => 'sha256:' + createHash('sha256').update(b).digest('hex');

async function* body(b: Buffer): AsyncIterable<Buffer> {
  yield b;
}

describe('scanning: the scanner over the embedded stores', () => {
  let dir: string;
  let db: SqliteDb;
  let meta: MetadataStore;
  let blobs: FsBlobStore;
  let registry: Registry;
  let jobs: JobQueue;
  let scanning: Scanning;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-scanner-'));
    db = new SqliteDb(join(dir, 'metadata.db'));
    await migrate(db);
    meta = new MetadataStore(db);
    blobs = new FsBlobStore(dir);
    await blobs.init();
    registry = new Registry(meta, blobs);
    jobs = new JobQueue(meta.jobs);
    scanning = new Scanning(meta, registry, jobs);
    await scanning.vulnDb.import([join(FIXTURES, 'debian-tracker.json'), join(FIXTURES, 'osv')]);
  });
  afterEach(async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function putBlob(repo: Repository, data: Buffer): Promise<string> {
    return (await registry.uploads.whole(repo, dg(data), body(data))).digest;
  }

  /** Pushes an image of the given layers (bottom first) under `tag`; returns its digest. */
  async function pushImage(repo: Repository, tag: string, layers: Buffer[]): Promise<string> {
    const layerDescs = [];
    for (const l of layers) layerDescs.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: await putBlob(repo, l), size: l.length });
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    const configDigest = await putBlob(repo, config);
    const manifest = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length }, layers: layerDescs }),
    );
    return (await registry.images.push({ registryId: ACCOUNT, name: repo.name }, tag, manifest, 'application/vnd.oci.image.manifest.v1+json')).digest;
  }

  /** Runs every queued job of `kind` through its handler, as the worker would. */
  async function runJobs(kind: string): Promise<Job[]> {
    const handler = kind === SCAN_JOB ? scanning.scanJobHandler() : scanning.rescanJobHandler();
    const ran: Job[] = [];
    for (let job = await meta.jobs.claim('test', [kind], 60_000); job; job = await meta.jobs.claim('test', [kind], 60_000)) {
      await handler(job);
      await meta.jobs.complete(job.id, 'test');
      ran.push(job);
    }
    return ran;
  }

  const base = async () =>
    layerOf([
      { path: 'etc/os-release', data: 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n' },
      { path: 'var/lib/dpkg/status', source: join(FIXTURES, 'dpkg', 'libcurl4_7.88.1-10+deb12u5.control') },
    ]);

  it('scan on push queues a job with the push; a shared base layer is read once, then comes from the cache', async () => {
    const repo = await registry.repositories.create({ registryId: ACCOUNT, name: 'app' }, { imageScanningConfiguration: { scanOnPush: true } });
    const baseLayer = await base();
    const first = await pushImage(repo, 'v1', [baseLayer]);
    assert.equal((await scanning.scanOf(repo, first))?.status, 'PENDING');
    assert.equal((await runJobs(SCAN_JOB)).length, 1);
    const done = (await scanning.scanOf(repo, first))!;
    assert.equal(done.status, 'COMPLETE');
    assert.deepEqual((await scanning.findingsOf(done))!.findings.map((f) => f.name).sort(), ['CVE-2024-2004', 'CVE-2024-2398']);

    // The base layer's bytes go; a second image on the same base still scans, from the cached facts.
    await rm(join(dir, 'blobs', 'sha256', dg(baseLayer).slice(7, 9), dg(baseLayer).slice(7)), { force: true });
    assert.equal(await blobs.stat(dg(baseLayer)), undefined, 'blob removed');
    const top = await layerOf([{ path: 'app/node_modules/lodash/package.json', source: join(FIXTURES, 'lodash-4.17.11.package.json') }]);
    const second = await pushImage(repo, 'v2', [baseLayer, top]);
    await runJobs(SCAN_JOB);
    const scan2 = (await scanning.scanOf(repo, second))!;
    assert.equal(scan2.status, 'COMPLETE', scan2.description ?? '');
    assert.equal((await scanning.findingsOf(scan2))!.findings.length, 2);

    // Another node (a scanner of its own, nothing held in memory) also takes the facts from the database.
    const otherNode = new Scanning(meta, registry, jobs);
    const third = await pushImage(repo, 'v3', [baseLayer, await layerOf([{ path: 'srv/readme.txt', data: 'another image on the same base\n' }])]);
    const job = await meta.jobs.claim('other-node', [SCAN_JOB], 60_000);
    assert.ok(job);
    await otherNode.scanJobHandler()(job);
    const scan3 = (await otherNode.scanOf(repo, third))!;
    assert.equal(scan3.status, 'COMPLETE', scan3.description ?? '');
    assert.equal((await otherNode.findingsOf(scan3))!.findings.length, 2);

    // The 24-hour limit applies to manual scans after a scan on push.
    await assert.rejects(scanning.startScan(repo, (await registry.images.get(repo, 'v1'))), (e) => isScanError(e, 'LimitExceeded'));
    // Deleting the image deletes its scan.
    await registry.images.deleteByDigest(repo, first);
    assert.equal(await scanning.scanOf(repo, first), undefined);
  });

  it('scan on push wakes this process\'s worker once the push has committed, not at its next poll', async () => {
    const woken: Array<{ queued: number }> = [];
    jobs.onEnqueued(async () => woken.push({ queued: (await meta.jobs.list({ kind: SCAN_JOB })).length }));
    const plain = await registry.repositories.create({ registryId: ACCOUNT, name: 'plain' }, {});
    await pushImage(plain, 'v1', [await base()]);
    assert.equal(woken.length, 0, 'nothing queued, nobody woken');
    const scanned = await registry.repositories.create({ registryId: ACCOUNT, name: 'scanned' }, { imageScanningConfiguration: { scanOnPush: true } });
    await pushImage(scanned, 'v1', [await base()]);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(woken, [{ queued: 1 }], 'woken once, when the job is visible');
  });

  it('no scan on push without the setting or a matching rule; a rule with a wildcard filter turns it on', async () => {
    const repo = await registry.repositories.create({ registryId: ACCOUNT, name: 'team/app' }, {});
    const digest = await pushImage(repo, 'v1', [await base()]);
    assert.equal(await scanning.scanOf(repo, digest), undefined);
    await scanning.putConfiguration(ACCOUNT, { scanType: 'BASIC', rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter: 'team/*', filterType: 'WILDCARD' }] }] });
    const again = await pushImage(repo, 'v2', [await base(), await layerOf([{ path: 'etc/motd', data: 'x' }])]);
    assert.equal((await scanning.scanOf(repo, again))?.status, 'PENDING');
    await assert.rejects(
      scanning.putConfiguration(ACCOUNT, { scanType: 'BASIC', rules: [{ scanFrequency: 'CONTINUOUS_SCAN', repositoryFilters: [] }] }),
      (e) => isScanError(e, 'Validation'),
    );
  });

  it('an image of no OS berth can read is UNSUPPORTED_IMAGE; an artifact or index cannot be scanned at all', async () => {
    const repo = await registry.repositories.create({ registryId: ACCOUNT, name: 'misc' }, {});
    const plain = await pushImage(repo, 'plain', [await layerOf([{ path: 'srv/readme.txt', data: 'hello' }])]);
    await scanning.startScan(repo, await registry.images.get(repo, 'plain'));
    await runJobs(SCAN_JOB);
    const scan = (await scanning.scanOf(repo, plain))!;
    assert.equal(scan.status, 'UNSUPPORTED_IMAGE');
    assert.equal(scan.description, 'UnsupportedImageError: The operating system and/or package manager are not supported.');

    // An OS berth reads but has no advisories for is not reported clean either.
    const fedora = await pushImage(repo, 'fedora', [await layerOf([{ path: 'etc/os-release', data: 'NAME="Fedora Linux"\nID=fedora\nVERSION_ID=40\n' }])]);
    await scanning.startScan(repo, await registry.images.get(repo, 'fedora'));
    await runJobs(SCAN_JOB);
    const fedoraScan = (await scanning.scanOf(repo, fedora))!;
    assert.equal(fedoraScan.status, 'UNSUPPORTED_IMAGE');
    assert.equal(fedoraScan.description, 'UnsupportedImageError: The operating system and/or package manager are not supported.');

    // CentOS 7 with its real rpmdb (go-rpmdb's test database): berth reads the packages, but no
    // advisory source covers CentOS. openSUSE Leap and SUSE Linux Enterprise publish into OSV: their images are scanned.
    const centos = await pushImage(repo, 'centos', [
      await layerOf([
        { path: 'etc/os-release', data: 'NAME="CentOS Linux"\nVERSION="7 (Core)"\nID="centos"\nVERSION_ID="7"\n' },
        { path: 'var/lib/rpm/Packages', source: '/usr/share/gocode/src/github.com/knqyf263/go-rpmdb/pkg/testdata/centos7-plain/Packages' },
      ]),
    ]);
    const leap = await pushImage(repo, 'leap', [await layerOf([{ path: 'etc/os-release', data: 'NAME="openSUSE Leap"\nID="opensuse-leap"\nVERSION_ID="15.5"\nPRETTY_NAME="openSUSE Leap 15.5"\n' }])]);
    const sles = await pushImage(repo, 'sles', [await layerOf([{ path: 'usr/lib/os-release', data: 'NAME="SLES"\nVERSION="15-SP5"\nVERSION_ID="15.5"\nPRETTY_NAME="SUSE Linux Enterprise Server 15 SP5"\nID="sles"\n' }])]);
    await scanning.startScan(repo, await registry.images.get(repo, 'centos'));
    await scanning.startScan(repo, await registry.images.get(repo, 'leap'));
    await scanning.startScan(repo, await registry.images.get(repo, 'sles'));
    await runJobs(SCAN_JOB);
    assert.equal((await scanning.scanOf(repo, centos))!.status, 'UNSUPPORTED_IMAGE');
    const leapScan = (await scanning.scanOf(repo, leap))!;
    assert.equal(leapScan.status, 'COMPLETE', leapScan.description ?? '');
    const slesScan = (await scanning.scanOf(repo, sles))!;
    assert.equal(slesScan.status, 'COMPLETE', slesScan.description ?? '');

    const config = Buffer.from('{}');
    const configDigest = await putBlob(repo, config);
    const artifact = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/vnd.example.sbom', config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: configDigest, size: 2 }, layers: [] }),
    );
    await registry.images.push({ registryId: ACCOUNT, name: 'misc' }, 'sbom', artifact, 'application/vnd.oci.image.manifest.v1+json');
    await assert.rejects(scanning.startScan(repo, await registry.images.get(repo, 'sbom')), (e) => isScanError(e, 'UnsupportedImageType'));
  });

  it('CONTINUOUS_SCAN: importing records that change the database rescans matching images', async () => {
    await scanning.putConfiguration(ACCOUNT, { scanType: 'ENHANCED', rules: [{ scanFrequency: 'CONTINUOUS_SCAN', repositoryFilters: [{ filter: '*', filterType: 'WILDCARD' }] }] });
    const repo = await registry.repositories.create({ registryId: ACCOUNT, name: 'svc' }, {});
    const digest = await pushImage(repo, 'v1', [await base(), await layerOf([{ path: 'app/node_modules/minimist/package.json', source: join(FIXTURES, 'minimist-1.2.5.package.json') }])]);
    await runJobs(SCAN_JOB);
    const before = (await scanning.scanOf(repo, digest))!;
    assert.equal(before.status, 'COMPLETE');
    assert.ok((await scanning.findingsOf(before))!.enhancedFindings!.some((f) => f.vulnerabilityId === 'CVE-2021-44906'));

    // A newer minimist record (fixed later) arrives: the image is rescanned and shows the new fix.
    const { readFileSync, writeFileSync } = await import('node:fs');
    const record = JSON.parse(readFileSync(join(FIXTURES, 'osv', 'GHSA-xvch-5gv4-984h.json'), 'utf8'));
    record.modified = '2031-01-01T00:00:00Z';
    record.affected[0].ranges[0].events[1].fixed = '1.2.7';
    writeFileSync(join(dir, 'newer.json'), JSON.stringify(record));
    await scanning.vulnDb.import([join(dir, 'newer.json')]);
    assert.equal((await runJobs(RESCAN_JOB)).length, 1);
    assert.equal((await scanning.scanOf(repo, digest))?.status, 'PENDING');
    await runJobs(SCAN_JOB);
    const after = (await scanning.scanOf(repo, digest))!;
    const minimist = (await scanning.findingsOf(after))!.enhancedFindings!.find((f) => f.vulnerabilityId === 'CVE-2021-44906')!;
    assert.equal(minimist.package.fixedInVersion, '1.2.7');
  });

  it('findings carry the newest `modified` of the database as vulnerabilitySourceUpdatedAt; older than 7 days or empty adds a warning', async () => {
    const repo = await registry.repositories.create({ registryId: ACCOUNT, name: 'fresh' }, { imageScanningConfiguration: { scanOnPush: true } });
    const layer = await base();
    const scanOf = async (tag: string, layers: Buffer[]) => {
      const digest = await pushImage(repo, tag, layers);
      await runJobs(SCAN_JOB);
      return (await scanning.scanOf(repo, digest))!;
    };
    // The real records imported so far: the GHSA ones were last modified in 2023 (the newest
    // GHSA-v845-jxx5-vc9f at 2023-11-04T00:30:22Z); the converted tracker records are as new as their
    // file, pinned here to a known time. The import itself just happened, and does not count.
    const snapshot = Date.parse('2024-05-01T12:00:00Z');
    const tracker = join(dir, 'debian-tracker.json');
    await copyFile(join(FIXTURES, 'debian-tracker.json'), tracker);
    await utimes(tracker, new Date(snapshot), new Date(snapshot));
    await db.run("DELETE FROM vuln_records WHERE source = 'debian-security-tracker'");
    await scanning.vulnDb.import([tracker]);
    const old = await scanOf('old', [layer]);
    assert.equal(old.status, 'COMPLETE');
    assert.equal(old.vulnSourceUpdatedAt, snapshot);
    assert.equal(old.description, 'The scan was completed successfully. Warning: the vulnerability database is older than 7 days.');
    assert.deepEqual((await scanning.findingsOf(old))!.findings.map((f) => f.name).sort(), ['CVE-2024-2004', 'CVE-2024-2398']);

    // A real record, as its source republished it a day ago: the database is current again.
    const record = JSON.parse(await readFile(join(FIXTURES, 'osv', 'GHSA-xvch-5gv4-984h.json'), 'utf8'));
    const republished = Math.floor((Date.now() - 24 * 60 * 60 * 1000) / 1000) * 1000;
    record.modified = new Date(republished).toISOString();
    await writeFile(join(dir, 'republished.json'), JSON.stringify(record));
    await scanning.vulnDb.import([join(dir, 'republished.json')]);
    const fresh = await scanOf('fresh', [layer, await layerOf([{ path: 'etc/fresh', data: 'x' }])]);
    assert.equal(fresh.description, 'The scan was completed successfully.');
    assert.equal(fresh.vulnSourceUpdatedAt, republished);

    // Importing the old snapshot again changes nothing: its records are no newer than the stored ones.
    const again = await scanning.vulnDb.import([tracker]);
    assert.deepEqual([again.added, again.replaced], [0, 0]);
    assert.equal((await meta.scans.vulnDbFreshness()).newestModified, republished);

    await db.run('DELETE FROM vuln_records');
    const empty = await scanOf('empty', [layer, await layerOf([{ path: 'etc/empty', data: 'x' }])]);
    assert.match(empty.description ?? '', /Warning: the vulnerability database is empty\./);
    assert.equal(empty.vulnSourceUpdatedAt, null);
  });

  it('garbage collection removes the cached facts of the layers it deletes, and keeps those still used', async () => {
    const repo = await registry.repositories.create({ registryId: ACCOUNT, name: 'gc' }, { imageScanningConfiguration: { scanOnPush: true } });
    const baseLayer = await base();
    const top = await layerOf([{ path: 'app/node_modules/lodash/package.json', source: join(FIXTURES, 'lodash-4.17.11.package.json') }]);
    await pushImage(repo, 'base', [baseLayer]);
    const app = await pushImage(repo, 'app', [baseLayer, top]);
    await runJobs(SCAN_JOB);
    assert.ok(await meta.scans.getLayerFacts(dg(baseLayer), ANALYZER_VERSION));
    assert.ok(await meta.scans.getLayerFacts(dg(top), ANALYZER_VERSION));

    await registry.images.deleteByDigest(repo, app);
    const gc = () => collectGarbage(meta, blobs, { graceMs: 5_000, now: Date.now() + 60_000 });
    await gc(); // the unused link goes
    const report = await gc(); // then the blob
    assert.ok(report.blobsDeleted >= 1);
    assert.equal(await blobs.stat(dg(top)), undefined, 'the top layer was collected');
    assert.equal(await meta.scans.getLayerFacts(dg(top), ANALYZER_VERSION), undefined, 'its cached facts went with it');
    assert.ok(await meta.scans.getLayerFacts(dg(baseLayer), ANALYZER_VERSION), 'the base layer is still used, its facts stay');
  });
});
