import type { OsInfo } from './model.js';

/**
 * The OSV ecosystems holding advisories for an OS release's own packages, spelled as the
 * distributions publish them into OSV (ossf/osv-schema `ecosystems.json`, and the sources OSV.dev
 * imports): none for an OS without such a source (CentOS, Fedora, Oracle Linux, Amazon Linux,
 * Photon OS). SUSE Linux Enterprise files its advisories per product and module instead, which
 * os-release does not name: see `osEcosystemFamily`.
 */
export function osEcosystems(os: OsInfo): string[] {
  const major = /^(\d+)/.exec(os.version)?.[1];
  const majorMinor = /^(\d+)\.(\d+)/.exec(os.version);
  switch (os.family) {
    case 'debian':
      return major ? [`Debian:${major}`, 'Debian'] : ['Debian'];
    case 'ubuntu':
      return [`Ubuntu:${os.version}`, `Ubuntu:${os.version}:LTS`];
    case 'alpine':
      return majorMinor ? [`Alpine:v${majorMinor[1]}.${majorMinor[2]}`] : [];
    case 'almalinux':
      return major ? [`AlmaLinux:${major}`] : [];
    case 'rocky':
      return major ? [`Rocky Linux:${major}`] : [];
    case 'rhel':
      // Red Hat files each advisory per product stream (CPE); from RHEL 8 on an image's packages
      // come from the release's BaseOS, AppStream and CodeReady Builder repositories.
      return major && Number(major) >= 8 ? ['baseos', 'appstream', 'crb'].map((repo) => `Red Hat:enterprise_linux:${major}::${repo}`) : [];
    case 'azurelinux':
    case 'mariner':
      // CBL-Mariner 2.0 is Azure Linux 2: `Azure Linux:2`, by major release.
      return major ? [`Azure Linux:${major}`] : [];
    case 'mageia':
      return major ? [`Mageia:${major}`] : [];
    case 'openeuler':
      return openEulerEcosystems(os);
    case 'opensuse-leap':
    case 'opensuse-tumbleweed':
      return openSuseEcosystems(os);
    default:
      return [];
  }
}

/**
 * openEuler publishes advisories for its LTS releases only, as `openEuler:<YY.MM>-LTS[-SP<n>]`;
 * the qualifier is in PRETTY_NAME (`openEuler 22.03 (LTS-SP1)`). Innovation releases have none.
 */
function openEulerEcosystems(os: OsInfo): string[] {
  const m = /^openEuler\s+(\d{2}\.\d{2})\s*\((LTS(?:[- ]SP\d+)?)\)\s*$/i.exec(os.name ?? '');
  if (!m || m[1] !== os.version) return [];
  return [`openEuler:${m[1]}-${m[2]!.toUpperCase().replace(' ', '-')}`];
}

/**
 * openSUSE names the distribution as os-release's PRETTY_NAME does, vendor first:
 * `openSUSE Leap 15.5` → `openSUSE:Leap 15.5`, `openSUSE Tumbleweed` → `openSUSE:Tumbleweed`.
 */
function openSuseEcosystems(os: OsInfo): string[] {
  if (os.family === 'opensuse-tumbleweed') return ['openSUSE:Tumbleweed'];
  const product = /^openSUSE\s+(Leap \d+\.\d+)$/.exec((os.name ?? '').trim())?.[1];
  if (product) return [`openSUSE:${product}`];
  return /^\d+\.\d+$/.test(os.version) ? [`openSUSE:Leap ${os.version}`] : [];
}

/** Ecosystems of one OS release found among those the database holds: all that start with `prefix` and pass `includes`. */
export interface EcosystemFamily {
  prefix: string;
  includes(ecosystem: string): boolean;
}

const SLE_PRODUCTS = new Set(['sles', 'sled', 'sles_sap', 'sle_hpc', 'sle-micro']);

/**
 * SUSE Linux Enterprise files each advisory under the products and modules that ship the package
 * (`SUSE:Linux Enterprise Module for Basesystem 15 SP5`, `SUSE:Linux Enterprise Server 15 SP5-LTSS`,
 * `SUSE:Linux Enterprise Micro 5.5`), and an image's os-release names only the base product. Its
 * packages come from that release's modules, so every `SUSE:Linux Enterprise … <release>` ecosystem
 * counts, with or without a support-phase suffix (`-LTSS`, `-ESPOS`). The release is `15 SP5` for
 * VERSION_ID 15.5, `15` for 15, and VERSION_ID itself for SLE Micro (`5.5`).
 */
export function osEcosystemFamily(os: OsInfo): EcosystemFamily | undefined {
  if (!SLE_PRODUCTS.has(os.family)) return undefined;
  const m = /^(\d+)(?:\.(\d+))?$/.exec(os.version.trim());
  if (!m) return undefined;
  const release = os.family === 'sle-micro' ? os.version.trim() : m[2] && m[2] !== '0' ? `${m[1]} SP${m[2]}` : m[1]!;
  const prefix = 'SUSE:Linux Enterprise ';
  const tail = new RegExp(` ${release.replaceAll('.', '\\.')}(-[A-Za-z0-9-]+)?$`);
  return { prefix, includes: (ecosystem) => ecosystem.startsWith(prefix) && tail.test(ecosystem) };
}
