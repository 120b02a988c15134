import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildFindings, rpmVersionParts } from '../../src/domain/scanning/findings.js';
import type { OsvRecord } from '../../src/domain/scanning/vulndb/osv.js';
import { analyzeLayer } from '../../src/domain/scanning/layers/analyze.js';
import { mergeLayers } from '../../src/domain/scanning/layers/merge.js';
import { evaluateAffected, evaluateRange, matchPackages } from '../../src/domain/scanning/match.js';
import { cvssScore, severityOfScore } from '../../src/domain/scanning/severity.js';
import { comparator } from '../../src/domain/scanning/version/index.js';
import { VulnDb } from '../../src/domain/scanning/vulndb/vulndb.js';
import { MetadataStore } from '../../src/store/meta/metadata-store.js';
import { migrate } from '../../src/store/meta/migrations.js';
import { SqliteDb } from '../../src/store/meta/sqlite.js';
import { chunked, dpkgStanzas, layerOf, type LayerEntry } from '../helpers/layers.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'scanning');
const GO_VULNDB = '/usr/share/gocode/src/golang.org/x/vuln/client/testdata/vulndb';
const URLLIB3_EGG = 'usr/lib/python3/dist-packages/urllib3-1.26.12.egg-info/PKG-INFO';

const OS_RELEASE_12 = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n';

/** A Debian 12 image: real dpkg stanzas (libcurl4 at the vulnerable 7.88.1-10+deb12u5, this machine's libc6, zlib1g, python3-urllib3), real npm packages. */
function debianImage(osRelease = OS_RELEASE_12): LayerEntry[] {
  const status = [readFileSync(join(FIXTURES, 'dpkg', 'libcurl4_7.88.1-10+deb12u5.control'), 'utf8').trim(), dpkgStanzas(['libc6', 'zlib1g', 'python3-urllib3']).trim()].join('\n\n');
  return [
    { path: 'usr/lib/os-release', data: osRelease },
    { path: 'etc/os-release', symlink: '../usr/lib/os-release' },
    { path: 'var/lib/dpkg/status', data: `${status}\n` },
    { path: 'var/lib/dpkg/info/python3-urllib3.md5sums', source: '/var/lib/dpkg/info/python3-urllib3.md5sums' },
    { path: URLLIB3_EGG, source: `/${URLLIB3_EGG}` },
    { path: 'app/node_modules/lodash/package.json', source: join(FIXTURES, 'lodash-4.17.11.package.json') },
    { path: 'app/node_modules/minimist/package.json', source: join(FIXTURES, 'minimist-1.2.5.package.json') },
  ];
}

async function contentsOf(entries: LayerEntry[]) {
  return mergeLayers([{ digest: 'sha256:l1', facts: await analyzeLayer(chunked(await layerOf(entries))) }]);
}

