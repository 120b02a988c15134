import { posix } from 'node:path';
import { isApkDatabase, parseApkInstalled } from '../detect/apk.js';
import { isDpkgDatabase, isDpkgFileList, parseDpkgStatus, parseMd5sums } from '../detect/dpkg.js';
import { GoBuildInfoScanner, goPackages, isExecutable } from '../detect/go-binary.js';
import { isJavaArchive, javaPackages } from '../detect/java.js';
import { isNpmManifest, parseNpmManifest } from '../detect/npm.js';
import { isNpmLockfile, parseNpmLockfile } from '../detect/npm-lockfile.js';
import { OS_FILES, parseOsFile } from '../detect/os-release.js';
import { isPythonMetadata, parsePythonMetadata } from '../detect/python.js';
import { parseRpmDatabase, rpmDatabaseFormat } from '../detect/rpm.js';
import type { OsInfo, Package } from '../model.js';
import { walkLayer, type EntryReader, type TarEntry } from './tar-walk.js';

/** Bumped whenever detection changes, so cached layer facts from an older berth are recomputed. */
export const ANALYZER_VERSION = 2;

/** What one file of a layer tells: the OS, packages, files owned by OS packages, or a symlink. */
export interface FileFacts {
  path: string;
  os?: OsInfo;
  packages?: Package[];
  owned?: string[];
  /** A symlink's target, resolved against the image root. */
  link?: string;
}

/** Everything scanning needs from one layer, computed once per layer digest and cached. */
export interface LayerFacts {
  whiteouts: string[];
  opaqueDirs: string[];
  files: FileFacts[];
}

type Kind = 'os' | 'dpkg' | 'dpkg-owned' | 'apk' | 'rpm' | 'npm' | 'npm-lock' | 'python' | 'java';

/** The most bytes of each kind of file held in memory; a larger file is skipped. */
const CAP: Record<Kind, number> = {
  os: 64 * 1024,
  dpkg: 64 * 1024 * 1024,
  'dpkg-owned': 16 * 1024 * 1024,
  apk: 64 * 1024 * 1024,
  rpm: 512 * 1024 * 1024,
  npm: 1024 * 1024,
  'npm-lock': 64 * 1024 * 1024,
  python: 1024 * 1024,
  java: 64 * 1024 * 1024,
};
/** Executables smaller than this hold no Go runtime. */
const MIN_GO_BINARY = 512 * 1024;

function kindOf(path: string): Kind | undefined {
  if (OS_FILES.has(path)) return 'os';
  if (isDpkgDatabase(path)) return 'dpkg';
  if (isDpkgFileList(path)) return 'dpkg-owned';
  if (isApkDatabase(path)) return 'apk';
  if (rpmDatabaseFormat(path)) return 'rpm';
  if (isNpmManifest(path)) return 'npm';
  if (isNpmLockfile(path)) return 'npm-lock';
  if (isPythonMetadata(path)) return 'python';
  if (isJavaArchive(path)) return 'java';
  return undefined;
}

async function factsOf(kind: Kind, path: string, data: Buffer): Promise<FileFacts> {
  const text = () => data.toString('utf8');
  switch (kind) {
    case 'os':
      return { path, os: parseOsFile(path, text()) };
    case 'dpkg':
      return { path, packages: parseDpkgStatus(text(), path) };
    case 'dpkg-owned':
      return { path, owned: parseMd5sums(text()) };
    case 'apk': {
      const { packages, owned } = parseApkInstalled(text(), path);
      return { path, packages, owned };
    }
    case 'rpm':
      try {
        return { path, packages: await parseRpmDatabase(rpmDatabaseFormat(path)!, data, path) };
      } catch {
        return { path, packages: [] };
      }
    case 'npm':
      return { path, packages: parseNpmManifest(text(), path) };
    case 'npm-lock':
      return { path, packages: parseNpmLockfile(text(), path) };
    case 'python':
      return { path, packages: parsePythonMetadata(text(), path) };
    case 'java':
      return { path, packages: await javaPackages(data, path) };
  }
}

/**
 * Reads one layer as it streams: whiteouts and opaque directories, and the facts of every file
 * scanning cares about. Only those files are held in memory (each up to its cap); executables are
 * searched for Go build info chunk by chunk.
 */
export async function analyzeLayer(source: AsyncIterable<Buffer>): Promise<LayerFacts> {
  const facts: LayerFacts = { whiteouts: [], opaqueDirs: [], files: [] };
  let chunks: Buffer[] = [];
  let held = 0;
  let overflow = false;
  let goScanner: GoBuildInfoScanner | undefined;
  let kind: Kind | undefined;

  const collect: EntryReader = (chunk) => {
    if (overflow) return;
    held += chunk.length;
    if (held > CAP[kind!]) {
      overflow = true;
      chunks = [];
    } else chunks.push(chunk);
  };

  await walkLayer(source, {
    entry(e: TarEntry): EntryReader {
      const base = posix.basename(e.path);
      const dir = posix.dirname(e.path);
      if (base === '.wh..wh..opq') {
        facts.opaqueDirs.push(dir === '.' ? '' : dir);
        return undefined;
      }
      if (base.startsWith('.wh.')) {
        facts.whiteouts.push(dir === '.' ? base.slice(4) : `${dir}/${base.slice(4)}`);
        return undefined;
      }
      if (e.type === 'symlink' && OS_FILES.has(e.path) && e.linkname) {
        const target = e.linkname.startsWith('/') ? e.linkname : posix.join(dir, e.linkname);
        facts.files.push({ path: e.path, link: posix.normalize(target).replace(/^\/+/, '') });
        return undefined;
      }
      if (e.type !== 'file') return undefined;
      kind = kindOf(e.path);
      if (kind) {
        if (e.size > CAP[kind]) return undefined;
        chunks = [];
        held = 0;
        overflow = false;
        return collect;
      }
      if (isExecutable(e.mode) && e.size >= MIN_GO_BINARY) {
        const scanner = new GoBuildInfoScanner();
        goScanner = scanner;
        return (chunk) => scanner.push(chunk);
      }
      return undefined;
    },
    async end(e: TarEntry) {
      if (goScanner) {
        const info = goScanner.result();
        goScanner = undefined;
        if (info) facts.files.push({ path: e.path, packages: goPackages(info, e.path) });
        return;
      }
      if (!kind || overflow) return;
      const data = Buffer.concat(chunks);
      chunks = [];
      facts.files.push(await factsOf(kind, e.path, data));
    },
  });
  return facts;
}
