import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildFindings, rpmVersionParts } from '../../src/domain/scanning/findings.js';
import type { OsvRecord } from '../../src/domain/scanning/vulndb/osv.js';
import { analyzeLayer } from '../../src/domain/scanning/layers/analyze.js';
import { mergeLayers } from '../../src/domain/scanning/layers/merge.js';
import { evaluateAffected, evaluateRange, matchPackages, osSupported, ParsedRecords } from '../../src/domain/scanning/match.js';
import { parseOsFile } from '../../src/domain/scanning/detect/os-release.js';
import { osEcosystemFamily, osEcosystems } from '../../src/domain/scanning/os-ecosystems.js';
import { cvssScore, severityOfScore } from '../../src/domain/scanning/severity.js';
import { comparator, schemeOfEcosystem } from '../../src/domain/scanning/version/index.js';
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

// os-release as the distributions' own container images ship it (trimmed to the fields read).
const OS_RELEASES: Record<string, string> = {
  'openSUSE Leap 15.5': 'NAME="openSUSE Leap"\nVERSION="15.5"\nID="opensuse-leap"\nID_LIKE="suse opensuse"\nVERSION_ID="15.5"\nPRETTY_NAME="openSUSE Leap 15.5"\n',
  'openSUSE Tumbleweed': 'NAME="openSUSE Tumbleweed"\nID="opensuse-tumbleweed"\nID_LIKE="opensuse suse"\nVERSION_ID="20240801"\nPRETTY_NAME="openSUSE Tumbleweed"\n',
  'Mageia 9': 'NAME="Mageia"\nVERSION="9"\nID=mageia\nVERSION_ID=9\nID_LIKE="mandriva fedora"\nPRETTY_NAME="Mageia 9"\n',
  'openEuler 22.03 LTS SP1': 'NAME="openEuler"\nVERSION="22.03 (LTS-SP1)"\nID="openEuler"\nVERSION_ID="22.03"\nPRETTY_NAME="openEuler 22.03 (LTS-SP1)"\n',
  'openEuler 24.03 LTS': 'NAME="openEuler"\nVERSION="24.03 (LTS)"\nID="openEuler"\nVERSION_ID="24.03"\nPRETTY_NAME="openEuler 24.03 (LTS)"\n',
  'openEuler 23.09 (innovation)': 'NAME="openEuler"\nVERSION="23.09"\nID="openEuler"\nVERSION_ID="23.09"\nPRETTY_NAME="openEuler 23.09"\n',
  'Azure Linux 3.0': 'NAME="Microsoft Azure Linux"\nVERSION="3.0.20240727"\nID=azurelinux\nVERSION_ID="3.0"\nPRETTY_NAME="Microsoft Azure Linux 3.0"\n',
  'CBL-Mariner 2.0': 'NAME="Common Base Linux Mariner"\nVERSION="2.0.20240123"\nID=mariner\nVERSION_ID="2.0"\nPRETTY_NAME="CBL-Mariner/Linux"\n',
  'RHEL 9.4 (UBI)': 'NAME="Red Hat Enterprise Linux"\nVERSION="9.4 (Plow)"\nID="rhel"\nID_LIKE="fedora"\nVERSION_ID="9.4"\nPRETTY_NAME="Red Hat Enterprise Linux 9.4 (Plow)"\nCPE_NAME="cpe:/o:redhat:enterprise_linux:9::baseos"\n',
  'SLES 15 SP5': 'NAME="SLES"\nVERSION="15-SP5"\nVERSION_ID="15.5"\nPRETTY_NAME="SUSE Linux Enterprise Server 15 SP5"\nID="sles"\nID_LIKE="suse"\n',
  'Fedora 40': 'NAME="Fedora Linux"\nVERSION="40 (Container Image)"\nID=fedora\nVERSION_ID=40\nPRETTY_NAME="Fedora Linux 40 (Container Image)"\n',
  'CentOS 7': 'NAME="CentOS Linux"\nVERSION="7 (Core)"\nID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="7"\nPRETTY_NAME="CentOS Linux 7 (Core)"\n',
  'Amazon Linux 2023': 'NAME="Amazon Linux"\nVERSION="2023"\nID="amzn"\nID_LIKE="fedora"\nVERSION_ID="2023"\nPRETTY_NAME="Amazon Linux 2023.5.20240805"\n',
  'Oracle Linux 9': 'NAME="Oracle Linux Server"\nVERSION="9.4"\nID="ol"\nID_LIKE="fedora"\nVERSION_ID="9.4"\nPRETTY_NAME="Oracle Linux Server 9.4"\n',
  'Photon OS 5': 'NAME="VMware Photon OS"\nVERSION="5.0"\nID=photon\nVERSION_ID=5.0\nPRETTY_NAME="VMware Photon OS/Linux"\n',
};

