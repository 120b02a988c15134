import type { Package } from '../model.js';

/** `…/node_modules/<name>/package.json` or `…/node_modules/@scope/<name>/package.json`. */
export function isNpmManifest(path: string): boolean {
  const parts = path.split('/');
  if (parts[parts.length - 1] !== 'package.json') return false;
  const nm = parts.lastIndexOf('node_modules');
  if (nm === -1) return false;
  const rest = parts.length - nm - 2; // segments between node_modules and package.json
  return rest === 1 ? !parts[nm + 1]!.startsWith('@') && !parts[nm + 1]!.startsWith('.') : rest === 2 && parts[nm + 1]!.startsWith('@');
}

export function parseNpmManifest(text: string, path: string): Package[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return [];
  }
  const { name, version } = (json ?? {}) as { name?: unknown; version?: unknown };
  if (typeof name !== 'string' || typeof version !== 'string' || !name || !version) return [];
  return [{ type: 'npm', name, version, path }];
}
