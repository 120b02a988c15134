import type { Package } from '../model.js';

/** Installed distribution metadata: `*.dist-info/METADATA`, `*.egg-info/PKG-INFO`, `EGG-INFO/PKG-INFO`, or an `*.egg-info` file. */
export function isPythonMetadata(path: string): boolean {
  const parts = path.split('/');
  const file = parts[parts.length - 1]!;
  const dir = parts[parts.length - 2] ?? '';
  if (file === 'METADATA') return dir.endsWith('.dist-info');
  if (file === 'PKG-INFO') return dir.endsWith('.egg-info') || dir === 'EGG-INFO';
  return file.endsWith('.egg-info');
}

/** PEP 503 normalization: lowercase, runs of `-`, `_`, `.` become one `-`. */
export function normalizePypiName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** The `Name:` and `Version:` headers of core metadata (email-header style, ends at the first blank line). */
export function parsePythonMetadata(text: string, path: string): Package[] {
  let name: string | undefined;
  let version: string | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') break;
    const m = /^(Name|Version):\s*(.+?)\s*$/i.exec(line);
    if (!m) continue;
    if (m[1]!.toLowerCase() === 'name') name ??= m[2];
    else version ??= m[2];
  }
  return name && version ? [{ type: 'pypi', name: normalizePypiName(name), version, path }] : [];
}
