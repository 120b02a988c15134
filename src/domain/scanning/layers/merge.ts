import { isNpmLockfile } from '../detect/npm-lockfile.js';
import { detectOs } from '../detect/os-release.js';
import { OS_PACKAGE_TYPES, type ImagePackage, type OsInfo } from '../model.js';
import type { FileFacts, LayerFacts } from './analyze.js';

export interface ImageContents {
  os?: OsInfo;
  packages: ImagePackage[];
}

function under(path: string, dir: string): boolean {
  return dir === '' || path === dir || path.startsWith(`${dir}/`);
}

/**
 * The image's contents from its layers, bottom first, as a union filesystem shows them: each layer
 * first removes what its whiteouts and opaque directories hide in the layers below, then its own
 * files replace the same paths below (a newer dpkg status replaces the older one whole).
 * Language packages whose metadata file an OS package owns are dropped: the OS record decides.
 */
export function mergeLayers(layers: Array<{ digest: string; facts: LayerFacts }>): ImageContents {
  const tree = new Map<string, { file: FileFacts; layer: string }>();
  for (const { digest, facts } of layers) {
    for (const dir of facts.opaqueDirs) {
      for (const path of [...tree.keys()]) if (path !== dir && under(path, dir)) tree.delete(path);
    }
    for (const gone of facts.whiteouts) {
      for (const path of [...tree.keys()]) if (under(path, gone)) tree.delete(path);
    }
    for (const file of facts.files) tree.set(file.path, { file, layer: digest });
  }

  // Only the paths of language packages' metadata files are looked up among the owned ones (a
  // base layer's OS packages own tens of thousands of files; a set of them all cost more than the rest).
  const osFiles = new Map<string, OsInfo>();
  const languageFiles = new Set<string>();
  for (const [path, { file }] of tree) {
    const resolved = file.link ? tree.get(file.link)?.file : file;
    if (resolved?.os) osFiles.set(path, resolved.os);
    if (file.packages?.some((pkg) => !OS_PACKAGE_TYPES.has(pkg.type))) languageFiles.add(path);
  }
  const owned = new Set<string>();
  if (languageFiles.size > 0) {
    for (const { file } of tree.values()) {
      for (const p of file.owned ?? []) if (languageFiles.has(p)) owned.add(p);
    }
  }

  const packages: ImagePackage[] = [];
  for (const [path, { file, layer }] of tree) {
    for (const pkg of file.packages ?? []) {
      if (!OS_PACKAGE_TYPES.has(pkg.type) && owned.has(path)) continue;
      packages.push({ ...pkg, layer });
    }
  }
  return { os: detectOs(osFiles), packages: withoutInstalledLockfilePins(packages) };
}

/** A package a lockfile pins and a `node_modules` manifest shows installed is reported once, as installed. */
function withoutInstalledLockfilePins(packages: ImagePackage[]): ImagePackage[] {
  const installed = new Set(packages.filter((p) => p.type === 'npm' && !isNpmLockfile(p.path)).map((p) => `${p.name}@${p.version}`));
  return packages.filter((p) => p.type !== 'npm' || !isNpmLockfile(p.path) || !installed.has(`${p.name}@${p.version}`));
}
