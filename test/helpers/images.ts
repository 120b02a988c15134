// Small real OCI images on disk, built with umoci, plus a multi-platform index written by hand, and
// readers for OCI image layouts (to compare what went into a registry with what came back out).
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './tools.js';
import { MediaType, sha256, type Descriptor } from './oci.js';

const STATIC_BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox', '/usr/lib/initramfs-tools/bin/busybox'];

/** Whether an ELF file has no program interpreter (i.e. is statically linked). */
async function isStaticElf(path: string): Promise<boolean> {
  const buf = await readFile(path);
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46 || buf[4] !== 2 || buf[5] !== 1) return false;
  const phoff = Number(buf.readBigUInt64LE(32));
  const phentsize = buf.readUInt16LE(54);
  const phnum = buf.readUInt16LE(56);
  for (let i = 0; i < phnum; i++) {
    const type = buf.readUInt32LE(phoff + i * phentsize);
    if (type === 3 /* PT_INTERP */) return false;
  }
  return true;
}

/** Path of a statically linked x86-64 busybox (Debian package busybox-static), or undefined. */
export async function findStaticBusybox(): Promise<string | undefined> {
  for (const p of STATIC_BUSYBOX_CANDIDATES) {
    if (existsSync(p) && statSync(p).isFile() && (await isStaticElf(p))) return p;
  }
  return undefined;
}

export interface FileSpec {
  /** Absolute path inside the image, e.g. /etc/motd */
  path: string;
  /** File content; or `source`, a file on this machine to copy. */
  content?: string | Buffer;
  source?: string;
}

export interface ImageSpec {
  /** OCI layout directory (created if missing; may hold other tags). */
  layout: string;
  tag: string;
  /** Each file becomes its own layer (umoci insert). */
  files: FileSpec[];
  architecture?: string;
  os?: string;
  entrypoint?: string[];
  cmd?: string[];
}

export interface LayoutImage {
  layout: string;
  tag: string;
  /** skopeo reference: oci:<layout>:<tag> */
  ref: string;
  mediaType: string;
  digest: string;
  manifest: Buffer;
  configDigest: string;
  layerDigests: string[];
}

/** Builds a single-platform OCI image with umoci: one gzip layer per file, then config. */
export async function buildImage(spec: ImageSpec): Promise<LayoutImage> {
  const image = `${spec.layout}:${spec.tag}`;
  if (!existsSync(join(spec.layout, 'oci-layout'))) await run('umoci', ['init', '--layout', spec.layout]);
  await run('umoci', ['new', '--image', image]);
  const staging = `${spec.layout}.staging`;
  await mkdir(staging, { recursive: true });
  let n = 0;
  for (const f of spec.files) {
    let src = f.source;
    if (src === undefined) {
      src = join(staging, `file-${n++}`);
      await writeFile(src, f.content ?? '', { mode: 0o644 });
    }
    await run('umoci', ['insert', '--image', image, src, f.path]);
  }
  const configArgs = ['config', '--image', image, '--architecture', spec.architecture ?? 'amd64', '--os', spec.os ?? 'linux'];
  for (const e of spec.entrypoint ?? []) configArgs.push('--config.entrypoint', e);
  for (const c of spec.cmd ?? []) configArgs.push('--config.cmd', c);
  await run('umoci', configArgs);
  await run('umoci', ['gc', '--layout', spec.layout]);
  return readLayoutImage(spec.layout, spec.tag);
}

export interface OciIndexJson {
  schemaVersion: number;
  mediaType?: string;
  manifests: Descriptor[];
}

export async function readIndexJson(layout: string): Promise<OciIndexJson> {
  return JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as OciIndexJson;
}

export function blobFile(layout: string, digest: string): string {
  const [alg, hex] = digest.split(':');
  return join(layout, 'blobs', alg!, hex!);
}

export async function readBlob(layout: string, digest: string): Promise<Buffer> {
  return readFile(blobFile(layout, digest));
}

/** The index.json entry tagged `tag` (org.opencontainers.image.ref.name). */
export async function layoutEntry(layout: string, tag: string): Promise<Descriptor> {
  const index = await readIndexJson(layout);
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!entry) throw new Error(`no tag ${tag} in ${layout}/index.json: ${JSON.stringify(index)}`);
  return entry;
}

/** Reads a tagged single image (manifest, config and layer digests) from an OCI layout. */
export async function readLayoutImage(layout: string, tag: string): Promise<LayoutImage> {
  const entry = await layoutEntry(layout, tag);
  return readLayoutManifest(layout, tag, entry.digest);
}

