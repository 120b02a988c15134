import pep440 from '@renovatebot/pep440';
import semver from 'semver';
import { compareApk, isValidApkVersion } from './apk.js';
import { compareDpkg, isValidDpkgVersion } from './dpkg.js';
import { compareMaven } from './maven.js';
import { memoized } from './memoized.js';
import { compareRpm } from './rpm.js';

/** The version schemes berth compares, one per family of ecosystems. */
export type VersionScheme = 'dpkg' | 'apk' | 'rpm' | 'semver' | 'pep440' | 'go' | 'maven';

export interface Comparator {
  isValid(v: string): boolean;
  /** Negative, zero or positive; may throw on invalid input (check isValid first). */
  compare(a: string, b: string): number;
}

const semverOf = memoized((v: string): semver.SemVer | null => semver.parse(v, { loose: true }));

/** Go module versions: SemVer with a `v` (OSV drops it); `+incompatible` is build metadata. */
const goSemver = memoized((v: string): semver.SemVer | null => semver.parse(v.replace(/^v/, '').replace(/\+incompatible$/, '')));

const COMPARATORS: Record<VersionScheme, Comparator> = {
  dpkg: { isValid: isValidDpkgVersion, compare: compareDpkg },
  apk: { isValid: isValidApkVersion, compare: compareApk },
  rpm: { isValid: (v) => /^[0-9A-Za-z]/.test(v.replace(/^\d+:/, '')), compare: compareRpm },
  semver: {
    isValid: (v) => semverOf(v) !== null,
    compare: (a, b) => semver.compare(semverOf(a)!, semverOf(b)!),
  },
  pep440: {
    isValid: (v) => pep440.valid(v) !== null,
    compare: (a, b) => pep440.compare(a, b),
  },
  go: {
    isValid: (v) => goSemver(v) !== null,
    compare: (a, b) => semver.compare(goSemver(a)!, goSemver(b)!),
  },
  maven: { isValid: (v) => v.trim() !== '', compare: compareMaven },
};

export function comparator(scheme: VersionScheme): Comparator {
  return COMPARATORS[scheme];
}

/** The version scheme of an OSV ecosystem string (`Debian:12` → dpkg), or undefined if berth has none. */
export function schemeOfEcosystem(ecosystem: string): VersionScheme | undefined {
  const base = ecosystem.split(':')[0]!;
  switch (base) {
    case 'Debian':
    case 'Ubuntu':
      return 'dpkg';
    case 'Alpine':
    case 'Wolfi':
    case 'Chainguard':
      return 'apk';
    case 'Red Hat':
    case 'AlmaLinux':
    case 'Rocky Linux':
    case 'SUSE':
    case 'openSUSE':
    case 'Photon OS':
    case 'Azure Linux':
    case 'Mageia':
    case 'openEuler':
      return 'rpm';
    case 'npm':
    case 'crates.io':
      return 'semver';
    case 'PyPI':
      return 'pep440';
    case 'Go':
      return 'go';
    case 'Maven':
      return 'maven';
    default:
      return undefined;
  }
}