describe('scanning: RPM distributions other than AlmaLinux and Rocky Linux', () => {
  const osOf = (name: string) => parseOsFile('etc/os-release', OS_RELEASES[name]!)!;

  it('os-release maps to the OSV ecosystem the distribution publishes its advisories under; none where it publishes none', () => {
    const expected: Record<string, string[]> = {
      'openSUSE Leap 15.5': ['openSUSE:Leap 15.5'],
      'openSUSE Tumbleweed': ['openSUSE:Tumbleweed'],
      'Mageia 9': ['Mageia:9'],
      'openEuler 22.03 LTS SP1': ['openEuler:22.03-LTS-SP1'],
      'openEuler 24.03 LTS': ['openEuler:24.03-LTS'],
      'openEuler 23.09 (innovation)': [],
      'Azure Linux 3.0': ['Azure Linux:3'],
      'CBL-Mariner 2.0': ['Azure Linux:2'],
      'RHEL 9.4 (UBI)': ['Red Hat:enterprise_linux:9::baseos', 'Red Hat:enterprise_linux:9::appstream', 'Red Hat:enterprise_linux:9::crb'],
      // These publish none.
      'Fedora 40': [],
      'CentOS 7': [],
      'Amazon Linux 2023': [],
      'Oracle Linux 9': [],
      'Photon OS 5': [],
    };
    for (const [name, ecosystems] of Object.entries(expected)) {
      assert.deepEqual(osEcosystems(osOf(name)), ecosystems, name);
      assert.equal(osSupported(osOf(name)), ecosystems.length > 0, name);
      for (const eco of ecosystems) assert.equal(schemeOfEcosystem(eco), 'rpm', eco);
    }
  });

  it('SUSE Linux Enterprise: every product and module of the image\'s release, with or without a support-phase suffix', () => {
    const sles = osEcosystemFamily(osOf('SLES 15 SP5'))!;
    assert.ok(osSupported(osOf('SLES 15 SP5')));
    assert.deepEqual(osEcosystems(osOf('SLES 15 SP5')), []);
    const held = [
      'SUSE:Linux Enterprise Module for Basesystem 15 SP5',
      'SUSE:Linux Enterprise Server 15 SP5-LTSS',
      'SUSE:Linux Enterprise Module for Server Applications 15 SP5',
      'SUSE:Linux Enterprise Module for Basesystem 15 SP4',
      'SUSE:Linux Enterprise Server 15',
      'SUSE:Linux Enterprise Micro 5.5',
      'SUSE:Linux Enterprise Server 12 SP5',
      'openSUSE:Leap 15.5',
    ];
    assert.deepEqual(held.filter((eco) => sles.includes(eco)), held.slice(0, 3));
    const sles15 = osEcosystemFamily(parseOsFile('etc/os-release', 'NAME="SLES"\nVERSION="15"\nVERSION_ID="15"\nID="sles"\n')!)!;
    assert.deepEqual(held.filter((eco) => sles15.includes(eco)), ['SUSE:Linux Enterprise Server 15']);
    const micro = osEcosystemFamily(parseOsFile('etc/os-release', 'NAME="SLE Micro"\nVERSION="5.5"\nVERSION_ID="5.5"\nID="sle-micro"\n')!)!;
    assert.deepEqual(held.filter((eco) => micro.includes(eco)), ['SUSE:Linux Enterprise Micro 5.5']);
    for (const eco of held.slice(0, 3)) assert.equal(schemeOfEcosystem(eco), 'rpm', eco);
  });

  // Records laid out like the distributions' OSV advisories (ids, ecosystems, source RPM names,
  // rpm versions as their packages carry them); each with a fixed and a vulnerable installed package.
  const cases = [
    {
      os: 'openSUSE Leap 15.5',
      record: { id: 'openSUSE-SU-2024:0182-1', upstream: ['CVE-2023-5678', 'CVE-2023-6129', 'CVE-2023-6237'], ecosystem: 'openSUSE:Leap 15.5', name: 'openssl-1_1', fixed: '1.1.1l-150500.17.25.1' },
      other: 'openSUSE:Leap 15.4',
      pkg: { name: 'libopenssl1_1', srcName: 'openssl-1_1', vulnerable: '1.1.1l-150500.17.22.1', fixedInstalled: '1.1.1l-150500.17.25.1' },
    },
    {
      os: 'Mageia 9',
      record: { id: 'MGASA-2024-0312', upstream: ['CVE-2024-6655'], ecosystem: 'Mageia:9', name: 'gtk+2.0', fixed: '2.24.33-5.1.mga9' },
      other: 'Mageia:8',
      pkg: { name: 'lib64gtk+2.0_0', srcName: 'gtk+2.0', vulnerable: '2.24.33-5.mga9', fixedInstalled: '2.24.33-5.1.mga9' },
    },
    {
      os: 'openEuler 22.03 LTS SP1',
      record: { id: 'OESA-2024-1001', upstream: ['CVE-2023-6129'], ecosystem: 'openEuler:22.03-LTS-SP1', name: 'openssl', fixed: '1:1.1.1m-22.oe2203sp1' },
      other: 'openEuler:22.03-LTS',
      pkg: { name: 'openssl-libs', srcName: 'openssl', vulnerable: '1:1.1.1m-15.oe2203sp1', fixedInstalled: '1:1.1.1m-22.oe2203sp1' },
    },
    {
      os: 'Azure Linux 3.0',
      record: { id: 'AZL-47256', upstream: ['CVE-2023-45853'], ecosystem: 'Azure Linux:3', name: 'zlib', fixed: '1.3.1-1.azl3' },
      other: 'Azure Linux:2',
      pkg: { name: 'zlib', srcName: 'zlib', vulnerable: '1.2.13-2.azl3', fixedInstalled: '1.3.1-1.azl3' },
    },
    {
      os: 'SLES 15 SP5',
      // Filed under the module that ships the package, and again under the LTSS product: still one finding.
      record: { id: 'SUSE-SU-2024:0336-1', upstream: ['CVE-2024-0727'], ecosystem: 'SUSE:Linux Enterprise Module for Basesystem 15 SP5', alsoIn: 'SUSE:Linux Enterprise Server 15 SP5-LTSS', name: 'openssl-3', fixed: '3.0.8-150500.5.20.1' },
      other: 'SUSE:Linux Enterprise Module for Basesystem 15 SP4',
      pkg: { name: 'libopenssl3', srcName: 'openssl-3', vulnerable: '3.0.8-150500.5.14.1', fixedInstalled: '3.0.8-150500.5.20.1' },
    },
    {
      os: 'RHEL 9.4 (UBI)',
      // Red Hat lists the package under each stream that ships it: still one finding.
      record: { id: 'RHSA-2025:9978', upstream: ['CVE-2025-32462'], ecosystem: 'Red Hat:enterprise_linux:9::baseos', alsoIn: 'Red Hat:enterprise_linux:9::appstream', name: 'sudo', fixed: '0:1.9.5p2-10.el9_6.1' },
      other: 'Red Hat:enterprise_linux:8::baseos',
      pkg: { name: 'sudo', srcName: 'sudo', vulnerable: '1.9.5p2-9.el9', fixedInstalled: '1.9.5p2-10.el9_6.1' },
    },
  ];
  const dir = mkdtempSync(join(tmpdir(), 'berth-rpm-distros-'));
  let db: SqliteDb;
  let meta: MetadataStore;
  before(async () => {
    db = new SqliteDb(join(dir, 'metadata.db'));
    await migrate(db);
    meta = new MetadataStore(db);
    const records = cases.map(({ record: r }) => ({
      schema_version: '1.7.0',
      id: r.id,
      modified: '2024-08-01T00:00:00Z',
      upstream: r.upstream,
      summary: `${r.name} security update`,
      affected: [r.ecosystem, ...('alsoIn' in r ? [r.alsoIn] : [])].map((ecosystem) => ({
        package: { ecosystem, name: r.name, purl: `pkg:rpm/${r.name}` },
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: r.fixed }] }],
      })),
    }));
    // Red Hat names binary RPMs too: openssl-libs, whose source RPM is openssl.
    records.push({
      schema_version: '1.7.0',
      id: 'RHSA-2024:1234',
      modified: '2024-08-01T00:00:00Z',
      upstream: ['CVE-2024-0727'],
      summary: 'openssl security update',
      affected: [{ package: { ecosystem: 'Red Hat:enterprise_linux:9::baseos', name: 'openssl-libs', purl: 'pkg:rpm/openssl-libs' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1:3.0.7-27.el9' }] }] }],
    });
    // Records of another release of each distribution, fixed in a version no installed package reaches.
    const others = cases.map(({ record: r, other }) => ({
      id: `${r.id}-OTHER`,
      modified: '2024-08-01T00:00:00Z',
      upstream: ['CVE-2099-0001'],
      affected: [{ package: { ecosystem: other, name: r.name }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '99:99-99' }] }] }],
    }));
    writeFileSync(join(dir, 'records.json'), JSON.stringify([...records, ...others]));
    const report = await new VulnDb(meta.scans).import([join(dir, 'records.json')]);
    assert.equal(report.failed, 0, JSON.stringify(report.failures));
  });
  after(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const c of cases) {
    it(`${c.os}: a package below the fix is reported, the fixed one and another release's records are not`, async () => {
      const rpm = (version: string) => ({ type: 'rpm' as const, name: c.pkg.name, version, srcName: c.pkg.srcName, srcVersion: version, arch: 'x86_64', path: 'var/lib/rpm/rpmdb.sqlite', layer: 'sha256:l1' });
      const vulnerable = await matchPackages(osOf(c.os), [rpm(c.pkg.vulnerable)], meta.scans);
      assert.deepEqual(vulnerable.map((m) => [m.record.id, m.pkg.name, m.fixedVersion]), [[c.record.id, c.pkg.name, c.record.fixed]]);
      // One finding per CVE the advisory fixes, as ECR names them.
      assert.deepEqual(buildFindings(vulnerable, 'BASIC').findings.map((f) => f.name), c.record.upstream);
      const enhanced = buildFindings(vulnerable, 'ENHANCED').enhancedFindings!;
      assert.deepEqual(enhanced.map((f) => [f.vulnerabilityId, f.recordId, f.package.fixedInVersion]), c.record.upstream.map((cve) => [cve, c.record.id, c.record.fixed]));
      for (const f of enhanced) assert.deepEqual(f.relatedVulnerabilities, [...c.record.upstream.filter((cve) => cve !== f.vulnerabilityId), c.record.id]);
      assert.deepEqual(await matchPackages(osOf(c.os), [rpm(c.pkg.fixedInstalled)], meta.scans), []);
    });
  }

  it('RHEL: a record naming the binary RPM matches it (openssl-libs of source openssl)', async () => {
    const pkg = { type: 'rpm' as const, name: 'openssl-libs', version: '1:3.0.7-24.el9', srcName: 'openssl', srcVersion: '1:3.0.7-24.el9', path: 'var/lib/rpm/rpmdb.sqlite', layer: 'sha256:l1' };
    const found = await matchPackages(osOf('RHEL 9.4 (UBI)'), [pkg], meta.scans);
    assert.deepEqual(found.map((m) => [m.record.id, m.fixedVersion]), [['RHSA-2024:1234', '1:3.0.7-27.el9']]);
    assert.deepEqual(await matchPackages(osOf('RHEL 9.4 (UBI)'), [{ ...pkg, version: '1:3.0.7-27.el9', srcVersion: '1:3.0.7-27.el9' }], meta.scans), []);
  });

  it('an unsupported RPM distribution matches nothing, even with records of a neighbour (CentOS 7 image, RHEL records)', async () => {
    const pkg = { type: 'rpm' as const, name: 'sudo', version: '1.8.23-10.el7', srcName: 'sudo', srcVersion: '1.8.23-10.el7', path: 'var/lib/rpm/Packages', layer: 'sha256:l1' };
    assert.deepEqual(await matchPackages(osOf('CentOS 7'), [pkg], meta.scans), []);
  });
});

