// The ScanStore contract (vulnerability records, layer cache, image scans) on SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, afterEach, describe, it } from 'node:test';
import pg from 'pg';
import { MetadataStore, type NewManifestRow } from '../../src/store/meta/metadata-store.js';
import { migrate } from '../../src/store/meta/migrations.js';
import { PostgresDb } from '../../src/store/meta/postgres.js';
import type { VulnRecordRow } from '../../src/store/meta/scan-store.js';
import type { SqlDb } from '../../src/store/meta/sql.js';
import { SqliteDb } from '../../src/store/meta/sqlite.js';
import { startPostgres, type Postgres } from '../helpers/postgres.js';

const dg = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

function manifestRow(repoId: string, name: string): NewManifestRow {
  return {
    repoId,
    digest: dg(name),
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: null,
    configMediaType: null,
    subject: null,
    annotations: null,
    size: 2,
    layersSize: 0,
    body: Buffer.from('{}'),
    pushedAt: 1,
    lastPulledAt: null,
  };
}

function record(id: string, modified: string, affected: Array<[string, string]>, extra: Record<string, unknown> = {}): VulnRecordRow {
  const body = { id, modified, affected: affected.map(([ecosystem, name]) => ({ package: { ecosystem, name } })), ...extra };
  return { id, modified: Date.parse(modified), source: 'test', body: JSON.stringify(body), affected: affected.map(([ecosystem, name]) => ({ ecosystem, name })) };
}