describe('scanning: matching packages against real advisories', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-match-'));
  let db: SqliteDb;
  let meta: MetadataStore;
  before(async () => {
    db = new SqliteDb(join(dir, 'metadata.db'));
    await migrate(db);
    meta = new MetadataStore(db);
    const report = await new VulnDb(meta.scans).import([
      join(FIXTURES, 'osv'),
      join(FIXTURES, 'debian-tracker.json'),
      join(FIXTURES, 'alpine-secdb-v3.9-main.json'),
      join(FIXTURES, 'alpine-secdb-v3.16-main.json'),
      join(GO_VULNDB, 'ID', 'GO-2021-0157.json'),
      join(GO_VULNDB, 'ID', 'GO-2022-0572.json'),
    ]);
    assert.equal(report.failed, 0, JSON.stringify(report.failures));
  });
  after(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('BASIC: Debian OS packages by source package and version; fixed versions and OS-owned Python files not reported', async () => {
    const contents = await contentsOf(debianImage());
    const result = buildFindings(await matchPackages(contents.os, contents.packages, meta.scans), 'BASIC');
    const names = result.findings.map((f) => `${f.name} ${f.attributes.find((a) => a.key === 'package_name')!.value}`).sort();
    // curl 7.88.1-10+deb12u5: CVE-2024-2004 and -2398 fixed in deb12u6 are reported; CVE-2023-38545 (fixed deb12u4) is not.
    // libc6 (fixed long ago), zlib1g (1:1.2.13 ≥ 1:1.2.11.dfsg-4.1), python3-urllib3 (≥ 1.26.12-1+deb12u1): nothing.
    assert.deepEqual(names, ['CVE-2024-2004 libcurl4', 'CVE-2024-2398 libcurl4']);
    const f = result.findings.find((x) => x.name === 'CVE-2024-2398')!;
    assert.equal(f.severity, 'MEDIUM');
    assert.deepEqual(f.attributes.slice(0, 2), [
      { key: 'package_version', value: '7.88.1-10+deb12u5' },
      { key: 'package_name', value: 'libcurl4' },
    ]);
    assert.equal(f.uri, 'https://security-tracker.debian.org/tracker/CVE-2024-2398');
    assert.deepEqual(result.counts, { LOW: 1, MEDIUM: 1 });
  });

  it('ENHANCED: language packages too, named by CVE, scored from CVSS; the dpkg-owned urllib3 is not reported from PyPI', async () => {
    const contents = await contentsOf(debianImage());
    const result = buildFindings(await matchPackages(contents.os, contents.packages, meta.scans), 'ENHANCED');
    const got = result.enhancedFindings!.map((f) => [f.vulnerabilityId, f.package.name, f.severity, f.score ?? null, f.package.fixedInVersion ?? null]);
    assert.deepEqual(got, [
      ['CVE-2019-10744', 'lodash', 'CRITICAL', 9.1, '4.17.12'],
      ['CVE-2021-44906', 'minimist', 'CRITICAL', 9.8, '1.2.6'],
      ['CVE-2024-2398', 'libcurl4', 'MEDIUM', null, '7.88.1-10+deb12u6'],
      ['CVE-2024-2004', 'libcurl4', 'LOW', null, '7.88.1-10+deb12u6'],
    ]);
    const lodash = result.enhancedFindings![0]!;
    assert.deepEqual(lodash.relatedVulnerabilities, ['GHSA-jf85-cpcp-j695']);
    assert.equal(lodash.package.filePath, 'app/node_modules/lodash/package.json');
    assert.equal(lodash.package.sourceLayerHash, 'sha256:l1');
    // Inspector's PackageManager values: an installed node package, an OS package.
    assert.equal(lodash.package.packageManager, 'NODEPKG');
    assert.equal(result.enhancedFindings!.find((f) => f.package.name === 'libcurl4')!.package.packageManager, 'OS');
  });

  it('ENHANCED: an RPM package carries its epoch and release apart from its version, as Inspector reports them', () => {
    // openssl-libs and glibc as CentOS 7.5's rpmdb records them (go-rpmdb's centos7 test database).
    assert.deepEqual(rpmVersionParts('1:1.0.2k-12.el7'), { epoch: 1, version: '1.0.2k', release: '12.el7' });
    assert.deepEqual(rpmVersionParts('2.17-222.el7'), { epoch: 0, version: '2.17', release: '222.el7' });
    // The finding's shape, from a record laid out like Rocky Linux's OSV records.
    const affected = { package: { ecosystem: 'Rocky Linux:8', name: 'openssl' }, ranges: [{ type: 'ECOSYSTEM' as const, events: [{ introduced: '0' }, { fixed: '1:1.1.1k-12.el8_9' }] }] };
    const record = { id: 'RLSA-2024:0001', modified: '2024-01-01T00:00:00Z', upstream: ['CVE-2023-5678'], affected: [affected] } as OsvRecord;
    const pkg = { type: 'rpm' as const, name: 'openssl-libs', version: '1:1.1.1k-9.el8_7', srcName: 'openssl', arch: 'x86_64', path: 'var/lib/rpm/rpmdb.sqlite', layer: 'sha256:l1' };
    const result = buildFindings([{ record, affected, pkg, fixedVersion: '1:1.1.1k-12.el8_9' }], 'ENHANCED');
    assert.deepEqual(result.enhancedFindings![0]!.package, {
      name: 'openssl-libs',
      epoch: 1,
      version: '1.1.1k',
      release: '9.el8_7',
      arch: 'x86_64',
      packageManager: 'OS',
      filePath: 'var/lib/rpm/rpmdb.sqlite',
      sourceLayerHash: 'sha256:l1',
      fixedInVersion: '1:1.1.1k-12.el8_9',
    });
  });

  it('a record for another release does not match (Debian 11 image, Debian:12 records)', async () => {
    const contents = await contentsOf(debianImage(OS_RELEASE_12.replace('VERSION_ID="12"', 'VERSION_ID="11"')));
    const result = buildFindings(await matchPackages(contents.os, contents.packages, meta.scans), 'BASIC');
    assert.deepEqual(result.findings, []);
  });

  it('Alpine by origin and apk order: musl 1.1.20-r4 < 1.1.20-r5 reported, busybox 1.29.3-r10 only for the later fix', async () => {
    const contents = await contentsOf([
      { path: 'etc/alpine-release', data: '3.9.4\n' },
      {
        path: 'lib/apk/db/installed',
        data: 'P:musl\nV:1.1.20-r4\nA:x86_64\no:musl\n\nP:busybox\nV:1.29.3-r10\nA:x86_64\no:busybox\n\nP:libcrypto1.1\nV:1.1.1b-r1\nA:x86_64\no:openssl\n\n',
      },
    ]);
    const result = buildFindings(await matchPackages(contents.os, contents.packages, meta.scans), 'BASIC');
    assert.deepEqual(result.findings.map((f) => `${f.name} ${f.attributes[1]!.value} ${f.attributes[0]!.value}`).sort(), [
      'CVE-2019-14697 musl 1.1.20-r4',
      'CVE-2019-5747 busybox 1.29.3-r10',
    ]);
    // The openssl secfixes are Alpine 3.16's: libcrypto1.1 (origin openssl) on 3.9 is not matched against another release.
    const on316 = await contentsOf([
      { path: 'etc/alpine-release', data: '3.16.0\n' },
      { path: 'lib/apk/db/installed', data: 'P:libcrypto3\nV:3.0.1-r1\no:openssl\n\nP:libssl3\nV:3.0.5-r0\no:openssl\n\n' },
    ]);
    const openssl = buildFindings(await matchPackages(on316.os, on316.packages, meta.scans), 'BASIC');
    // libcrypto3 3.0.1-r1 is before both fixes; libssl3 3.0.5-r0 is the second fix itself; the "0" secfix never matches.
    assert.deepEqual(openssl.findings.map((f) => `${f.name} ${f.attributes[1]!.value}`).sort(), ['CVE-2022-0778 libcrypto3', 'CVE-2022-2097 libcrypto3']);
  });

  it('an unfixed Go record (GO-2022-0572, introduced 0, no fix) matches every version, a fixed stdlib record only older ones', () => {
    const beego = JSON.parse(readFileSync(join(GO_VULNDB, 'ID', 'GO-2022-0572.json'), 'utf8'));
    const affected = beego.affected.find((a: { package: { name: string } }) => a.package.name === 'github.com/beego/beego');
    assert.deepEqual(evaluateAffected(affected, 'Go', 'v1.12.12'), {});
    const std = JSON.parse(readFileSync(join(GO_VULNDB, 'ID', 'GO-2021-0157.json'), 'utf8')).affected[0];
    assert.deepEqual(evaluateAffected(std, 'Go', '1.4.2'), { fixed: '1.4.3' });
    assert.equal(evaluateAffected(std, 'Go', '1.19.8'), undefined);
  });

  it('OSV ranges: split GHSA intervals, ties, last_affected, limit, explicit versions', () => {
    const semver = comparator('semver');
    const r = (events: object[]) => ({ type: 'ECOSYSTEM' as const, events });
    assert.deepEqual(evaluateRange(r([{ introduced: '1.0.0' }, { fixed: '1.2.6' }]), '1.2.5', semver), { fixed: '1.2.6' });
    assert.equal(evaluateRange(r([{ introduced: '1.0.0' }, { fixed: '1.2.6' }]), '1.2.6', semver), undefined);
    assert.equal(evaluateRange(r([{ introduced: '1.0.0' }, { fixed: '1.2.6' }]), '0.9.0', semver), undefined);
    assert.equal(evaluateRange(r([{ introduced: '1.0.0' }, { fixed: '1.0.0' }]), '1.0.0', semver), undefined);
    assert.deepEqual(evaluateRange(r([{ introduced: '0' }, { last_affected: '2.0.0' }]), '2.0.0', semver), {});
    assert.equal(evaluateRange(r([{ introduced: '0' }, { last_affected: '2.0.0' }]), '2.0.1', semver), undefined);
    assert.equal(evaluateRange(r([{ introduced: '0' }, { limit: '1.5.0' }]), '1.5.0', semver), undefined);
    assert.deepEqual(evaluateRange(r([{ introduced: '0' }, { limit: '1.5.0' }]), '1.4.0', semver), {});
    // Events out of order are sorted first; a second interval reopens.
    assert.deepEqual(evaluateRange(r([{ fixed: '2.0.6' }, { introduced: '2.0.0' }, { introduced: '0' }, { fixed: '1.26.17' }]), '2.0.1', comparator('pep440')), { fixed: '2.0.6' });
    assert.equal(evaluateRange(r([{ introduced: '0' }, { fixed: '1.0.0' }]), 'not-a-version', semver), undefined);
    assert.deepEqual(evaluateAffected({ versions: ['1.0'] }, 'PyPI', '1.0.0'), {});
  });

  it('severity from CVSS: the reference vectors and bands', () => {
    const table: Array<[string, number, string]> = [
      ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:H', 9.1, 'CRITICAL'],
      ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8, 'CRITICAL'],
      ['CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N', 6.1, 'MEDIUM'],
      ['CVSS:3.1/AV:N/AC:H/PR:H/UI:N/S:U/C:H/I:H/A:N', 5.9, 'MEDIUM'],
      ['CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H', 7.8, 'HIGH'],
      ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', 7.5, 'HIGH'],
      ['CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:L', 3.7, 'LOW'],
      ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H', 10, 'CRITICAL'],
    ];
    for (const [vector, score, band] of table) {
      const s = cvssScore(vector)!;
      assert.equal(s.score, score, vector);
      assert.equal(severityOfScore(s), band, vector);
    }
    assert.equal(cvssScore('CVSS:3.1/garbage'), undefined);
  });
});
