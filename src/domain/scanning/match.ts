import { LRUCache } from 'lru-cache';
import { OS_PACKAGE_TYPES, type ImagePackage, type OsInfo } from './model.js';
import { osEcosystemFamily, osEcosystems } from './os-ecosystems.js';
import { comparator, schemeOfEcosystem, type Comparator } from './version/index.js';
import { packageKey, type OsvAffected, type OsvEvent, type OsvRange, type OsvRecord } from './vulndb/osv.js';

/** Where matching reads records: which records affect `names` in `ecosystem`, then their bodies. */
export interface RecordSource {
  recordKeysFor(ecosystem: string, names: string[]): Promise<Array<{ name: string; id: string; modified: number }>>;
  recordBodies(ids: string[]): Promise<Array<{ id: string; modified: number; body: string }>>;
  /** The ecosystems starting with `prefix` that any record affects. */
  ecosystemsStartingWith(prefix: string): Promise<string[]>;
}

/** Text of parsed records kept, in characters of their JSON. */
const PARSED_RECORDS_BYTES = 16 * 1024 * 1024;

/**
 * Parsed records, by id and `modified`: an import replaces a record only by a newer `modified`,
 * so a record parsed once stays right until then. Parsing the same advisories again for every image
 * was most of a rescan's matching (and most of its garbage).
 */
export class ParsedRecords {
  private readonly cache: LRUCache<string, OsvRecord>;

  constructor(maxBytes = PARSED_RECORDS_BYTES) {
    this.cache = new LRUCache<string, OsvRecord>({ maxSize: maxBytes });
  }

  /** The records affecting any of `names` in `ecosystem`, each with the name it was found under. */
  async recordsFor(source: RecordSource, ecosystem: string, names: string[]): Promise<Array<{ name: string; record: OsvRecord }>> {
    const keys = await source.recordKeysFor(ecosystem, names);
    const key = (id: string, modified: number) => `${id}\0${modified}`;
    const byId = new Map<string, OsvRecord>();
    const missing: string[] = [];
    for (const k of keys) {
      const held = this.cache.get(key(k.id, k.modified));
      if (held) byId.set(k.id, held);
      else missing.push(k.id);
    }
    if (missing.length > 0) {
      for (const row of await source.recordBodies(missing)) {
        const record = JSON.parse(row.body) as OsvRecord;
        this.cache.set(key(row.id, row.modified), record, { size: Math.max(1, row.body.length) });
        byId.set(row.id, record);
      }
    }
    const out: Array<{ name: string; record: OsvRecord }> = [];
    for (const k of keys) {
      const record = byId.get(k.id);
      if (record) out.push({ name: k.name, record }); // gone if deleted between the two reads
    }
    return out;
  }
}

export interface VulnMatch {
  record: OsvRecord;
  affected: OsvAffected;
  pkg: ImagePackage;
  /** The version that fixes the matching range, when the record knows one. */
  fixedVersion?: string;
}

/**
 * The OSV ecosystems an image's OS packages are looked up in: by the image's release (`Debian:12`,
 * `Alpine:v3.19`, `AlmaLinux:9`), bare `Debian` records too, and for SUSE Linux Enterprise every
 * product and module of its release that the database holds; none when the OS is unknown.
 */
export async function osPackageEcosystems(os: OsInfo | undefined, source: RecordSource): Promise<string[]> {
  if (!os) return [];
  const family = osEcosystemFamily(os);
  if (!family) return osEcosystems(os);
  return [...osEcosystems(os), ...(await source.ecosystemsStartingWith(family.prefix)).filter((eco) => family.includes(eco))];
}

/** The OSV ecosystems a package is looked up in: its registry's, or those of the image's OS. */
function ecosystemsFor(osEcos: string[], pkg: ImagePackage): string[] {
  switch (pkg.type) {
    case 'npm':
      return ['npm'];
    case 'pypi':
      return ['PyPI'];
    case 'go':
      return ['Go'];
    case 'maven':
      return ['Maven'];
  }
  return osEcos;
}

