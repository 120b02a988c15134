import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { analyzeLayer, type LayerFacts } from '../../src/domain/scanning/layers/analyze.js';
import { mergeLayers } from '../../src/domain/scanning/layers/merge.js';
import { GoBuildInfoScanner } from '../../src/domain/scanning/detect/go-binary.js';
import { isScanError } from '../../src/domain/scanning/errors.js';
import { chunked, dpkgStanzas, layerOf, tarOf, type LayerEntry } from '../helpers/layers.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'scanning');
const RPMDB = '/usr/share/gocode/src/github.com/knqyf263/go-rpmdb/pkg/testdata';
const JARS = '/usr/share/gocode/src/github.com/aquasecurity/go-dep-parser/pkg/java/jar/testdata';
const URLLIB3_EGG = 'usr/lib/python3/dist-packages/urllib3-1.26.12.egg-info/PKG-INFO';

async function analyze(entries: LayerEntry[], compression: 'gzip' | 'zstd' | 'none' = 'gzip'): Promise<LayerFacts> {
  return analyzeLayer(chunked(await layerOf(entries, compression)));
}

async function image(...layers: LayerEntry[][]) {
  const analyzed = [];
  for (const [i, entries] of layers.entries()) analyzed.push({ digest: `sha256:${i}`, facts: await analyze(entries) });
  return mergeLayers(analyzed);
}

