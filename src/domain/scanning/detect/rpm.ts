import { getPackages, getPackagesNdb, getPackagesSqlite } from '@snyk/rpm-parser';
import type { Package } from '../model.js';

const RPM_DIRS = ['var/lib/rpm/', 'usr/lib/sysimage/rpm/', 'usr/share/rpm/'];
const RPM_FILES = { Packages: 'bdb', 'Packages.db': 'ndb', 'rpmdb.sqlite': 'sqlite' } as const;

export type RpmDbFormat = (typeof RPM_FILES)[keyof typeof RPM_FILES];

/** The RPM database's format when `path` is one: BerkeleyDB, NDB or SQLite. */
export function rpmDatabaseFormat(path: string): RpmDbFormat | undefined {
  const dir = RPM_DIRS.find((d) => path.startsWith(d));
  if (!dir) return undefined;
  return RPM_FILES[path.slice(dir.length) as keyof typeof RPM_FILES];
}

/** `openssl-1.0.2k-12.el7.src.rpm` → name `openssl`, version `1.0.2k-12.el7`. */
export function splitSourceRpm(srpm: string): { name: string; version: string } | undefined {
  const m = /^(.+)-([^-]+)-([^-]+)\.(?:src|nosrc)\.rpm$/.exec(srpm);
  return m ? { name: m[1]!, version: `${m[2]}-${m[3]}` } : undefined;
}

/** Installed packages of an RPM database (read whole: RPM databases are a few MiB to a few hundred). */
export async function parseRpmDatabase(format: RpmDbFormat, data: Buffer, path: string): Promise<Package[]> {
  const result = format === 'sqlite' ? await getPackagesSqlite(data) : format === 'ndb' ? await getPackagesNdb(data) : await getPackages(data);
  if (result.error) throw new Error(`RPM database ${path}: ${result.error.message}`);
  return result.response.map((p) => {
    const evr = `${p.epoch ? `${p.epoch}:` : ''}${p.version}-${p.release}`;
    const src = p.sourceRPM ? splitSourceRpm(p.sourceRPM) : undefined;
    return {
      type: 'rpm' as const,
      name: p.name,
      version: evr,
      srcName: src?.name ?? p.name,
      srcVersion: src ? `${p.epoch ? `${p.epoch}:` : ''}${src.version}` : evr,
      ...(p.arch ? { arch: p.arch } : {}),
      path,
    };
  });
}
