/** The package kinds berth detects: OS packages (deb, apk, rpm) and language packages. */
export type PackageType = 'deb' | 'apk' | 'rpm' | 'npm' | 'pypi' | 'go' | 'maven';

export const OS_PACKAGE_TYPES: ReadonlySet<PackageType> = new Set(['deb', 'apk', 'rpm']);

export interface Package {
  type: PackageType;
  name: string;
  version: string;
  /** The source package (Debian `Source:`, Alpine origin `o:`, RPM source RPM name). */
  srcName?: string;
  srcVersion?: string;
  arch?: string;
  /** The file that declared the package (its database or metadata file). */
  path: string;
}

/** A detected package with the layer (blob digest) whose file declared it. */
export interface ImagePackage extends Package {
  layer: string;
}

export interface OsInfo {
  /** os-release ID (debian, ubuntu, alpine, centos, rhel, …). */
  family: string;
  /** VERSION_ID or the release file's version (`12`, `3.19.1`, `7`). */
  version: string;
  /** Human name (PRETTY_NAME), when known. */
  name?: string;
}
