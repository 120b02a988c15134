import type { Package } from '../model.js';
import { parseStanzas } from './deb822.js';

/** `var/lib/dpkg/status`, or one distroless `var/lib/dpkg/status.d/<name>` file. */
export function isDpkgDatabase(path: string): boolean {
  if (path === 'var/lib/dpkg/status') return true;
  return path.startsWith('var/lib/dpkg/status.d/') && !path.endsWith('.md5sums') && path.split('/').length === 5;
}

/** The md5sums lists naming the files each package owns. */
export function isDpkgFileList(path: string): boolean {
  return (path.startsWith('var/lib/dpkg/info/') || path.startsWith('var/lib/dpkg/status.d/')) && path.endsWith('.md5sums');
}

/**
 * Installed packages of a dpkg status file: only stanzas whose Status ends `installed` (not
 * config-files leftovers or half-removed ones). Source defaults to the package's own name and
 * version; `Source: name (version)` carries a binNMU's source version.
 */
export function parseDpkgStatus(text: string, path: string): Package[] {
  const out: Package[] = [];
  for (const s of parseStanzas(text)) {
    const name = s.get('Package');
    const version = s.get('Version');
    if (!name || !version) continue;
    const status = s.get('Status');
    // Distroless status.d stanzas carry no Status line: the file's presence means installed.
    if (status !== undefined && status.split(/\s+/)[2] !== 'installed') continue;
    let srcName = name;
    let srcVersion = version;
    const source = s.get('Source');
    if (source) {
      const m = /^(\S+)(?:\s+\(([^)]+)\))?$/.exec(source);
      if (m) {
        srcName = m[1]!;
        if (m[2]) srcVersion = m[2];
      }
    }
    out.push({ type: 'deb', name, version, srcName, srcVersion, arch: s.get('Architecture'), path });
  }
  return out;
}

/** Paths (relative to the root) listed in an md5sums file: `<md5>  <path>` lines. */
export function parseMd5sums(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^[0-9a-f]{32}\s+(.+)$/.exec(line.trim());
    if (m) out.push(m[1]!.replace(/^\.?\//, ''));
  }
  return out;
}