describe('scanning: parsed advisories are kept until a newer copy is imported', () => {
  it('a record re-imported with a newer `modified` is read again; the same one is not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-parsed-'));
    const db = new SqliteDb(join(dir, 'metadata.db'));
    try {
      await migrate(db);
      const meta = new MetadataStore(db);
      const vulnDb = new VulnDb(meta.scans);
      const original = readFileSync(join(FIXTURES, 'osv', 'GHSA-jf85-cpcp-j695.json'), 'utf8');
      await vulnDb.import([join(FIXTURES, 'osv', 'GHSA-jf85-cpcp-j695.json')]);
      const lodash = { type: 'npm' as const, name: 'lodash', version: '4.17.11', path: 'app/node_modules/lodash/package.json', layer: 'sha256:l1' };
      const parsed = new ParsedRecords();
      let reads = 0;
      const counting = {
        recordKeysFor: (eco: string, names: string[]) => meta.scans.recordKeysFor(eco, names),
        ecosystemsStartingWith: (prefix: string) => meta.scans.ecosystemsStartingWith(prefix),
        recordBodies: (ids: string[]) => {
          reads += ids.length;
          return meta.scans.recordBodies(ids);
        },
      };
      assert.equal((await matchPackages(undefined, [lodash], counting, parsed)).length, 1);
      assert.equal((await matchPackages(undefined, [lodash], counting, parsed)).length, 1);
      assert.equal(reads, 1, 'parsed once, then kept');

      // The advisory is revised: fixed from a version below the image's, so it no longer applies.
      const revised = JSON.parse(original) as OsvRecord & { modified: string };
      revised.modified = new Date(Date.parse(revised.modified) + 86_400_000).toISOString();
      for (const a of revised.affected ?? []) a.ranges = [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '4.0.0' }] }];
      const file = join(dir, 'revised.json');
      writeFileSync(file, JSON.stringify(revised));
      await vulnDb.import([file]);
      assert.deepEqual(await matchPackages(undefined, [lodash], counting, parsed), []);
      assert.equal(reads, 2, 'the newer copy was read');
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