/** Whether berth has advisories for the OS's packages (its release maps to OSV ecosystems). */
export function osSupported(os: OsInfo): boolean {
  return osEcosystems(os).length > 0 || osEcosystemFamily(os) !== undefined;
}

/**
 * The names a package is recorded under: the source package for OS packages (Debian source,
 * Alpine origin, source RPM); Red Hat and SUSE name binary or source RPMs, so both.
 */
function lookupNames(pkg: ImagePackage, ecosystem: string): string[] {
  if (!OS_PACKAGE_TYPES.has(pkg.type)) return [packageKey(ecosystem, pkg.name)];
  const source = pkg.srcName ?? pkg.name;
  return BINARY_OR_SOURCE.test(ecosystem) && source !== pkg.name ? [source, pkg.name] : [source];
}

const BINARY_OR_SOURCE = /^(Red Hat|SUSE|openSUSE):/;

/** The version advisories speak of: the source version for OS packages (a binNMU's binary version is not it). */
function lookupVersion(pkg: ImagePackage): string {
  return OS_PACKAGE_TYPES.has(pkg.type) ? (pkg.srcVersion ?? pkg.version) : pkg.version;
}

function safeCompare(cmp: Comparator, a: string, b: string): number | undefined {
  if (!cmp.isValid(a) || !cmp.isValid(b)) return undefined;
  try {
    return cmp.compare(a, b);
  } catch {
    return undefined;
  }
}

function eventVersion(e: OsvEvent): string {
  return (e.introduced ?? e.fixed ?? e.last_affected ?? e.limit)!;
}

const EVENT_ORDER = (e: OsvEvent) => (e.introduced !== undefined ? 0 : e.fixed !== undefined ? 1 : e.last_affected !== undefined ? 2 : 3);

/**
 * OSV's range evaluation: events sorted by version (`introduced: "0"` first; at one version
 * `introduced` before `fixed`, so a range that opens and closes there affects nothing), walked
 * with a flag that `introduced ≤ v` sets, `fixed ≤ v` clears and `last_affected < v` clears.
 * `limit` events bound the range from above. Returns the fix of the interval v is in, or
 * undefined when v is not affected; null when affected without a known fix.
 */
export function evaluateRange(range: OsvRange, version: string, cmp: Comparator): { fixed?: string } | undefined {
  if (!cmp.isValid(version)) return undefined;
  const events = range.events.filter((e) => e.limit === undefined);
  const limits = range.events.filter((e) => e.limit !== undefined && e.limit !== '*').map((e) => e.limit!);
  if (limits.length > 0 && !limits.some((l) => (safeCompare(cmp, version, l) ?? 1) < 0)) return undefined;
  const keyed: Array<{ e: OsvEvent; v: string }> = [];
  for (const e of events) {
    const v = eventVersion(e);
    if (e.introduced === '0') keyed.push({ e, v });
    else if (cmp.isValid(v)) keyed.push({ e, v });
  }
  keyed.sort((a, b) => {
    const zeroA = a.e.introduced === '0';
    const zeroB = b.e.introduced === '0';
    if (zeroA || zeroB) return zeroA === zeroB ? 0 : zeroA ? -1 : 1;
    return safeCompare(cmp, a.v, b.v) || EVENT_ORDER(a.e) - EVENT_ORDER(b.e);
  });
  let affected = false;
  let openedAt = -1;
  for (const [i, { e, v }] of keyed.entries()) {
    if (e.introduced !== undefined) {
      if (e.introduced === '0' || (safeCompare(cmp, v, version) ?? 1) <= 0) {
        affected = true;
        openedAt = i;
      }
    } else if (e.fixed !== undefined) {
      if ((safeCompare(cmp, v, version) ?? 1) <= 0) affected = false;
    } else if (e.last_affected !== undefined) {
      if ((safeCompare(cmp, v, version) ?? 1) < 0) affected = false;
    }
  }
  if (!affected) return undefined;
  const fix = keyed.slice(openedAt + 1).find(({ e }) => e.fixed !== undefined);
  return fix ? { fixed: fix.v } : {};
}

