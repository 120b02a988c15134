import type { OsvAffected, OsvRecord } from './osv.js';

/** Debian codenames and their release numbers, as OSV's `Debian:<n>` ecosystems name them. */
const RELEASES: Record<string, string> = {
  wheezy: '7',
  jessie: '8',
  stretch: '9',
  buster: '10',
  bullseye: '11',
  bookworm: '12',
  trixie: '13',
  forky: '14',
  duke: '15',
};

interface TrackerRelease {
  status?: string;
  fixed_version?: string;
  urgency?: string;
  nodsa?: string;
  nodsa_reason?: string;
}

interface TrackerIssue {
  description?: string;
  scope?: string;
  releases?: Record<string, TrackerRelease>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Whether the JSON is the security tracker's `data/json`: source package → issue id → {releases}. */
export function looksLikeDebianTracker(v: unknown): boolean {
  if (!isObject(v) || 'id' in v || 'packages' in v) return false;
  const firstPackage = Object.values(v)[0];
  if (!isObject(firstPackage)) return false;
  const firstIssue = Object.values(firstPackage)[0];
  return isObject(firstIssue) && isObject(firstIssue.releases);
}

/** Debian urgency → the severity word berth reports when a record has no CVSS. */
function urgencySeverity(urgency: string | undefined): string | undefined {
  const u = (urgency ?? '').replace(/\*/g, '').trim();
  if (u === 'unimportant') return 'INFORMATIONAL';
  if (u === 'low') return 'LOW';
  if (u === 'medium') return 'MEDIUM';
  if (u === 'high') return 'HIGH';
  return undefined;
}

/**
 * Converts the tracker's JSON into one OSV record per CVE (`DEBIAN-CVE-…`, the CVE as upstream),
 * with one affected entry per (release, source package): fixed in `fixed_version`, or open (no
 * fix). Not-affected (`fixed_version` "0"), undetermined issues, TEMP- ids and releases without a
 * number (sid) are left out. `modified` is the time of conversion: the tracker carries no dates.
 */
export function convertDebianTracker(data: Record<string, unknown>, modified: string): OsvRecord[] {
  const byCve = new Map<string, OsvRecord>();
  for (const [pkg, issues] of Object.entries(data)) {
    if (!isObject(issues)) continue;
    for (const [cve, raw] of Object.entries(issues)) {
      if (!/^CVE-\d{4}-\d+$/.test(cve) || !isObject(raw)) continue;
      const issue = raw as TrackerIssue;
      for (const [codename, rawRel] of Object.entries(issue.releases ?? {})) {
        const number = RELEASES[codename];
        if (!number || !isObject(rawRel)) continue;
        const rel = rawRel as TrackerRelease;
        if (rel.status === 'undetermined' || rel.fixed_version === '0') continue;
        if (rel.status !== 'resolved' && rel.status !== 'open') continue;
        const events = rel.status === 'resolved' && rel.fixed_version ? [{ introduced: '0' }, { fixed: rel.fixed_version }] : [{ introduced: '0' }];
        const severity = urgencySeverity(rel.urgency);
        const affected: OsvAffected = {
          package: { ecosystem: `Debian:${number}`, name: pkg, purl: `pkg:deb/debian/${pkg}?arch=source` },
          ranges: [{ type: 'ECOSYSTEM', events }],
          ecosystem_specific: { urgency: rel.urgency ?? null, ...(rel.nodsa !== undefined ? { nodsa: rel.nodsa, nodsa_reason: rel.nodsa_reason ?? '' } : {}) },
          ...(severity ? { database_specific: { severity } } : {}),
        };
        const id = `DEBIAN-${cve}`;
        let record = byCve.get(id);
        if (!record) {
          record = { id, modified, upstream: [cve], details: issue.description ?? '', affected: [], references: [{ type: 'ADVISORY', url: `https://security-tracker.debian.org/tracker/${cve}` }] };
          byCve.set(id, record);
        }
        record.affected!.push(affected);
      }
    }
  }
  return [...byCve.values()];
}
