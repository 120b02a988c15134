// npm lockfiles: real package-lock.json (v1) and yarn.lock (v1, berry) files from go-dep-parser's
// test data, checked against the package lists its authors took from `npm ls`; hand-written
// package-lock v2/v3 and pnpm-lock 5/6/9 files in the documented formats; and in image layers, a
// package both installed and pinned is reported once.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isNpmLockfile, parseNpmLockfile } from '../../src/domain/scanning/detect/npm-lockfile.js';
import { packageManagerOf } from '../../src/domain/scanning/findings.js';
import { analyzeLayer } from '../../src/domain/scanning/layers/analyze.js';
import { mergeLayers } from '../../src/domain/scanning/layers/merge.js';
import { chunked, dpkgStanzas, layerOf, type LayerEntry } from '../helpers/layers.js';

const NODEJS = '/usr/share/gocode/src/github.com/aquasecurity/go-dep-parser/pkg/nodejs';
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'scanning');

/** The `{"name", "version", ""}` entries of one `var` list in go-dep-parser's parse_testcase.go. */
function expectedFromGo(file: string, variable: string): string[] {
  const source = readFileSync(file, 'utf8');
  const start = source.indexOf(`\t${variable} = []types.Library{`);
  assert.ok(start !== -1, `${variable} in ${file}`);
  const body = source.slice(start, source.indexOf('\n\t}', start));
  return [...new Set([...body.matchAll(/\{"([^"]+)", "([^"]+)", "[^"]*"\}/g)].map((m) => `${m[1]}@${m[2]}`))].sort();
}

function pins(text: string, path: string): string[] {
  return parseNpmLockfile(text, path).map((p) => `${p.name}@${p.version}`).sort();
}

describe('scanning: npm lockfiles', () => {
  it('finds lockfiles of projects, not those inside installed packages', () => {
    for (const p of ['app/package-lock.json', 'package-lock.json', 'srv/npm-shrinkwrap.json', 'app/yarn.lock', 'app/pnpm-lock.yaml']) assert.ok(isNpmLockfile(p), p);
    for (const p of ['app/node_modules/x/package-lock.json', 'app/node_modules/.package-lock.json', 'app/package.json', 'app/yarn.lock.bak']) assert.ok(!isNpmLockfile(p), p);
  });

  const cases: Array<[string, string, string]> = [
    ['npm', 'package-lock_normal.json', 'npmNormal'],
    ['npm', 'package-lock_react.json', 'npmReact'],
    ['npm', 'package-lock_with_dev.json', 'npmWithDev'],
    ['npm', 'package-lock_many.json', 'npmMany'],
    ['npm', 'package-lock_nested.json', 'npmNested'],
    ['yarn', 'yarn_normal.lock', 'yarnNormal'],
    ['yarn', 'yarn_react.lock', 'yarnReact'],
    ['yarn', 'yarn_with_dev.lock', 'yarnWithDev'],
    ['yarn', 'yarn_many.lock', 'yarnMany'],
    ['yarn', 'yarn_realworld.lock', 'yarnRealWorld'],
    ['yarn', 'yarn_with_npm.lock', 'yarnWithNpm'],
    ['yarn', 'yarn_v2_normal.lock', 'yarnV2Normal'],
    ['yarn', 'yarn_v2_react.lock', 'yarnV2React'],
    ['yarn', 'yarn_v2_with_dev.lock', 'yarnV2WithDev'],
    ['yarn', 'yarn_v2_many.lock', 'yarnV2Many'],
  ];
  for (const [dir, file, variable] of cases) {
    it(`reads the real ${file} as its authors expect (${variable})`, () => {
      const text = readFileSync(join(NODEJS, dir, 'testdata', file), 'utf8');
      const name = dir === 'npm' ? 'app/package-lock.json' : 'app/yarn.lock';
      assert.deepEqual(pins(text, name), expectedFromGo(join(NODEJS, dir, 'parse_testcase.go'), variable));
    });
  }

  it('reads package-lock v2 and v3 `packages`: nested and scoped locations, aliases; not the project, links, dev or git sources', () => {
    const packages = {
      '': { name: 'app', version: '1.0.0', dependencies: { lodash: '^4.17.11' } },
      'node_modules/lodash': { version: '4.17.11', resolved: 'https://registry.npmjs.org/lodash/-/lodash-4.17.11.tgz', integrity: 'sha512-x' },
      'node_modules/@babel/code-frame': { version: '7.0.0', resolved: 'https://registry.npmjs.org/@babel/code-frame/-/code-frame-7.0.0.tgz' },
      'node_modules/mkdirp': { version: '0.5.5' },
      'node_modules/mkdirp/node_modules/minimist': { version: '1.2.5' },
      'node_modules/minimist': { version: '1.2.6' },
      'node_modules/old-lodash': { name: 'lodash', version: '4.17.4' },
      'node_modules/mocha': { version: '6.1.4', dev: true },
      'node_modules/tool': { version: '1.0.0', devOptional: true },
      'node_modules/my-lib': { resolved: 'packages/my-lib', link: true },
      'packages/my-lib': { name: 'my-lib', version: '0.1.0' },
      'node_modules/from-git': { version: 'git+ssh://git@github.com/a/b.git#0123456789abcdef', resolved: 'git+ssh://git@github.com/a/b.git#0123456789abcdef' },
    };
    const expected = ['@babel/code-frame@7.0.0', 'lodash@4.17.11', 'lodash@4.17.4', 'minimist@1.2.5', 'minimist@1.2.6', 'mkdirp@0.5.5', 'tool@1.0.0'];
    const v3 = JSON.stringify({ name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true, packages });
    assert.deepEqual(pins(v3, 'app/package-lock.json'), expected);
    // v2 carries v1's `dependencies` too, for older npm; `packages` is the full truth.
    const v2 = JSON.stringify({ name: 'app', version: '1.0.0', lockfileVersion: 2, requires: true, packages, dependencies: { lodash: { version: '4.17.11' }, stale: { version: '9.9.9' } } });
    assert.deepEqual(pins(v2, 'app/package-lock.json'), expected);
  });

  it('reads package-lock v1 aliases (`npm:name@version`) and nests', () => {
    const v1 = JSON.stringify({
      name: 'app',
      lockfileVersion: 1,
      dependencies: {
        'old-lodash': { version: 'npm:lodash@4.17.4' },
        '@scope/x': { version: '1.0.0', dependencies: { minimist: { version: '0.0.8' } } },
        linked: { version: 'file:../linked' },
      },
    });
    assert.deepEqual(pins(v1, 'package-lock.json'), ['@scope/x@1.0.0', 'lodash@4.17.4', 'minimist@0.0.8']);
  });

  it('reads pnpm-lock.yaml of lockfile versions 5, 6 and 9; dev-only entries are left out', () => {
    const v5 = [
      'lockfileVersion: 5.4',
      '',
      'specifiers:',
      '  lodash: ^4.17.11',
      '',
      'dependencies:',
      '  lodash: 4.17.11',
      '',
      'packages:',
      '',
      '  /lodash/4.17.11:',
      '    resolution: {integrity: sha512-x}',
      '    dev: false',
      '',
      '  /@babel/code-frame/7.0.0:',
      '    resolution: {integrity: sha512-y}',
      '    dev: false',
      '',
      '  /react-dom/16.8.6_react@16.8.6:',
      '    resolution: {integrity: sha512-z}',
      '    peerDependencies:',
      '      react: ^16.0.0',
      '    dev: false',
      '',
      '  /mocha/6.1.4:',
      '    resolution: {integrity: sha512-w}',
      '    dev: true',
      '',
    ].join('\n');
    assert.deepEqual(pins(v5, 'app/pnpm-lock.yaml'), ['@babel/code-frame@7.0.0', 'lodash@4.17.11', 'react-dom@16.8.6']);

    const v6 = [
      "lockfileVersion: '6.0'",
      '',
      'dependencies:',
      '  lodash:',
      '    specifier: ^4.17.11',
      '    version: 4.17.11',
      '',
      'packages:',
      '',
      '  /lodash@4.17.11:',
      '    resolution: {integrity: sha512-x}',
      '    dev: false',
      '',
      '  /@babel/code-frame@7.0.0:',
      '    resolution: {integrity: sha512-y}',
      '    dev: false',
      '',
      '  /react-dom@16.8.6(react@16.8.6):',
      '    resolution: {integrity: sha512-z}',
      '    dev: false',
      '',
      '  /mocha@6.1.4:',
      '    resolution: {integrity: sha512-w}',
      '    dev: true',
      '',
    ].join('\n');
    assert.deepEqual(pins(v6, 'app/pnpm-lock.yaml'), ['@babel/code-frame@7.0.0', 'lodash@4.17.11', 'react-dom@16.8.6']);

    const v9 = [
      "lockfileVersion: '9.0'",
      '',
      'importers:',
      '',
      '  .:',
      '    dependencies:',
      '      lodash:',
      '        specifier: ^4.17.11',
      '        version: 4.17.11',
      '',
      'packages:',
      '',
      "  '@babel/code-frame@7.0.0':",
      '    resolution: {integrity: sha512-y}',
      '',
      '  lodash@4.17.11:',
      '    resolution: {integrity: sha512-x}',
      '',
      '  react-dom@16.8.6:',
      '    resolution: {integrity: sha512-z}',
      '',
      'snapshots:',
      '',
      '  react-dom@16.8.6(react@16.8.6):',
      '    dependencies:',
      '      react: 16.8.6',
      '',
      '  only-in-snapshots@1.0.0: {}',
      '',
    ].join('\n');
    assert.deepEqual(pins(v9, 'app/pnpm-lock.yaml'), ['@babel/code-frame@7.0.0', 'lodash@4.17.11', 'react-dom@16.8.6']);
  });

  it('names the package manager as Inspector does: NODEPKG installed, NPM and YARN from their lockfiles', () => {
    assert.equal(packageManagerOf({ type: 'npm', path: 'app/node_modules/lodash/package.json' }), 'NODEPKG');
    assert.equal(packageManagerOf({ type: 'npm', path: 'app/package-lock.json' }), 'NPM');
    assert.equal(packageManagerOf({ type: 'npm', path: 'app/npm-shrinkwrap.json' }), 'NPM');
    assert.equal(packageManagerOf({ type: 'npm', path: 'app/pnpm-lock.yaml' }), 'NPM');
    assert.equal(packageManagerOf({ type: 'npm', path: 'app/yarn.lock' }), 'YARN');
  });

  it('a malformed lockfile yields nothing, never an error', () => {
    assert.deepEqual(pins('{"lockfileVersion": 3, "packages": ', 'package-lock.json'), []);
    assert.deepEqual(pins('null', 'package-lock.json'), []);
    assert.deepEqual(pins('\u0000\u0001 garbage :\n  version', 'yarn.lock'), []);
    assert.deepEqual(pins('packages:\n  ???:\n', 'pnpm-lock.yaml'), []);
  });

  async function image(...layers: LayerEntry[][]) {
    const analyzed = [];
    for (const [i, entries] of layers.entries()) analyzed.push({ digest: `sha256:${i}`, facts: await analyzeLayer(chunked(await layerOf(entries))) });
    return mergeLayers(analyzed);
  }

  it('in an image: a package both installed and pinned is reported once, as installed; one only pinned is reported from its lockfile', async () => {
    const lock = JSON.stringify({
      name: 'app',
      lockfileVersion: 3,
      packages: { '': { name: 'app' }, 'node_modules/lodash': { version: '4.17.11' }, 'node_modules/minimist': { version: '1.2.5' } },
    });
    const contents = await image(
      [{ path: 'etc/os-release', data: 'ID=debian\nVERSION_ID="12"\n' }],
      [
        { path: 'app/package-lock.json', data: lock },
        { path: 'app/node_modules/lodash/package.json', source: join(FIXTURES, 'lodash-4.17.11.package.json') },
        // Lockfiles shipped inside installed packages are not read.
        { path: 'app/node_modules/lodash/npm-shrinkwrap.json', data: JSON.stringify({ lockfileVersion: 1, dependencies: { ghost: { version: '1.0.0' } } }) },
      ],
    );
    assert.deepEqual(
      contents.packages.map((p) => `${p.name}@${p.version} ${p.path} ${p.layer}`).sort(),
      ['lodash@4.17.11 app/node_modules/lodash/package.json sha256:1', 'minimist@1.2.5 app/package-lock.json sha256:1'],
    );
  });

  it('in an image: a lockfile an OS package owns is not reported, and a deleted lockfile is gone', async () => {
    const lock = JSON.stringify({ lockfileVersion: 3, packages: { 'node_modules/minimist': { version: '1.2.5' } } });
    const owned = await image([
      { path: 'var/lib/dpkg/status', data: dpkgStanzas(['bash']) },
      { path: 'var/lib/dpkg/info/bash.md5sums', data: '0123456789abcdef0123456789abcdef  usr/share/tool/package-lock.json\n' },
      { path: 'usr/share/tool/package-lock.json', data: lock },
    ]);
    assert.deepEqual(owned.packages.map((p) => p.type), ['deb']);
    const deleted = await image([{ path: 'app/yarn.lock', data: 'minimist@^1.2.0:\n  version "1.2.5"\n' }], [{ path: 'app/.wh.yarn.lock', data: '' }]);
    assert.deepEqual(deleted.packages, []);
  });
});
