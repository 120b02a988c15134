import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { comparator, type VersionScheme } from '../../src/domain/scanning/version/index.js';
import { rpmvercmp } from '../../src/domain/scanning/version/rpm.js';

const KNQYF263 = '/usr/share/gocode/src/github.com/knqyf263';

/** Checks `a < b < c …` (and `=` links) in a chain written `1.0~rc1 < 1.0 = 1.0.0`. */
function checkChain(scheme: VersionScheme, chain: string): void {
  const { compare } = comparator(scheme);
  const tokens = chain.trim().split(/\s+/);
  for (let i = 0; i + 2 < tokens.length; i += 2) {
    const [a, op, b] = [tokens[i]!, tokens[i + 1]!, tokens[i + 2]!];
    const want = op === '<' ? -1 : op === '>' ? 1 : 0;
    assert.equal(Math.sign(compare(a, b)), want, `${scheme}: ${a} ${op} ${b}`);
    assert.equal(Math.sign(compare(b, a)), -want || 0, `${scheme}: ${b} reversed ${a}`);
  }
}

describe('scanning: version comparison per ecosystem', () => {
  it('dpkg: the reference pairs (verified with dpkg --compare-versions)', () => {
    for (const chain of [
      '1.0~rc1 < 1.0',
      '1.0~~ < 1.0~ < 1.0',
      '0~ < 0',
      '1.0 < 1.0a < 1.0+b1',
      '1.0a < 1.0.a',
      '1.0 < 1.0.',
      '1.01 = 1.1',
      '1.2.3 = 1.2.3-0',
      '1.0.0 > 1.0',
      '1.0+dfsg > 1.0',
      '1:0.9 > 2.0',
      '1:1.2.13.dfsg-1 > 1.2.13.dfsg-1',
      '1.0-1 < 1.0-1.1',
      '1.0-10 > 1.0-9',
      '1.0-1~bpo1 < 1.0-1',
      '2.36-9+deb12u4 < 2.36-9+deb12u10',
      '3.0.11-1~deb12u2 < 3.0.13-1~deb12u1',
      '5.2.15-2 < 5.2.15-2+b8',
      '5.6.1+really5.4.5-1 > 5.4.5-1',
    ]) {
      checkChain('dpkg', chain);
    }
    assert.equal(comparator('dpkg').isValid('abc'), false);
    assert.equal(comparator('dpkg').isValid('1:1.2.13.dfsg-1'), true);
  });

  it('apk: the reference pairs (apk-tools test/version.data)', () => {
    for (const chain of [
      '1.0_rc1 < 1.0 < 1.0-r1 < 1.0_p1 < 1.0a < 1.0.1',
      '1.1 > 1.1_alpha1',
      '0.1.0_alpha_pre2 < 0.1.0_alpha',
      '1.0.4-r3 < 1.0.4-r4',
      '1.0_p10-r0 > 1.0_p9-r0',
      '1.3_pre1-r1 < 1.3.2',
      '1.2.9.1-r1 > 1.2.9.1',
      '0.15.1b < 1.0.1',
      '1.06-r6 < 006',
      '1.01 < 1.1',
      '1.001 < 1.01',
      '3.0.2-r0 > 3.0.1-r3',
      '1.1.20-r4 < 1.1.20-r5',
    ]) {
      checkChain('apk', chain);
    }
  });

  it('apk: the go-apk-version corpus (apk-tools version.data, valid versions)', { skip: !existsSync(`${KNQYF263}/go-apk-version`) }, () => {
    const text = readFileSync(`${KNQYF263}/go-apk-version/version_testcase.go`, 'utf8');
    let n = 0;
    for (const m of text.matchAll(/^\s*\{"([^"]*)", "([<>=])", "([^"]*)"\},\s*(\/\/.*)?$/gm)) {
      if (m[4]) continue; // marked invalid: apk falls back to string order
      const { isValid } = comparator('apk');
      if (!isValid(m[1]!) || !isValid(m[3]!)) continue;
      checkChain('apk', `${m[1]} ${m[2]} ${m[3]}`);
      n++;
    }
    assert.ok(n > 500, `${n} cases`);
  });

  it('rpm: the reference pairs (verified with rpm 4.18)', () => {
    for (const chain of [
      '1.0 = 1_0',
      '1.0 = 1.0.',
      '001 = 1',
      '1.0a > 1.0',
      '6.0.rc1 > 6.0',
      '1.0~rc1 < 1.0',
      '1.0 < 1.0^git1 < 1.0.1',
      '1.0^ > 1.0~',
      '2.0a < 2.0.1',
      '5.5p1 < 5.5.1',
      '5.5p1 < 5.5p10',
      'a < 1',
      '1e < 1.0',
      '1.010 > 1.9',
      '20.1.2 < 20.1.2.0',
      '1:1.0-1 > 0:2.0-1',
      '1.0-1.el8 < 1.0-1.el8_2',
      '1.0-1.el7 < 1.0-1.el7.centos',
      '1:1.0.2k-12.el7 < 1:1.0.2k-16.el7',
    ]) {
      checkChain('rpm', chain);
    }
  });

  it('rpm: the go-rpm-version corpus (rpm tests)', { skip: !existsSync(`${KNQYF263}/go-rpm-version`) }, () => {
    const text = readFileSync(`${KNQYF263}/go-rpm-version/version_testcase.go`, 'utf8');
    let n = 0;
    for (const m of text.matchAll(/\{"([^"]*)", (LESS|EQUAL|GREATER), "([^"]*)"\}/g)) {
      const want = m[2] === 'LESS' ? -1 : m[2] === 'GREATER' ? 1 : 0;
      assert.equal(Math.sign(rpmvercmp(m[1]!, m[3]!)), want, `${m[1]} ${m[2]} ${m[3]}`);
      n++;
    }
    assert.ok(n > 4000, `${n} cases`);
  });

  it('semver/npm: the spec chain, build metadata ignored, loose forms', () => {
    checkChain('semver', '1.0.0-alpha < 1.0.0-alpha.1 < 1.0.0-alpha.beta < 1.0.0-beta < 1.0.0-beta.2 < 1.0.0-beta.11 < 1.0.0-rc.1 < 1.0.0');
    checkChain('semver', '1.0.0+a = 1.0.0+b');
    checkChain('semver', 'v1.2.3 = 1.2.3 = =1.2.3');
    checkChain('semver', '4.17.11 < 4.17.12');
  });

  it('PEP 440: the PEP sorted list and pairs (verified with packaging)', () => {
    checkChain(
      'pep440',
      '1.dev0 < 1.0.dev456 < 1.0a1 < 1.0a2.dev456 < 1.0a12.dev456 < 1.0a12 < 1.0b1.dev456 < 1.0b2 < 1.0b2.post345.dev456 < 1.0b2.post345 < 1.0rc1.dev456 < 1.0rc1 < 1.0 < 1.0+abc.5 < 1.0+abc.7 < 1.0+5 < 1.0.post456.dev34 < 1.0.post456 < 1.0.15 < 1.1.dev1',
    );
    for (const chain of ['1.0 = 1.0.0', '1.0-1 = 1.0.post1', '1.0c1 = 1.0rc1', 'v1.0 = 1.0', '1!0.5 > 2.0', '1.0.post1 < 1.0.1', '1.0+local > 1.0', '1.26.12 < 1.26.17']) {
      checkChain('pep440', chain);
    }
  });

  it('Go: pseudo-versions are prereleases, v prefix optional, +incompatible ignored', () => {
    checkChain('go', '1.4.2 < 1.4.3');
    checkChain('go', '0.0.0-20200227125254-8fa46927fb4f < 0.3.3');
    checkChain('go', 'v1.2.3 < v1.2.4-0.20220101000000-abcdefabcdef < v1.2.4');
    checkChain('go', '1.21.0-rc.2 < 1.21.0');
    checkChain('go', 'v2.0.0+incompatible = 2.0.0');
  });

  it('Maven: ComparableVersion qualifiers', () => {
    checkChain('maven', '1.0-alpha < 1.0-beta < 1.0-milestone < 1.0-rc < 1.0-snapshot < 1.0 < 1.0-sp');
    checkChain('maven', '1.0-rc1 = 1.0-cr1');
    checkChain('maven', '1.0 = 1.0-ga = 1.0-final = 1.0.0');
    checkChain('maven', '1.0-alpha1 = 1.0-a1');
    checkChain('maven', '2.9.10.6 < 2.9.10.7 < 2.10.0');
    checkChain('maven', '1.0-SNAPSHOT < 1.0');
  });
});