const tmp = mkdtempSync(join(tmpdir(), 'berth-scan-detect-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('scanning: package detection from layers', () => {
  it('reads Debian: os-release through its symlink, dpkg status with source packages and binNMU source versions', async () => {
    const contents = await image([
      { path: 'etc/os-release', symlink: '../usr/lib/os-release' },
      { path: 'usr/lib/os-release', source: '/usr/lib/os-release' },
      { path: 'etc/debian_version', source: '/etc/debian_version' },
      { path: 'var/lib/dpkg/status', data: dpkgStanzas(['bash', 'libc6', 'zlib1g']) },
    ]);
    assert.equal(contents.os?.family, 'debian');
    assert.equal(contents.os?.version, '12');
    const libc6 = contents.packages.find((p) => p.name === 'libc6')!;
    assert.equal(libc6.srcName, 'glibc');
    assert.equal(libc6.srcVersion, libc6.version);
    const bash = contents.packages.find((p) => p.name === 'bash')!;
    // bookworm's bash is a binNMU: `Source: bash (5.2.15-2)` for Version 5.2.15-2+b…
    assert.match(bash.version, /\+b\d+$/);
    assert.equal(bash.srcVersion, bash.version.replace(/\+b\d+$/, ''));
    assert.equal(contents.packages.find((p) => p.name === 'zlib1g')!.srcName, 'zlib');
    assert.ok(contents.packages.every((p) => p.layer === 'sha256:0'));
  });

  it('skips stanzas that are not installed (config-files leftovers)', async () => {
    const stanza = dpkgStanzas(['bash']).replace('Status: install ok installed', 'Status: deinstall ok config-files');
    const contents = await image([{ path: 'var/lib/dpkg/status', data: stanza }]);
    assert.deepEqual(contents.packages, []);
  });

  it('reads distroless status.d files, one package each', async () => {
    const contents = await image([
      { path: 'var/lib/dpkg/status.d/libc6', data: dpkgStanzas(['libc6']).replace(/^Status: .*\n/m, '') },
      { path: 'var/lib/dpkg/status.d/libc6.md5sums', data: '0123456789abcdef0123456789abcdef  lib/x86_64-linux-gnu/libc.so.6\n' },
    ]);
    assert.deepEqual(contents.packages.map((p) => [p.name, p.srcName]), [['libc6', 'glibc']]);
  });

  it('does not report a Python package whose metadata a dpkg package owns (python3-urllib3)', async () => {
    const contents = await image([
      { path: 'var/lib/dpkg/status', data: dpkgStanzas(['python3-urllib3', 'python3-requests']) },
      { path: 'var/lib/dpkg/info/python3-urllib3.md5sums', source: '/var/lib/dpkg/info/python3-urllib3.md5sums' },
      { path: URLLIB3_EGG, source: `/${URLLIB3_EGG}` },
      // The same metadata installed by pip elsewhere is reported.
      { path: 'usr/local/lib/python3.11/dist-packages/urllib3-1.26.12.egg-info/PKG-INFO', source: `/${URLLIB3_EGG}` },
    ]);
    const pypi = contents.packages.filter((p) => p.type === 'pypi');
    assert.deepEqual(pypi.map((p) => [p.name, p.version, p.path]), [['urllib3', '1.26.12', 'usr/local/lib/python3.11/dist-packages/urllib3-1.26.12.egg-info/PKG-INFO']]);
    assert.equal(contents.packages.find((p) => p.name === 'python3-urllib3')?.srcName, 'python-urllib3');
  });

  it('honours whiteouts: a package deleted in a later layer is gone, a later dpkg status replaces the earlier one', async () => {
    const contents = await image(
      [
        { path: 'var/lib/dpkg/status', data: dpkgStanzas(['bash', 'libc6']) },
        { path: 'usr/lib/node_modules/lodash/package.json', source: join(FIXTURES, 'lodash-4.17.11.package.json') },
        { path: 'usr/lib/node_modules/minimist/package.json', source: join(FIXTURES, 'minimist-1.2.5.package.json') },
      ],
      [
        { path: 'usr/lib/node_modules/.wh.lodash', data: '' },
        { path: 'var/lib/dpkg/status', data: dpkgStanzas(['libc6']) },
      ],
    );
    assert.deepEqual(contents.packages.map((p) => `${p.type}:${p.name}@${p.layer}`).sort(), ['deb:libc6@sha256:1', 'npm:minimist@sha256:0']);
  });

  it('honours opaque directories, but only over lower layers', async () => {
    const contents = await image(
      [{ path: 'app/node_modules/lodash/package.json', source: join(FIXTURES, 'lodash-4.17.11.package.json') }],
      [
        { path: 'app/node_modules/minimist/package.json', source: join(FIXTURES, 'minimist-1.2.5.package.json') },
        { path: 'app/node_modules/.wh..wh..opq', data: '' },
      ],
    );
    assert.deepEqual(contents.packages.map((p) => `${p.name}@${p.version}`), ['minimist@1.2.5']);
  });

  it('reads npm package roots only (scoped too), not files deeper inside a package', async () => {
    const facts = await analyze([
      { path: 'app/node_modules/lodash/package.json', source: join(FIXTURES, 'lodash-4.17.11.package.json') },
      { path: 'app/node_modules/@scope/x/package.json', data: JSON.stringify({ name: '@scope/x', version: '1.0.0' }) },
      { path: 'app/node_modules/lodash/fp/package.json', data: JSON.stringify({ name: 'fp', version: '9.9.9' }) },
      { path: 'app/package.json', data: JSON.stringify({ name: 'app', version: '1.0.0' }) },
    ]);
    assert.deepEqual(facts.files.flatMap((f) => f.packages ?? []).map((p) => `${p.name}@${p.version}`), ['lodash@4.17.11', '@scope/x@1.0.0']);
  });

  it('reads zstd layers the same as gzip and plain tar', async () => {
    const entries: LayerEntry[] = [
      { path: 'etc/alpine-release', data: '3.9.4\n' },
      {
        path: 'lib/apk/db/installed',
        data: 'C:Q1x\nP:musl\nV:1.1.20-r4\nA:x86_64\no:musl\nF:lib\nR:libc.musl-x86_64.so.1\n\nP:libcrypto1.1\nV:1.1.1b-r1\no:openssl\n\n',
      },
    ];
    for (const compression of ['gzip', 'zstd', 'none'] as const) {
      const contents = mergeLayers([{ digest: 'l', facts: await analyze(entries, compression) }]);
      assert.deepEqual(contents.os, { family: 'alpine', version: '3.9.4' });
      assert.deepEqual(contents.packages.map((p) => [p.name, p.version, p.srcName]), [['musl', '1.1.20-r4', 'musl'], ['libcrypto1.1', '1.1.1b-r1', 'openssl']]);
    }
  });

  it('reads real RPM databases: BerkeleyDB (CentOS 7) and the same converted to SQLite', async () => {
    const bdb = await analyze([
      { path: 'etc/centos-release', data: 'CentOS Linux release 7.5.1804 (Core)\n' },
      { path: 'var/lib/rpm/Packages', source: join(RPMDB, 'centos7-plain', 'Packages') },
    ]);
    const fromBdb = mergeLayers([{ digest: 'l', facts: bdb }]);
    assert.deepEqual(fromBdb.os, { family: 'centos', version: '7.5.1804', name: 'CentOS Linux release 7.5.1804 (Core)' });
    const ssl = fromBdb.packages.find((p) => p.name === 'openssl-libs')!;
    assert.deepEqual([ssl.version, ssl.srcName, ssl.srcVersion], ['1:1.0.2k-12.el7', 'openssl', '1:1.0.2k-12.el7']);
    // rpm -qa on the same database lists 144.
    assert.equal(fromBdb.packages.length, 144);

    const dir = join(tmp, 'rpm');
    execFileSync('mkdir', ['-p', dir]);
    copyFileSync(join(RPMDB, 'centos7-plain', 'Packages'), join(dir, 'Packages'));
    execFileSync('rpmdb', ['--dbpath', dir, '--rebuilddb', '--define', '_db_backend sqlite'], { stdio: 'ignore' });
    const sqlite = await analyze([{ path: 'var/lib/rpm/rpmdb.sqlite', data: readFileSync(join(dir, 'rpmdb.sqlite')) }]);
    const fromSqlite = mergeLayers([{ digest: 'l', facts: sqlite }]);
    assert.deepEqual(
      fromSqlite.packages.map((p) => `${p.name} ${p.version}`).sort(),
      fromBdb.packages.map((p) => `${p.name} ${p.version}`).sort(),
    );
  });

  it('finds the Go toolchain version in a real Go binary, streamed', async () => {
    const facts = await analyze([{ path: 'usr/bin/umoci', source: '/usr/bin/umoci', mode: 0o755 }]);
    const pkgs = facts.files.flatMap((f) => f.packages ?? []);
    const stdlib = pkgs.find((p) => p.name === 'stdlib');
    assert.ok(stdlib, 'stdlib found');
    assert.match(stdlib.version, /^1\.\d+\.\d+$/);
    // The same bytes without an execute bit are not searched.
    const plain = await analyze([{ path: 'usr/share/umoci', source: '/usr/bin/umoci', mode: 0o644 }]);
    assert.deepEqual(plain.files, []);
  });

  it('finds the Go build info wherever the chunks of the binary are cut, also right through its magic', () => {
    const binary = readFileSync('/usr/bin/umoci');
    const magicAt = binary.indexOf(Buffer.from('\xff Go buildinf:', 'latin1'));
    assert.ok(magicAt > 0);
    const scan = (cuts: number[]) => {
      const scanner = new GoBuildInfoScanner();
      let from = 0;
      for (const to of [...cuts, binary.length]) {
        scanner.push(binary.subarray(from, to));
        from = to;
      }
      return scanner.result();
    };
    const whole = scan([]);
    assert.ok(whole && /^go1\.\d+/.test(whole.goVersion) && whole.modInfo.includes('path\t'), JSON.stringify(whole));
    for (let offset = -2; offset <= 16; offset++) {
      assert.deepEqual(scan([4096, magicAt + offset]), whole, `cut at magic ${offset >= 0 ? '+' : ''}${offset}`);
      assert.deepEqual(scan([4096, magicAt + offset - 3, magicAt + offset]), whole, `tiny chunk before magic ${offset}`);
    }
  });

  it('reads Maven artifacts from a real war with nested jars', async () => {
    const facts = await analyze([{ path: 'opt/app/maven.war', source: join(JARS, 'maven.war') }]);
    const names = facts.files.flatMap((f) => f.packages ?? []).map((p) => `${p.name}@${p.version}`);
    assert.ok(names.includes('com.fasterxml.jackson.core:jackson-databind@2.9.10.6'), names.join(','));
    assert.ok(names.includes('org.slf4j:slf4j-api@1.7.30'));
    assert.ok(names.includes('com.example:web-app@1.0-SNAPSHOT'));
  });

  it('accepts a layer that ends right after its last file\'s bytes, without padding or end blocks (as umoci writes them)', async () => {
    const full = await tarOf([{ path: 'etc/alpine-release', data: '3.19.1\n' }]);
    const cut = full.subarray(0, 512 + 7);
    const { gzipSync } = await import('node:zlib');
    const facts = await analyzeLayer(chunked(gzipSync(cut)));
    assert.deepEqual(facts.files, [{ path: 'etc/alpine-release', os: { family: 'alpine', version: '3.19.1' } }]);
  });

  it('fails the layer, not the process, on a `..` path or a corrupt stream', async () => {
    const evil = await tarOf([{ path: '../etc/passwd', data: 'x' }]);
    await assert.rejects(analyzeLayer(chunked(evil)), (e) => isScanError(e, 'InvalidLayer') && /escapes/.test(e.message));
    const good = await layerOf([{ path: 'etc/alpine-release', data: '3.19.1\n' }]);
    const corrupt = Buffer.concat([good.subarray(0, 20), Buffer.alloc(200, 7)]);
    await assert.rejects(analyzeLayer(chunked(corrupt)), (e) => isScanError(e, 'InvalidLayer'));
  });
});
