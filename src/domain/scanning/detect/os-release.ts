import type { OsInfo } from '../model.js';

export const OS_RELEASE_FILES = ['etc/os-release', 'usr/lib/os-release'];
export const OS_FILES = new Set([
  ...OS_RELEASE_FILES,
  'etc/debian_version',
  'etc/alpine-release',
  'etc/lsb-release',
  'etc/redhat-release',
  'etc/centos-release',
  'etc/system-release',
]);

/** `KEY=value` lines with optional quotes, as os-release and lsb-release write them. */
function keyValues(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) out.set(m[1]!, m[2]!.replace(/^(["'])(.*)\1$/, '$2'));
  }
  return out;
}

/** The OS one release file tells of, or undefined when it says nothing usable. */
export function parseOsFile(path: string, text: string): OsInfo | undefined {
  const trimmed = text.trim();
  if (OS_RELEASE_FILES.includes(path)) {
    const kv = keyValues(text);
    const family = kv.get('ID')?.toLowerCase();
    if (!family) return undefined;
    const version = kv.get('VERSION_ID') ?? (family === 'debian' ? '' : '');
    return { family, version, name: kv.get('PRETTY_NAME') ?? kv.get('NAME') };
  }
  if (path === 'etc/debian_version') return trimmed ? { family: 'debian', version: trimmed } : undefined;
  if (path === 'etc/alpine-release') return trimmed ? { family: 'alpine', version: trimmed } : undefined;
  if (path === 'etc/lsb-release') {
    const kv = keyValues(text);
    const id = kv.get('DISTRIB_ID')?.toLowerCase();
    return id ? { family: id, version: kv.get('DISTRIB_RELEASE') ?? '' } : undefined;
  }
  const m = /^(.*?) release (\d[\d.]*)/.exec(trimmed);
  if (!m) return undefined;
  const product = m[1]!.toLowerCase();
  const family = product.includes('centos') ? 'centos' : product.includes('red hat') ? 'rhel' : product.includes('amazon') ? 'amzn' : product.includes('rocky') ? 'rocky' : product.includes('alma') ? 'almalinux' : product.split(' ')[0]!;
  return { family, version: m[2]!, name: trimmed };
}

/**
 * The image's OS from its release files (merged across layers): os-release first, then the
 * distribution's own files, which also fill in a missing or rolling VERSION_ID (Debian sid/testing
 * has none in os-release; debian_version then says `trixie/sid`).
 */
export function detectOs(files: Map<string, OsInfo>): OsInfo | undefined {
  const release = files.get('etc/os-release') ?? files.get('usr/lib/os-release');
  const debian = files.get('etc/debian_version');
  const alpine = files.get('etc/alpine-release');
  if (release) {
    if (release.family === 'debian' && !release.version && debian) return { ...release, version: debian.version };
    if (release.family === 'alpine' && alpine) return { ...release, version: alpine.version };
    return release;
  }
  return alpine ?? files.get('etc/lsb-release') ?? debian ?? files.get('etc/redhat-release') ?? files.get('etc/centos-release') ?? files.get('etc/system-release');
}