/** Whether an affected entry covers `version`: listed in `versions`, or inside one of its SEMVER/ECOSYSTEM ranges. */
export function evaluateAffected(a: OsvAffected, ecosystem: string, version: string): { fixed?: string } | undefined {
  const scheme = schemeOfEcosystem(ecosystem);
  if (!scheme) return undefined;
  const cmp = comparator(scheme);
  for (const listed of a.versions ?? []) {
    if (listed === version || safeCompare(cmp, listed, version) === 0) return {};
  }
  for (const range of a.ranges ?? []) {
    if (range.type === 'GIT') continue;
    const rangeCmp = range.type === 'SEMVER' && scheme !== 'go' ? comparator('semver') : cmp;
    const hit = evaluateRange(range, version, rangeCmp);
    if (hit) return hit;
  }
  return undefined;
}

type Verdict = { affected: OsvAffected; fixed?: string } | null;

/**
 * What each parsed record said about a package version, kept with the record: a parsed record
 * stands for one id and `modified` (see ParsedRecords), so its ranges never change, and an image
 * scanned again (a rescan, the same base under another image) asks the same questions.
 */
const verdicts = new WeakMap<OsvRecord, Map<string, Verdict>>();

/** The first affected entry of `record` naming the package that covers `version`, with its fix; null if none. */
function verdict(record: OsvRecord, ecosystem: string, name: string, version: string): Verdict {
  let known = verdicts.get(record);
  if (!known) verdicts.set(record, (known = new Map()));
  const key = `${ecosystem}\0${name}\0${version}`;
  let answer = known.get(key);
  if (answer === undefined) {
    answer = null;
    for (const a of record.affected ?? []) {
      if (!a.package || a.package.ecosystem !== ecosystem || packageKey(ecosystem, a.package.name) !== name) continue;
      const hit = evaluateAffected(a, ecosystem, version);
      if (hit) {
        answer = { affected: a, ...(hit.fixed ? { fixed: hit.fixed } : {}) };
        break;
      }
    }
    known.set(key, answer);
  }
  return answer;
}

/**
 * Every (record, package) pair where the package's version is affected. Records are fetched per
 * ecosystem in one lookup for all names; withdrawn records never match.
 */
export async function matchPackages(os: OsInfo | undefined, packages: ImagePackage[], source: RecordSource, parsed = new ParsedRecords()): Promise<VulnMatch[]> {
  const osEcos = await osPackageEcosystems(os, source);
  const wanted = new Map<string, Set<string>>();
  for (const pkg of packages) {
    for (const eco of ecosystemsFor(osEcos, pkg)) {
      let names = wanted.get(eco);
      if (!names) wanted.set(eco, (names = new Set()));
      for (const name of lookupNames(pkg, eco)) names.add(name);
    }
  }
  const found = new Map<string, OsvRecord[]>();
  for (const [eco, names] of wanted) {
    for (const { name, record } of await parsed.recordsFor(source, eco, [...names])) {
      const key = `${eco}\0${name}`;
      let list = found.get(key);
      if (!list) found.set(key, (list = []));
      list.push(record);
    }
  }
  const matches: VulnMatch[] = [];
  for (const pkg of packages) {
    // A record listing the package under several ecosystems or names (Red Hat's BaseOS and AppStream) matches it once.
    const matched = new Set<string>();
    for (const eco of ecosystemsFor(osEcos, pkg)) {
      for (const name of lookupNames(pkg, eco)) {
        for (const record of found.get(`${eco}\0${name}`) ?? []) {
          if (record.withdrawn || matched.has(record.id)) continue;
          const hit = verdict(record, eco, name, lookupVersion(pkg));
          if (hit) {
            matched.add(record.id);
            matches.push({ record, affected: hit.affected, pkg, ...(hit.fixed ? { fixedVersion: hit.fixed } : {}) });
          }
        }
      }
    }
  }
  return matches;
}