export async function readLayoutManifest(layout: string, tag: string, digest: string): Promise<LayoutImage> {
  const manifest = await readBlob(layout, digest);
  const parsed = JSON.parse(manifest.toString('utf8')) as { mediaType?: string; config: Descriptor; layers: Descriptor[] };
  return {
    layout,
    tag,
    ref: `oci:${layout}:${tag}`,
    mediaType: parsed.mediaType ?? MediaType.ociManifest,
    digest,
    manifest,
    configDigest: parsed.config.digest,
    layerDigests: parsed.layers.map((l) => l.digest),
  };
}

/** Checks every blob file in a layout hashes to its own name; returns the list of digests. */
export async function verifyLayoutBlobs(layout: string): Promise<string[]> {
  const dir = join(layout, 'blobs', 'sha256');
  const digests: string[] = [];
  for (const name of await readdir(dir)) {
    const actual = createHash('sha256').update(await readFile(join(dir, name))).digest('hex');
    if (actual !== name) throw new Error(`blob ${dir}/${name} hashes to ${actual}`);
    digests.push(`sha256:${name}`);
  }
  return digests;
}

export interface LayoutIndex {
  layout: string;
  tag: string;
  ref: string;
  digest: string;
  index: Buffer;
  /** The images it lists, in order (amd64, arm64). */
  children: (LayoutImage & { platform: { architecture: string; os: string } })[];
}

/**
 * Two single-platform images (linux/amd64 and linux/arm64, different content) and an OCI image index
 * listing them, written into one OCI layout under `tag`.
 */
export async function buildMultiPlatformIndex(layout: string, tag: string, marker = tag): Promise<LayoutIndex> {
  const platforms = [
    { architecture: 'amd64', os: 'linux' },
    { architecture: 'arm64', os: 'linux' },
  ];
  const children: LayoutIndex['children'] = [];
  for (const platform of platforms) {
    const img = await buildImage({
      layout,
      tag: `${tag}-${platform.architecture}`,
      architecture: platform.architecture,
      os: platform.os,
      files: [
        { path: '/etc/platform', content: `${platform.os}/${platform.architecture}\n` },
        { path: '/etc/marker', content: `${marker} ${platform.architecture}\n` },
      ],
      cmd: ['/bin/true'],
    });
    children.push({ ...img, platform });
  }
  const index = Buffer.from(
    JSON.stringify(
      {
        schemaVersion: 2,
        mediaType: MediaType.ociIndex,
        manifests: children.map((c) => ({
          mediaType: c.mediaType,
          digest: c.digest,
          size: c.manifest.length,
          platform: c.platform,
        })),
        annotations: { 'org.example.marker': marker },
      },
      null,
      2,
    ),
  );
  const digest = await writeBlob(layout, index);
  const indexJson = await readIndexJson(layout);
  indexJson.manifests = indexJson.manifests.filter((m) => m.annotations?.['org.opencontainers.image.ref.name'] !== tag);
  indexJson.manifests.push({
    mediaType: MediaType.ociIndex,
    digest,
    size: index.length,
    annotations: { 'org.opencontainers.image.ref.name': tag },
  });
  await writeFile(join(layout, 'index.json'), JSON.stringify(indexJson));
  return { layout, tag, ref: `oci:${layout}:${tag}`, digest, index, children };
}

/** Writes bytes into a layout's blob store; returns the digest. */
export async function writeBlob(layout: string, data: Buffer): Promise<string> {
  const digest = sha256(data);
  const file = blobFile(layout, digest);
  await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true });
  await writeFile(file, data);
  return digest;
}

/** A runnable image: static busybox, entrypoint `busybox echo <message>` (plus one data file). */
export async function buildRunnableImage(layout: string, tag: string, message: string): Promise<LayoutImage> {
  const busybox = await findStaticBusybox();
  if (!busybox) throw new Error('no statically linked busybox on this machine (install Debian package busybox-static)');
  const staging = `${layout}.bin`;
  await mkdir(staging, { recursive: true });
  const local = join(staging, 'busybox');
  await copyFile(busybox, local);
  return buildImage({
    layout,
    tag,
    files: [
      { path: '/bin/busybox', source: local },
      { path: '/etc/berth-message', content: `${message}\n` },
    ],
    entrypoint: ['/bin/busybox'],
    cmd: ['cat', '/etc/berth-message'],
  });
}
