import semver from 'semver';
import type { Package } from '../model.js';

const LOCKFILES = new Set(['package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml']);

/**
 * A project's lockfile: `package-lock.json` / `npm-shrinkwrap.json` (npm), `yarn.lock` (yarn v1 and
 * berry), `pnpm-lock.yaml`. Lockfiles inside `node_modules` belong to installed packages, whose own
 * `package.json` files already tell what is there.
 */
export function isNpmLockfile(path: string): boolean {
  const parts = path.split('/');
  return LOCKFILES.has(parts[parts.length - 1]!) && !parts.includes('node_modules');
}

/** The packages a lockfile pins, each name@version once; dev-only packages and non-registry sources (git, file, links) are left out. */
export function parseNpmLockfile(text: string, path: string): Package[] {
  const file = path.slice(path.lastIndexOf('/') + 1);
  const pins = file === 'yarn.lock' ? yarnPins(text) : file === 'pnpm-lock.yaml' ? pnpmPins(text) : packageLockPins(text);
  const seen = new Set<string>();
  const out: Package[] = [];
  for (const { name, version } of pins) {
    const exact = semver.valid(version);
    if (!name || !exact || seen.has(`${name}@${exact}`)) continue;
    seen.add(`${name}@${exact}`);
    out.push({ type: 'npm', name, version: exact, path });
  }
  return out;
}

interface Pin {
  name: string;
  version: string;
}

/** `npm:<name>@<version>` (an alias) names the real package. */
function unalias(name: string, version: string): Pin {
  if (!version.startsWith('npm:')) return { name, version };
  const spec = version.slice(4);
  const at = spec.lastIndexOf('@');
  return at > 0 ? { name: spec.slice(0, at), version: spec.slice(at + 1) } : { name, version: '' };
}

interface LockEntry {
  name?: unknown;
  version?: unknown;
  dev?: unknown;
  link?: unknown;
  dependencies?: unknown;
}

/**
 * npm's package-lock: v2 and v3 list every installed package under `packages`, keyed by its
 * location (`node_modules/a/node_modules/@s/b`; `name` is set for aliases); v1 nests
 * `dependencies` by name.
 */
function packageLockPins(text: string): Pin[] {
  let json: { packages?: unknown; dependencies?: unknown };
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    return [];
  }
  if (typeof json !== 'object' || json === null) return [];
  const pins: Pin[] = [];
  if (isObject(json.packages)) {
    for (const [location, raw] of Object.entries(json.packages)) {
      const at = location.lastIndexOf('node_modules/');
      if (at === -1 || !isObject(raw)) continue; // "" is the project itself, others are workspace sources
      const entry = raw as LockEntry;
      if (entry.link === true || entry.dev === true || typeof entry.version !== 'string') continue;
      const name = typeof entry.name === 'string' ? entry.name : location.slice(at + 'node_modules/'.length);
      pins.push(unalias(name, entry.version));
    }
    return pins;
  }
  const walk = (deps: unknown): void => {
    if (!isObject(deps)) return;
    for (const [name, raw] of Object.entries(deps)) {
      if (!isObject(raw)) continue;
      const entry = raw as LockEntry;
      if (entry.dev !== true && typeof entry.version === 'string') pins.push(unalias(name, entry.version));
      walk(entry.dependencies);
    }
  };
  walk(json.dependencies);
  return pins;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const unquote = (s: string) => s.trim().replace(/^["']|["']$/g, '');

/**
 * yarn.lock: entries start with an unindented line of specifiers (`"a@^1", a@~1.2:`), followed by
 * an indented `version "1.2.3"` (v1; npm writes `"version" "1.2.3"`) or `version: 1.2.3` (berry). Berry's specifiers carry a
 * protocol (`a@npm:^1`); only `npm:` ones are registry packages.
 */
function yarnPins(text: string): Pin[] {
  const pins: Pin[] = [];
  let name: string | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    if (!/^\s/.test(line)) {
      name = undefined;
      if (!line.endsWith(':') || line.startsWith('__metadata')) continue;
      const spec = unquote(line.slice(0, -1).split(',')[0]!);
      const at = spec.indexOf('@', 1);
      if (at === -1) continue;
      const range = spec.slice(at + 1);
      if (/^[a-z]+:/.test(range) && !range.startsWith('npm:')) continue; // workspace:, patch:, file:, git…
      name = range.startsWith('npm:') && /^npm:(@[^@/]+\/)?[^@]+@/.test(range) ? range.slice(4, range.lastIndexOf('@')) : spec.slice(0, at);
      continue;
    }
    const m = /^ {2}"?version"?:? +(.+)$/.exec(line);
    if (m && name) {
      pins.push({ name, version: unquote(m[1]!) });
      name = undefined;
    }
  }
  return pins;
}

/**
 * pnpm-lock.yaml: the keys of its `packages:` map name each package — `/a/1.0.0` (lockfile 5),
 * `/a@1.0.0` (6), `a@1.0.0` (9), with an optional peer suffix (`_b@2.0.0`, `(b@2.0.0)`); entries
 * marked `dev: true` (5 and 6) are dev-only.
 */
function pnpmPins(text: string): Pin[] {
  const pins: Pin[] = [];
  let inPackages = false;
  let current: Pin | undefined;
  const flush = () => {
    if (current) pins.push(current);
    current = undefined;
  };
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    if (!/^\s/.test(line)) {
      flush();
      inPackages = line.trimEnd() === 'packages:';
      continue;
    }
    if (!inPackages) continue;
    const key = /^ {2}(\S.*):\s*(\{.*\})?$/.exec(line);
    if (key) {
      flush();
      current = pnpmKey(unquote(key[1]!));
      if (current && key[2] && /\bdev: true\b/.test(key[2])) current = undefined;
      continue;
    }
    if (current && /^ {4}dev: true\s*$/.test(line)) current = undefined;
  }
  flush();
  return pins;
}

function pnpmKey(key: string): Pin | undefined {
  const k = key.replace(/^\//, '').replace(/\(.*$/, '');
  // Lockfile 5: name/version, peers after an underscore (`a/1.0.0_b@2.0.0`).
  const v5 = /^((?:@[^/@]+\/)?[^/@]+)\/(\d[^/_]*)(?:_.*)?$/.exec(k);
  if (v5) return { name: v5[1]!, version: v5[2]! };
  const at = k.indexOf('@', 1);
  return at > 0 ? { name: k.slice(0, at), version: k.slice(at + 1) } : undefined;
}
