import type { Package } from '../model.js';

export function isApkDatabase(path: string): boolean {
  return path === 'lib/apk/db/installed' || path === 'usr/lib/apk/db/installed';
}

/**
 * `lib/apk/db/installed`: stanzas of `X:value` lines. `P` name, `V` version, `A` arch, `o` origin
 * (what Alpine's secdb is keyed by), `F` a directory and `R` a file in it (the files it owns).
 */
export function parseApkInstalled(text: string, path: string): { packages: Package[]; owned: string[] } {
  const packages: Package[] = [];
  const owned: string[] = [];
  let cur: Record<string, string> = {};
  let dir = '';
  const flush = () => {
    if (cur.P && cur.V) packages.push({ type: 'apk', name: cur.P, version: cur.V, srcName: cur.o || cur.P, srcVersion: cur.V, arch: cur.A, path });
    cur = {};
    dir = '';
  };
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      flush();
      continue;
    }
    if (line[1] !== ':') continue;
    const key = line[0]!;
    const value = line.slice(2);
    if (key === 'F') dir = value;
    else if (key === 'R') owned.push(dir ? `${dir}/${value}` : value);
    else if (!(key in cur)) cur[key] = value;
  }
  flush();
  return { packages, owned };
}