function scanStoreContract(name: string, open: () => Promise<{ db: SqlDb; close(): Promise<void> }>): void {
  describe(`ScanStore contract: ${name}`, () => {
    let h: { db: SqlDb; close(): Promise<void> };
    let meta: MetadataStore;
    beforeEach(async () => {
      h = await open();
      meta = new MetadataStore(h.db);
    });
    afterEach(async () => h.close());

    it('ecosystems: the distinct ones starting with a prefix, in byte order', async () => {
      await meta.scans.importRecords(
        [
          record('SUSE-SU-1', '2024-01-01T00:00:00Z', [['SUSE:Linux Enterprise Module for Basesystem 15 SP5', 'openssl-3'], ['SUSE:Linux Enterprise Server 15 SP5-LTSS', 'openssl-3'], ['SUSE:Linux Enterprise Module for Basesystem 15 SP5', 'glibc']]),
          record('SUSE-SU-2', '2024-01-01T00:00:00Z', [['SUSE:Linux Enterprise Micro 5.5', 'glibc'], ['SUSE:Linux Enterprise!', 'x'], ['SUSE:Linux Enterprisf', 'x']]),
          record('openSUSE-SU-1', '2024-01-01T00:00:00Z', [['openSUSE:Leap 15.5', 'glibc'], ['SUSE:Linux', 'glibc']]),
        ],
        1000,
      );
      assert.deepEqual(await meta.scans.ecosystemsStartingWith('SUSE:Linux Enterprise '), [
        'SUSE:Linux Enterprise Micro 5.5',
        'SUSE:Linux Enterprise Module for Basesystem 15 SP5',
        'SUSE:Linux Enterprise Server 15 SP5-LTSS',
      ]);
      assert.deepEqual(await meta.scans.ecosystemsStartingWith('Debian:'), []);
    });

    it('records: imported, looked up by (ecosystem, name), replaced only by a later modified', async () => {
      const scans = meta.scans;
      assert.deepEqual(await scans.vulnDbFreshness(), { empty: true, newestModified: null });
      const first = await scans.importRecords(
        [record('GHSA-1', '2023-01-01T00:00:00Z', [['npm', 'lodash'], ['npm', 'lodash-es']]), record('DEBIAN-CVE-1', '2023-01-01T00:00:00Z', [['Debian:12', 'curl']])],
        1000,
      );
      assert.deepEqual(first, { added: 2, replaced: 0, unchanged: 0 });
      assert.deepEqual((await scans.recordsFor('npm', ['lodash', 'other'])).map((r) => [r.name, JSON.parse(r.body).id]), [['lodash', 'GHSA-1']]);
      assert.deepEqual(await scans.recordsFor('Debian:11', ['curl']), []);

      // An older copy changes nothing; a newer one replaces the body and the lookup keys.
      const older = await scans.importRecords([record('GHSA-1', '2022-01-01T00:00:00Z', [['npm', 'other']])], 2000);
      assert.deepEqual(older, { added: 0, replaced: 0, unchanged: 1 });
      assert.equal((await scans.recordsFor('npm', ['lodash'])).length, 1);
      const newer = await scans.importRecords([record('GHSA-1', '2024-01-01T00:00:00Z', [['npm', 'lodash.merge']], { summary: 'v2' })], 3000);
      assert.deepEqual(newer, { added: 0, replaced: 1, unchanged: 0 });
      assert.deepEqual(await scans.recordsFor('npm', ['lodash', 'lodash-es']), []);
      assert.equal(JSON.parse((await scans.recordsFor('npm', ['lodash.merge']))[0]!.body).summary, 'v2');
      // The same lookups in two steps (keys, then bodies), as the scanner's record cache makes them.
      const keys = await scans.recordKeysFor('npm', ['lodash.merge', 'lodash']);
      assert.deepEqual(keys, [{ name: 'lodash.merge', id: 'GHSA-1', modified: Date.parse('2024-01-01T00:00:00Z') }]);
      const bodies = await scans.recordBodies(['GHSA-1', 'GHSA-absent']);
      assert.deepEqual(bodies.map((b) => [b.id, b.modified, JSON.parse(b.body).summary]), [['GHSA-1', Date.parse('2024-01-01T00:00:00Z'), 'v2']]);

      const status = await scans.vulnDbStatus();
      assert.equal(status.records, 2);
      assert.deepEqual(status.ecosystems, [{ ecosystem: 'Debian:12', records: 1 }, { ecosystem: 'npm', records: 1 }]);
      assert.deepEqual(status.sources, [{ source: 'test', records: 2 }]);
      assert.equal(status.newestModified, Date.parse('2024-01-01T00:00:00Z'));
      assert.equal(status.updatedAt, 3000);
      // Freshness is the newest record's modified, not the import time (3000).
      assert.deepEqual(await scans.vulnDbFreshness(), { empty: false, newestModified: Date.parse('2024-01-01T00:00:00Z') });
    });

    it('records: many names are looked up in chunks', async () => {
      const rows = Array.from({ length: 1200 }, (_, i) => record(`X-${i}`, '2023-01-01T00:00:00Z', [['npm', `pkg-${i}`]]));
      await meta.scans.importRecords(rows);
      const found = await meta.scans.recordsFor('npm', rows.map((_, i) => `pkg-${i}`));
      assert.equal(found.length, 1200);
    });

    it('records: a package named twice in one record (one affected entry per branch) is one lookup key; a batch larger than a statement', async () => {
      const branches = record('GHSA-xvch-5gv4-984h', '2024-02-01T00:00:00Z', [['npm', 'minimist'], ['npm', 'minimist']]);
      const rows = [branches, ...Array.from({ length: 2500 }, (_, i) => record(`Y-${i}`, '2023-01-01T00:00:00Z', [['PyPI', `p-${i}`]]))];
      assert.deepEqual(await meta.scans.importRecords(rows), { added: 2501, replaced: 0, unchanged: 0 });
      assert.equal((await meta.scans.recordsFor('npm', ['minimist'])).length, 1);
      assert.equal((await meta.scans.recordsFor('PyPI', rows.map((_, i) => `p-${i}`))).length, 2500);
      // Again, with every second record newer: those are replaced, the rest left alone.
      const again = rows.map((r, i) => (i % 2 === 0 ? { ...r, modified: r.modified + 1 } : r));
      assert.deepEqual(await meta.scans.importRecords(again), { added: 0, replaced: 1251, unchanged: 1250 });
      assert.equal((await meta.scans.recordsFor('PyPI', rows.map((_, i) => `p-${i}`))).length, 2500);
      assert.equal((await meta.scans.vulnDbStatus()).records, 2501);
    });

    it('layer facts: cached per digest and analyzer version', async () => {
      assert.equal(await meta.scans.getLayerFacts(dg('l'), 1), undefined);
      await meta.scans.putLayerFacts(dg('l'), 1, '{"files":[]}');
      await meta.scans.putLayerFacts(dg('l'), 1, '{"files":[1]}');
      assert.equal(await meta.scans.getLayerFacts(dg('l'), 1), '{"files":[]}');
      assert.equal(await meta.scans.getLayerFacts(dg('l'), 2), undefined);
      // A newer analyzer's facts replace the older ones of the layer.
      await meta.scans.putLayerFacts(dg('l'), 2, '{"files":[2]}');
      assert.equal(await meta.scans.getLayerFacts(dg('l'), 1), undefined);
      assert.equal(await meta.scans.getLayerFacts(dg('l'), 2), '{"files":[2]}');
    });

    it('layer facts: forgotten when their blob is deleted, or left without a blob row for long', async () => {
      const now = Date.now();
      for (const name of ['deleted', 'stray-old', 'stray-new', 'kept']) await meta.scans.putLayerFacts(dg(name), 1, '{}', name === 'stray-new' ? now : 1000);
      const repo = (await meta.createRepository('111122223333', 'app'))!;
      await meta.commitBlob(repo.id, dg('kept'), 10);
      assert.equal(await meta.scans.forgetLayerFacts([dg('deleted')], now - 1), 2);
      assert.equal(await meta.scans.getLayerFacts(dg('deleted'), 1), undefined);
      assert.equal(await meta.scans.getLayerFacts(dg('stray-old'), 1), undefined, 'no blob row, cached before the cutoff');
      assert.equal(await meta.scans.getLayerFacts(dg('stray-new'), 1), '{}', 'may belong to a scan racing a push');
      assert.equal(await meta.scans.getLayerFacts(dg('kept'), 1), '{}', 'its blob is still there');
    });

    it('image scans: one request per window, progress, result, gone with the image', async () => {
      const repo = (await meta.createRepository('111122223333', 'app'))!;
      await meta.insertManifest(manifestRow(repo.id, 'm'), []);
      const digest = dg('m');
      assert.equal(await meta.scans.getScan(repo.id, digest), undefined);
      assert.equal(await meta.scans.requestScan(repo.id, digest, 'BASIC', 1000, 0), true);
      // Requested at 1000: another request allowed only if the last one is at or before notBefore.
      assert.equal(await meta.scans.requestScan(repo.id, digest, 'BASIC', 2000, 999), false);
      assert.equal((await meta.scans.getScan(repo.id, digest))?.requestedAt, 1000);
      assert.equal(await meta.scans.updateScan(repo.id, digest, { status: 'IN_PROGRESS' }), true);
      assert.equal(await meta.scans.getScanResult(repo.id, digest), undefined, 'no result while in progress');
      const result = { findings: [{ name: 'CVE-1' }], counts: { HIGH: 1 } };
      await meta.scans.updateScan(repo.id, digest, { status: 'COMPLETE', completedAt: 1500, vulnSourceUpdatedAt: 900, result });
      const done = await meta.scans.getScan(repo.id, digest);
      assert.deepEqual(done, {
        repoId: repo.id,
        digest,
        status: 'COMPLETE',
        description: null,
        scanType: 'BASIC',
        requestedAt: 1000,
        completedAt: 1500,
        vulnSourceUpdatedAt: 900,
        counts: { HIGH: 1 },
      });
      const stored = await meta.scans.getScanResult(repo.id, digest);
      assert.deepEqual({ ...stored, json: JSON.parse(stored!.json) }, { completedAt: 1500, json: result });
      assert.deepEqual((await meta.scans.listScans(repo.id, [digest]))[0]?.counts, { HIGH: 1 });
      // A row stored before the counts had a column of their own: its counts come from the result.
      await h.db.run('UPDATE image_scans SET finding_counts = NULL WHERE repo_id = ? AND digest = ?', [repo.id, digest]);
      assert.deepEqual((await meta.scans.getScan(repo.id, digest))?.counts, { HIGH: 1 });
      assert.deepEqual((await meta.scans.listScans(repo.id, [digest]))[0]?.counts, { HIGH: 1 });
      assert.deepEqual(await meta.scans.listCompletedScans(), [{ repoId: repo.id, digest }]);
      assert.equal((await meta.scans.listScans(repo.id, [digest, dg('other')])).length, 1);
      assert.equal(await meta.scans.requestScan(repo.id, digest, 'BASIC', 5000, 1000), true);
      assert.equal((await meta.scans.getScan(repo.id, digest))?.status, 'PENDING');
      await meta.deleteManifest(repo.id, digest);
      assert.equal(await meta.scans.getScan(repo.id, digest), undefined);
      assert.equal(await meta.scans.updateScan(repo.id, digest, { status: 'FAILED' }), false);
    });
  });
}

scanStoreContract('SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-contract-scan-'));
  const db = new SqliteDb(join(dir, 'metadata.db'));
  await migrate(db);
  return {
    db,
    async close() {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

let server: Postgres;
let admin: pg.Client;
let databases = 0;
describe('PostgreSQL', () => {
  before(async () => {
    server = await startPostgres();
    admin = new pg.Client(server.url);
    await admin.connect();
  });
  after(async () => {
    await admin?.end();
    await server?.stop();
  });
  scanStoreContract('PostgreSQL', async () => {
    const name = `scan_${++databases}`;
    await admin.query(`CREATE DATABASE ${name}`);
    const db = new PostgresDb(server.urlFor(name));
    await migrate(db);
    return {
      db,
      async close() {
        await db.close();
        await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
      },
    };
  });
});
