import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isStale, VulnDb } from '../../src/domain/scanning/vulndb/vulndb.js';
import { MetadataStore } from '../../src/store/meta/metadata-store.js';
import { migrate } from '../../src/store/meta/migrations.js';
import { SqliteDb } from '../../src/store/meta/sqlite.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'scanning');
const GO_VULNDB = '/usr/share/gocode/src/golang.org/x/vuln/client/testdata/vulndb';

/** A zip built with Python's zipfile (a real zip writer): entries name → file path or bytes. */
function makeZip(path: string, entries: Record<string, string>): void {
  const script = 'import sys,zipfile,json\nz=zipfile.ZipFile(sys.argv[1],"w",zipfile.ZIP_DEFLATED)\nfor n,src in json.loads(sys.argv[2]).items():\n  z.write(src,n) if not src.startswith("zeros:") else z.writestr(n, b"\\0"*int(src[6:]))\nz.close()';
  execFileSync('python3', ['-c', script, path, JSON.stringify(entries)]);
}

describe('scanning: vulnerability database import', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-vulndb-'));
  let db: SqliteDb;
  let meta: MetadataStore;
  let changes = 0;
  let vulndb: VulnDb;
  before(async () => {
    db = new SqliteDb(join(dir, 'metadata.db'));
    await migrate(db);
    meta = new MetadataStore(db);
    vulndb = new VulnDb(meta.scans, async () => {
      changes++;
    });
  });
  after(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('imports a directory of real Go vulndb OSV records; a file that is no record fails alone', async () => {
    const report = await vulndb.import([join(GO_VULNDB, 'ID')]);
    assert.equal(report.added, 5);
    assert.equal(report.failed, 1);
    assert.match(report.failures[0]!.where, /index\.json$/);
    assert.match(report.failures[0]!.message, /not an OSV record/);
    const stdlib = await meta.scans.recordsFor('Go', ['stdlib']);
    assert.ok(stdlib.some((r) => JSON.parse(r.body).id === 'GO-2021-0157'));
    assert.equal(changes, 1);
  });

  it('imports a module file holding a list of records (x/text)', async () => {
    const report = await vulndb.import(['/usr/share/gocode/src/golang.org/x/vuln/cmd/govulncheck/testdata/vulndb/golang.org/x/text.json']);
    assert.ok(report.added >= 1, JSON.stringify(report));
    assert.ok((await meta.scans.recordsFor('Go', ['golang.org/x/text'])).length >= 1);
  });

  it('imports a zip laid out like OSV all.zip, refuses an oversized (bomb) entry, re-import leaves records unchanged', async () => {
    const zip = join(dir, 'all.zip');
    makeZip(zip, {
      'GHSA-jf85-cpcp-j695.json': join(FIXTURES, 'osv', 'GHSA-jf85-cpcp-j695.json'),
      'GHSA-xvch-5gv4-984h.json': join(FIXTURES, 'osv', 'GHSA-xvch-5gv4-984h.json'),
      'GHSA-v845-jxx5-vc9f.json': join(FIXTURES, 'osv', 'GHSA-v845-jxx5-vc9f.json'),
      'bomb.json': 'zeros:40000000',
    });
    const report = await vulndb.import([zip]);
    assert.deepEqual([report.added, report.replaced, report.failed], [3, 0, 1]);
    assert.match(report.failures[0]!.message, /larger than/);
    assert.equal((await meta.scans.recordsFor('PyPI', ['urllib3'])).length, 1);
    assert.equal((await meta.scans.recordsFor('npm', ['lodash-es'])).length, 1);
    const again = await vulndb.import([zip]);
    assert.deepEqual([again.added, again.replaced, again.unchanged], [0, 0, 3]);
  });

  it('a zip entry whose header understates its size (a lying bomb) fails alone; the next entries still import', async () => {
    const zip = join(dir, 'liar.zip');
    makeZip(zip, { 'bomb.json': 'zeros:40000000', 'GHSA-xvch-5gv4-984h.json': join(FIXTURES, 'osv', 'GHSA-xvch-5gv4-984h.json') });
    // Rewrite the bomb's uncompressed size (local header and central directory) to 100 bytes.
    const bytes = readFileSync(zip);
    for (const [signature, at] of [[0x04034b50, 22], [0x02014b50, 24]] as const) {
      const found = bytes.indexOf(Buffer.from(new Uint32Array([signature]).buffer));
      bytes.writeUInt32LE(100, found + at);
    }
    writeFileSync(zip, bytes);
    const report = await vulndb.import([zip]);
    assert.equal(report.failed, 1);
    assert.match(report.failures[0]!.message, /larger than/);
    assert.equal(report.added + report.unchanged + report.replaced, 1);
  });

  it('a zip entry whose local header is damaged fails alone; the entries around it import', async () => {
    const zip = join(dir, 'damaged.zip');
    makeZip(zip, {
      'GO-2021-0157.json': join(GO_VULNDB, 'ID', 'GO-2021-0157.json'),
      'GO-2021-0159.json': join(GO_VULNDB, 'ID', 'GO-2021-0159.json'),
      'GO-2022-0463.json': join(GO_VULNDB, 'ID', 'GO-2022-0463.json'),
    });
    const bytes = readFileSync(zip);
    const signature = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
    const second = bytes.indexOf(signature, bytes.indexOf(signature) + 4);
    bytes.writeUInt32LE(0xdeadbeef, second);
    writeFileSync(zip, bytes);
    const report = await vulndb.import([zip]);
    assert.equal(report.failed, 1);
    assert.match(report.failures[0]!.where, /damaged\.zip!GO-2021-0159\.json$/);
    assert.match(report.failures[0]!.message, /invalid local header signature/);
    assert.equal(report.added + report.unchanged + report.replaced, 2);
  });

  it('replaces a record when a later `modified` is imported', async () => {
    const record = JSON.parse(execFileSync('cat', [join(FIXTURES, 'osv', 'GHSA-xvch-5gv4-984h.json')]).toString());
    record.modified = '2030-01-01T00:00:00Z';
    record.summary = 'updated';
    writeFileSync(join(dir, 'newer.json'), JSON.stringify(record));
    const report = await vulndb.import([join(dir, 'newer.json')]);
    assert.equal(report.replaced, 1);
    assert.equal(JSON.parse((await meta.scans.recordsFor('npm', ['minimist']))[0]!.body).summary, 'updated');
  });

  it('refuses malformed records and unknown ecosystems with a reason, keeps the good ones of the same file', async () => {
    writeFileSync(
      join(dir, 'mixed.json'),
      JSON.stringify([
        { id: 'X-1', modified: 'yesterday' },
        { id: 'X-2', modified: '2024-01-01T00:00:00Z', affected: [{ package: { ecosystem: 'Hackage', name: 'aeson' } }] },
        { id: 'X-3', modified: '2024-01-01T00:00:00Z', affected: [{ package: { ecosystem: 'npm', name: 'x' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0', fixed: '1' }] }] }] },
        { id: 'X-4', modified: '2024-01-01T00:00:00Z', affected: [{ package: { ecosystem: 'npm', name: 'ok' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.0.0' }] }] }] },
      ]),
    );
    writeFileSync(join(dir, 'broken.json'), '{"id": ');
    const report = await vulndb.import([join(dir, 'mixed.json'), join(dir, 'broken.json')]);
    assert.equal(report.added, 1);
    assert.equal(report.failed, 4);
    const messages = report.failures.map((f) => f.message).join('\n');
    assert.match(messages, /X-1: missing or invalid modified/);
    assert.match(messages, /X-2: unknown ecosystem "Hackage"/);
    assert.match(messages, /X-3: each range event has exactly one/);
    assert.match(messages, /JSON/);
  });

  it('converts Debian security-tracker JSON: per CVE, per release, not-affected left out', async () => {
    const report = await vulndb.import([join(FIXTURES, 'debian-tracker.json')]);
    assert.equal(report.failed, 0);
    const curl = (await meta.scans.recordsFor('Debian:12', ['curl'])).map((r) => JSON.parse(r.body));
    assert.deepEqual(curl.map((r) => r.id).sort(), ['DEBIAN-CVE-2023-38545', 'DEBIAN-CVE-2024-2004', 'DEBIAN-CVE-2024-2398']);
    const glibc11 = (await meta.scans.recordsFor('Debian:11', ['glibc'])).map((r) => JSON.parse(r.body));
    assert.equal(glibc11[0].id, 'DEBIAN-CVE-2023-4911');
    assert.deepEqual(glibc11[0].upstream, ['CVE-2023-4911']);
    assert.deepEqual(await meta.scans.recordsFor('Debian:12', ['xz-utils']), []);
  });

  it('converts Alpine secdb JSON keyed by origin; a "0" secfix is never affected', async () => {
    await vulndb.import([join(FIXTURES, 'alpine-secdb-v3.9-main.json'), join(FIXTURES, 'alpine-secdb-v3.16-main.json')]);
    const openssl = (await meta.scans.recordsFor('Alpine:v3.16', ['openssl'])).map((r) => JSON.parse(r.body));
    assert.deepEqual(openssl.map((r) => r.upstream[0]).sort(), ['CVE-2022-0778', 'CVE-2022-2097']);
    const status = await vulndb.status();
    assert.ok(status.sources.some((s) => s.source === 'alpine-secdb:v3.9/main'));
    assert.deepEqual((await meta.scans.recordsFor('Alpine:v3.9', ['busybox'])).map((r) => JSON.parse(r.body).id).sort(), ['ALPINE-V3.9-CVE-2018-20679', 'ALPINE-V3.9-CVE-2019-5747']);
    assert.ok(status.sources.some((s) => s.source === 'debian-security-tracker'));
    assert.ok(status.ecosystems.some((e) => e.ecosystem === 'Alpine:v3.9'));
  });

  it('update fetches a zip over HTTP and refuses other schemes and failing answers', async () => {
    const { createServer } = await import('node:http');
    const { readFileSync } = await import('node:fs');
    const zip = join(dir, 'served.zip');
    mkdirSync(join(dir, 'served'), { recursive: true });
    const record = JSON.parse(readFileSync(join(GO_VULNDB, 'ID', 'GO-2021-0159.json'), 'utf8'));
    record.modified = '2031-06-01T00:00:00Z';
    writeFileSync(join(dir, 'served', 'GO-2021-0159.json'), JSON.stringify(record));
    makeZip(zip, { 'GO-2021-0159.json': join(dir, 'served', 'GO-2021-0159.json') });
    const server = createServer((req, res) => {
      if (req.url === '/Go/all.zip') res.end(readFileSync(zip));
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const report = await vulndb.update(`http://127.0.0.1:${port}/Go/all.zip`);
      assert.equal(report.failed, 0);
      assert.equal(report.replaced, 1);
      assert.ok((await vulndb.status()).sources.some((s) => s.source === `http://127.0.0.1:${port}/Go/all.zip`));
      await assert.rejects(vulndb.update(`http://127.0.0.1:${port}/missing.zip`), /HTTP 404/);
      await assert.rejects(vulndb.update('file:///etc/passwd'), /only http and https/);
    } finally {
      server.close();
    }
  });
});

describe('scanning: vulnerability database freshness', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-vulndb-fresh-'));
  let db: SqliteDb;
  let meta: MetadataStore;
  let vulndb: VulnDb;
  before(async () => {
    db = new SqliteDb(join(dir, 'metadata.db'));
    await migrate(db);
    meta = new MetadataStore(db);
    vulndb = new VulnDb(meta.scans);
  });
  after(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is the newest `modified` among the records, not the time of the import', async () => {
    assert.equal((await vulndb.status()).newestModified, null);
    assert.equal(isStale(null), true);
    const before = Date.now();
    await vulndb.import([join(FIXTURES, 'osv')]);
    const status = await vulndb.status();
    // GHSA-v845-jxx5-vc9f (2023-11-04T00:30:22Z) is newer than GHSA-jf85-cpcp-j695 and GHSA-xvch-5gv4-984h.
    assert.equal(status.newestModified, Date.parse('2023-11-04T00:30:22Z'));
    assert.ok(status.updatedAt! >= before, 'the import time is kept apart');
    assert.equal(isStale(status.newestModified), true);
    const week = 7 * 24 * 60 * 60 * 1000;
    assert.equal(isStale(status.newestModified, status.newestModified! + week), false);
    assert.equal(isStale(status.newestModified, status.newestModified! + week + 1), true);
  });

  it('records converted from a secdb file in a zip are as new as the zip entry', async () => {
    const secdb = join(dir, 'v3.16-main.json');
    writeFileSync(secdb, readFileSync(join(FIXTURES, 'alpine-secdb-v3.16-main.json')));
    const entryTime = new Date(2031, 0, 2, 3, 4, 6); // zip times are local, to 2 s
    utimesSync(secdb, entryTime, entryTime);
    makeZip(join(dir, 'alpine.zip'), { 'v3.16/main.json': secdb });
    const report = await vulndb.import([join(dir, 'alpine.zip')]);
    assert.equal(report.failed, 0);
    assert.ok(report.added > 0);
    const openssl = (await meta.scans.recordsFor('Alpine:v3.16', ['openssl'])).map((r) => JSON.parse(r.body));
    assert.ok(openssl.length > 0);
    for (const r of openssl) assert.equal(r.modified, entryTime.toISOString());
    assert.equal((await vulndb.status()).newestModified, entryTime.getTime());
  });
});
