import type { OsvRecord } from './osv.js';

interface SecdbPackage {
  pkg?: { name?: string; secfixes?: Record<string, unknown> };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Whether the JSON is an Alpine secdb file (`{distroversion, packages: [{pkg: {name, secfixes}}]}`). */
export function looksLikeAlpineSecdb(v: unknown): boolean {
  return isObject(v) && typeof v.distroversion === 'string' && Array.isArray(v.packages);
}

/** `CVE-2017-2616 (+ regression fix)` → `CVE-2017-2616`; the first CVE (else GHSA) token of an entry. */
function issueId(entry: unknown): string | undefined {
  if (typeof entry !== 'string') return undefined;
  return /\bCVE-\d{4}-\d+\b/.exec(entry)?.[0] ?? /\bGHSA(?:-[0-9a-z]{4}){3}\b/.exec(entry)?.[0];
}

/**
 * Converts a secdb file into OSV records, one per issue: affected is the origin package in
 * `Alpine:<distroversion>`, fixed in the secfix version. A secfix under "0" means the release was
 * never affected and is left out. Ids carry the release (`ALPINE-V3.17-CVE-…`) because each secdb
 * file covers one release and importing another release must not replace this one; findings are
 * named by the CVE (the record's upstream) anyway.
 */
export function convertAlpineSecdb(data: Record<string, unknown>, modified: string): OsvRecord[] {
  const release = String(data.distroversion).replace(/^v?/, 'v');
  const ecosystem = `Alpine:${release}`;
  const byIssue = new Map<string, OsvRecord>();
  for (const p of data.packages as SecdbPackage[]) {
    const name = p?.pkg?.name;
    const secfixes = p?.pkg?.secfixes;
    if (typeof name !== 'string' || !isObject(secfixes)) continue;
    for (const [fixed, entries] of Object.entries(secfixes)) {
      if (fixed === '0' || !Array.isArray(entries)) continue;
      for (const entry of entries) {
        const issue = issueId(entry);
        if (!issue) continue;
        const id = `ALPINE-${release.toUpperCase()}-${issue}`;
        let record = byIssue.get(id);
        if (!record) {
          record = { id, modified, upstream: [issue], affected: [], references: [{ type: 'ADVISORY', url: `https://security.alpinelinux.org/vuln/${issue}` }] };
          byIssue.set(id, record);
        }
        record.affected!.push({ package: { ecosystem, name }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }] });
      }
    }
  }
  return [...byIssue.values()];
}
