import { isNpmLockfile } from './detect/npm-lockfile.js';
import { OS_PACKAGE_TYPES } from './model.js';
import type { VulnMatch } from './match.js';
import { rate, SEVERITIES, type FindingSeverity } from './severity.js';
import type { OsvRecord } from './vulndb/osv.js';

/** ECR's ImageScanFinding (basic scanning). */
export interface ImageScanFinding {
  name: string;
  description?: string;
  uri?: string;
  severity: FindingSeverity;
  attributes: Array<{ key: string; value: string }>;
}

/** What an enhanced finding is made of; the ECR door renders Inspector's shape from it. */
export interface EnhancedFindingFacts {
  vulnerabilityId: string;
  recordId: string;
  title: string;
  description: string;
  severity: FindingSeverity;
  score?: number;
  cvss: Array<{ baseScore: number; scoringVector: string; version: string }>;
  referenceUrls: string[];
  relatedVulnerabilities: string[];
  sourceUrl?: string;
  vendorCreatedAt?: string;
  vendorUpdatedAt?: string;
  package: {
    name: string;
    version: string;
    /** RPM packages: the epoch and release, apart from the version, as Inspector reports them. */
    epoch?: number;
    release?: string;
    arch?: string;
    packageManager: string;
    filePath: string;
    sourceLayerHash: string;
    fixedInVersion?: string;
  };
}

export interface ScanResult {
  findings: ImageScanFinding[];
  enhancedFindings?: EnhancedFindingFacts[];
  counts: Partial<Record<FindingSeverity, number>>;
}

/**
 * The names ECR gives a record's findings: every CVE it stands for, each its own finding. A
 * distribution's advisory (RHSA, SUSE-SU, MGASA, OESA, AZL, ALSA, a DSA) often fixes several and
 * lists them in `upstream`; a GHSA or Go record names its CVE in `aliases`. A record naming no CVE
 * is reported under its own id.
 */
export function findingNames(record: OsvRecord): string[] {
  if (record.id.startsWith('CVE-')) return [record.id];
  const cves = (ids: string[] | undefined) => [...new Set((ids ?? []).filter((id) => /^CVE-\d{4}-\d+$/.test(id)))];
  const upstream = cves(record.upstream);
  if (upstream.length > 0) return upstream;
  const aliases = cves(record.aliases);
  return aliases.length > 0 ? aliases : [record.id];
}

function recordUri(record: OsvRecord): string {
  const refs = record.references ?? [];
  const url = refs.find((r) => r.type === 'ADVISORY')?.url ?? refs.find((r) => r.type === 'WEB')?.url ?? refs[0]?.url;
  return url ?? `https://osv.dev/vulnerability/${record.id}`;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

const PACKAGE_MANAGERS: Record<string, string> = { deb: 'OS', apk: 'OS', rpm: 'OS', npm: 'NODEPKG', pypi: 'PYTHONPKG', go: 'GOBINARY', maven: 'JAR' };

/**
 * Inspector's `packageManager` for a package: by kind, and for npm by the file that declared it —
 * an installed `package.json` is NODEPKG, a yarn.lock YARN, other lockfiles NPM (Inspector's list
 * has no pnpm).
 */
export function packageManagerOf(pkg: { type: string; path: string }): string {
  if (pkg.type === 'npm' && isNpmLockfile(pkg.path)) return pkg.path.endsWith('yarn.lock') ? 'YARN' : 'NPM';
  return PACKAGE_MANAGERS[pkg.type] ?? 'OS';
}

/** An RPM's `[epoch:]version-release` split as Inspector reports it (epoch 0 when absent). */
export function rpmVersionParts(evr: string): { epoch: number; version: string; release?: string } {
  const m = /^(?:(\d+):)?(.+?)(?:-([^-]+))?$/.exec(evr);
  if (!m) return { epoch: 0, version: evr };
  return { epoch: m[1] ? Number(m[1]) : 0, version: m[2]!, ...(m[3] ? { release: m[3] } : {}) };
}

/**
 * Findings from matches: one per (CVE, package, installed version, file), the first record
 * (vendor records come first for OS packages) deciding. BASIC reports OS packages only; ENHANCED
 * reports every package as enhanced findings. Counts hold only severities that occur.
 */
export function buildFindings(matches: VulnMatch[], scanType: 'BASIC' | 'ENHANCED'): ScanResult {
  const seen = new Set<string>();
  const findings: ImageScanFinding[] = [];
  const enhanced: EnhancedFindingFacts[] = [];
  const counts: Partial<Record<FindingSeverity, number>> = {};
  for (const m of matches) {
    if (scanType === 'BASIC' && !OS_PACKAGE_TYPES.has(m.pkg.type)) continue;
    const rated = rate(m.record, m.affected);
    for (const name of findingNames(m.record)) {
      const key = [name, m.pkg.type, m.pkg.name, m.pkg.version, m.pkg.path].join('\0');
      if (seen.has(key)) continue;
      seen.add(key);
      counts[rated.severity] = (counts[rated.severity] ?? 0) + 1;
      const description = clip(m.record.details || m.record.summary || name, 4096);
      if (scanType === 'BASIC') {
        const attributes = [
          { key: 'package_version', value: m.pkg.version },
          { key: 'package_name', value: m.pkg.name },
        ];
        if (rated.cvss2) attributes.push({ key: 'CVSS2_VECTOR', value: rated.cvss2.vector }, { key: 'CVSS2_SCORE', value: String(rated.cvss2.score) });
        if (rated.cvss3) attributes.push({ key: 'CVSS3_VECTOR', value: rated.cvss3.vector }, { key: 'CVSS3_SCORE', value: String(rated.cvss3.score) });
        findings.push({ name, description, uri: recordUri(m.record), severity: rated.severity, attributes: attributes.map((a) => ({ key: a.key, value: clip(a.value, 256) })) });
      } else {
        const best = rated.cvss3 ?? rated.cvss2;
        enhanced.push({
          vulnerabilityId: name,
          recordId: m.record.id,
          title: clip(`${name} - ${m.pkg.name}`, 1024),
          description,
          severity: rated.severity,
          ...(best ? { score: best.score } : {}),
          cvss: [rated.cvss3, rated.cvss2].filter((c) => c !== undefined).map((c) => ({ baseScore: c.score, scoringVector: c.vector, version: c.version })),
          referenceUrls: (m.record.references ?? []).map((r) => r.url).slice(0, 20),
          relatedVulnerabilities: [...new Set([...(m.record.aliases ?? []), ...(m.record.upstream ?? []), m.record.id])].filter((id) => id !== name),
          sourceUrl: recordUri(m.record),
          ...(m.record.published ? { vendorCreatedAt: m.record.published } : {}),
          vendorUpdatedAt: m.record.modified,
          package: {
            name: m.pkg.name,
            ...(m.pkg.type === 'rpm' ? rpmVersionParts(m.pkg.version) : { version: m.pkg.version }),
            ...(m.pkg.arch ? { arch: m.pkg.arch } : {}),
            packageManager: packageManagerOf(m.pkg),
            filePath: m.pkg.path,
            sourceLayerHash: m.pkg.layer,
            ...(m.fixedVersion ? { fixedInVersion: m.fixedVersion } : {}),
          },
        });
      }
    }
  }
  const bySeverity = (a: { severity: FindingSeverity }, b: { severity: FindingSeverity }) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity);
  findings.sort(bySeverity);
  enhanced.sort(bySeverity);
  return scanType === 'BASIC' ? { findings, counts } : { findings: [], enhancedFindings: enhanced, counts };
}
