import { ScanError } from '../errors.js';
import { normalizePypiName } from '../detect/python.js';
import { schemeOfEcosystem } from '../version/index.js';

/** The parts of an OSV record (schema 1.7) the scanner reads; the stored body keeps everything. */
export interface OsvEvent {
  introduced?: string;
  fixed?: string;
  last_affected?: string;
  limit?: string;
}

export interface OsvRange {
  type: 'ECOSYSTEM' | 'SEMVER' | 'GIT';
  events: OsvEvent[];
}

export interface OsvAffected {
  package?: { ecosystem: string; name: string; purl?: string };
  ranges?: OsvRange[];
  versions?: string[];
  severity?: OsvSeverity[];
  ecosystem_specific?: Record<string, unknown>;
  database_specific?: Record<string, unknown>;
}

export interface OsvSeverity {
  type: string;
  score: string;
}

export interface OsvRecord {
  schema_version?: string;
  id: string;
  modified: string;
  published?: string;
  withdrawn?: string;
  aliases?: string[];
  upstream?: string[];
  related?: string[];
  summary?: string;
  details?: string;
  severity?: OsvSeverity[];
  affected?: OsvAffected[];
  references?: Array<{ type: string; url: string }>;
  database_specific?: Record<string, unknown>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(id: unknown, why: string): ScanError {
  return new ScanError('InvalidRecord', `${typeof id === 'string' && id ? id : 'record'}: ${why}`);
}

function optionalStrings(v: unknown, id: unknown, field: string): void {
  if (v !== undefined && (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))) throw bad(id, `${field} must be a list of strings`);
}

/** Whether the JSON value looks like an OSV record at all (to tell formats apart). */
export function looksLikeOsv(v: unknown): boolean {
  return isObject(v) && typeof v.id === 'string' && typeof v.modified === 'string';
}

/**
 * Checks a record against the parts of the OSV schema matching depends on; throws
 * ScanError('InvalidRecord') naming what is wrong. Unknown fields are kept as they are.
 */
export function validateOsv(v: unknown): OsvRecord {
  if (!isObject(v)) throw bad(undefined, 'not a JSON object');
  const id = v.id;
  if (typeof id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,254}$/.test(id)) throw bad(id, 'missing or invalid id');
  if (typeof v.modified !== 'string' || Number.isNaN(Date.parse(v.modified))) throw bad(id, 'missing or invalid modified time');
  optionalStrings(v.aliases, id, 'aliases');
  optionalStrings(v.upstream, id, 'upstream');
  if (v.summary !== undefined && typeof v.summary !== 'string') throw bad(id, 'summary must be a string');
  if (v.details !== undefined && typeof v.details !== 'string') throw bad(id, 'details must be a string');
  if (v.severity !== undefined && (!Array.isArray(v.severity) || !v.severity.every((s) => isObject(s) && typeof s.type === 'string' && typeof s.score === 'string'))) {
    throw bad(id, 'severity must be a list of {type, score}');
  }
  if (v.affected !== undefined && !Array.isArray(v.affected)) throw bad(id, 'affected must be a list');
  for (const a of (v.affected ?? []) as unknown[]) {
    if (!isObject(a)) throw bad(id, 'affected entries must be objects');
    if (a.package !== undefined && (!isObject(a.package) || typeof a.package.ecosystem !== 'string' || typeof a.package.name !== 'string')) {
      throw bad(id, 'affected.package needs ecosystem and name');
    }
    optionalStrings(a.versions, id, 'affected.versions');
    if (a.ranges !== undefined && !Array.isArray(a.ranges)) throw bad(id, 'affected.ranges must be a list');
    for (const r of (a.ranges ?? []) as unknown[]) {
      if (!isObject(r) || !['ECOSYSTEM', 'SEMVER', 'GIT'].includes(r.type as string)) throw bad(id, 'range type must be ECOSYSTEM, SEMVER or GIT');
      if (!Array.isArray(r.events) || r.events.length === 0) throw bad(id, 'range needs events');
      for (const e of r.events as unknown[]) {
        const keys = isObject(e) ? Object.keys(e) : [];
        if (keys.length !== 1 || !['introduced', 'fixed', 'last_affected', 'limit'].includes(keys[0]!) || typeof (e as Record<string, unknown>)[keys[0]!] !== 'string') {
          throw bad(id, 'each range event has exactly one of introduced, fixed, last_affected, limit');
        }
      }
    }
  }
  return v as unknown as OsvRecord;
}

/** The ecosystem with its release suffix dropped (`Debian:12` → `Debian`), as berth's schemes know them. */
export function baseEcosystem(ecosystem: string): string {
  return ecosystem.split(':')[0]!;
}

/**
 * The (ecosystem, name) pairs a record is looked up by. A record none of whose packages is in an
 * ecosystem berth can compare versions for is refused: it could never match anything.
 */
export function affectedKeys(record: OsvRecord): Array<{ ecosystem: string; name: string }> {
  const keys = (record.affected ?? []).flatMap((a) => (a.package ? [{ ecosystem: a.package.ecosystem, name: packageKey(a.package.ecosystem, a.package.name) }] : []));
  if (keys.length === 0) throw bad(record.id, 'no affected package');
  if (!keys.some((k) => schemeOfEcosystem(k.ecosystem))) throw bad(record.id, `unknown ecosystem ${JSON.stringify(keys[0]!.ecosystem)}`);
  return keys;
}

/** A package name as looked up: PyPI names PEP 503-normalized, every other ecosystem's as is. */
export function packageKey(ecosystem: string, name: string): string {
  return baseEcosystem(ecosystem) === 'PyPI' ? normalizePypiName(name) : name;
}
