// Scanning rows (berth only: Distribution has no scanner). A Debian-like image built from this
// machine's own files — a rootfs layer with os-release, the first 100 stanzas of the dpkg status and
// their md5sums, then real files of /usr (shared libraries, executables, docs) up to a size; an app
// layer with this repository's package-lock.json and node_modules — pushed into a repository with
// scanOnPush, timed from the manifest PUT to COMPLETE (first scan: every layer read), then the same
// layers under a new config (rescan: every layer's facts from the cache). Plus the import rate of an
// OSV zip of generated records shaped like real GHSA and Debian ones, through `berth admin vulndb import`.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { createGzip, gunzip, gzipSync } from 'node:zlib';
import { CreateRepositoryCommand, DescribeImageScanFindingsCommand, type ECRClient } from '@aws-sdk/client-ecr';
import tar from 'tar-stream';
import { gunzip as berthGunzip } from '../../src/runtime/gunzip.js';
import { berthEcrClient } from '../berth-auth.js';
import { bytesBlob, type Blob } from '../random-blob.js';
import { OCI_MANIFEST, RegistryClient } from '../registry-client.js';
import { REPO_ROOT, type RunningServer } from '../servers.js';
import { prepareBlob, pushBlob } from './blob-push.js';
import { elapsedSeconds, mbPerSecond } from '../stats.js';

const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
const MAX_FILE = 64 * 1024 * 1024;
const DPKG_PACKAGES = 100;

/** One gzip member holding a whole tar (end blocks included); layers put a small member before it. */
export interface ScanImage {
  base: Buffer;
  app: Buffer;
  packages: { deb: number; npmManifests: number };
  description: string;
}

interface TarFile {
  name: string;
  data: Buffer;
  mode: number;
}

/** Files of `root` in path order (regular files only, no symlinks), each at most MAX_FILE bytes. */
function* filesUnder(root: string, strip: string, prefix: string): Generator<TarFile> {
  let entries: string[];
  try {
    entries = readdirSync(root).sort();
  } catch {
    return;
  }
  for (const entry of entries) {
    const full = path.join(root, entry);
    let st;
    try {
      st = lstatSync(full);
    } catch {
      continue;
    }
    if (st.isDirectory()) yield* filesUnder(full, strip, prefix);
    else if (st.isFile() && st.size <= MAX_FILE) {
      let data: Buffer;
      try {
        data = readFileSync(full);
      } catch {
        continue;
      }
      yield { name: prefix + path.relative(strip, full), data, mode: st.mode & 0o777 };
    }
  }
}

/** Gzips a tar of `fixed` files, then of `filler` files until the compressed size reaches `targetBytes`. */
async function gzipLayer(fixed: TarFile[], filler: Iterable<TarFile>, targetBytes: number): Promise<Buffer> {
  const pack = tar.pack();
  const gzip = createGzip({ level: 6 });
  const chunks: Buffer[] = [];
  let compressed = 0;
  gzip.on('data', (c: Buffer) => {
    chunks.push(c);
    compressed += c.length;
  });
  const ended = once(gzip, 'end');
  pack.pipe(gzip);
  const add = (f: TarFile) => new Promise<void>((resolve, reject) => pack.entry({ name: f.name, mode: f.mode }, f.data, (err) => (err ? reject(err) : resolve())));
  for (const f of fixed) await add(f);
  for (const f of filler) {
    if (compressed >= targetBytes) break;
    await add(f);
    await new Promise((r) => setImmediate(r));
  }
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

/** The first `count` installed stanzas of this machine's dpkg status, their packages' names and source names. */
function dpkgSubset(count: number): { status: string; names: string[]; sources: string[] } {
  const stanzas = readFileSync('/var/lib/dpkg/status', 'utf8').split(/\n\n+/).filter((s) => /^Status: install ok installed$/m.test(s));
  const picked = stanzas.slice(0, count);
  const names = picked.map((s) => /^Package: (.+)$/m.exec(s)![1]!);
  const sources = picked.map((s, i) => /^Source: (\S+)/m.exec(s)?.[1] ?? names[i]!);
  return { status: picked.join('\n\n') + '\n', names, sources };
}

export async function buildScanImage(totalBytes: number): Promise<ScanImage> {
  const { status, names } = dpkgSubset(DPKG_PACKAGES);
  const md5sums: TarFile[] = [];
  for (const name of names) {
    for (const file of [`${name}.md5sums`, `${name}:amd64.md5sums`]) {
      try {
        md5sums.push({ name: `var/lib/dpkg/info/${file}`, data: readFileSync(`/var/lib/dpkg/info/${file}`), mode: 0o644 });
      } catch {
        // not every package ships md5sums
      }
    }
  }
  const baseFixed: TarFile[] = [
    { name: 'usr/lib/os-release', data: readFileSync('/usr/lib/os-release'), mode: 0o644 },
    { name: 'etc/debian_version', data: readFileSync('/etc/debian_version'), mode: 0o644 },
    { name: 'var/lib/dpkg/status', data: Buffer.from(status), mode: 0o644 },
    ...md5sums,
  ];
  const usr = (function* () {
    for (const dir of ['/usr/lib/x86_64-linux-gnu', '/usr/bin', '/usr/share']) yield* filesUnder(dir, '/', '');
  })();
  const base = await gzipLayer(baseFixed, usr, Math.round(totalBytes * 0.75));

  let npmManifests = 0;
  const nodeModules = (function* () {
    for (const f of filesUnder(path.join(REPO_ROOT, 'node_modules'), REPO_ROOT, 'app/')) {
      if (/node_modules\/(@[^/]+\/)?[^/@.][^/]*\/package\.json$/.test(f.name) && !/node_modules\/.*\/node_modules\/.*\/package\.json$/.test(f.name)) npmManifests++;
      yield f;
    }
  })();
  const app = await gzipLayer([{ name: 'app/package-lock.json', data: readFileSync(path.join(REPO_ROOT, 'package-lock.json')), mode: 0o644 }], nodeModules, totalBytes - base.length);
  const mb = (n: number) => (n / 1e6).toFixed(0);
  return {
    base,
    app,
    packages: { deb: names.length, npmManifests },
    description: `base ${mb(base.length)} MB (dpkg status of ${names.length} packages, ${md5sums.length} md5sums, /usr files), app ${mb(app.length)} MB (package-lock.json, ${npmManifests} node_modules packages)`,
  };
}

/**
 * A layer with a new digest and the same contents plus one small file: a gzip member holding that
 * file's tar entry (no end blocks) in front of the prebuilt member. gunzip reads both members as
 * one stream, so the tar is whole, and nothing is cached for the new digest.
 */
async function uniqueLayer(layer: Buffer, tag: string): Promise<Blob> {
  const data = Buffer.from(`${tag}\n`);
  const pack = tar.pack();
  pack.entry({ name: `etc/bench-${tag}`, mode: 0o644 }, data);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  // The entry alone: its header block and data padded to a block, without the archive's end blocks.
  const entry = Buffer.concat(chunks).subarray(0, 512 + Math.ceil(data.length / 512) * 512);
  return bytesBlob(Buffer.concat([gzipSync(entry), layer]));
}

async function pushImage(client: RegistryClient, repo: string, tag: string, layers: Blob[], label: string): Promise<{ manifest: Buffer; digest: string }> {
  for (const layer of layers) await client.pushMonolithic(repo, layer);
  const config = bytesBlob(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: { bench: label } }, rootfs: { type: 'layers', diff_ids: [] } })));
  await client.pushMonolithic(repo, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size },
      layers: layers.map((l) => ({ mediaType: OCI_LAYER_GZIP, digest: l.digest, size: l.size })),
    }),
  );
  return { manifest, digest: bytesBlob(manifest).digest };
}

/** Polls DescribeImageScanFindings until the scan is done; returns its status and finding count. */
async function waitForScan(ecr: ECRClient, repositoryName: string, imageDigest: string): Promise<{ status: string; findings: number }> {
  const deadline = Date.now() + 600_000;
  for (;;) {
    const out = await ecr.send(new DescribeImageScanFindingsCommand({ repositoryName, imageId: { imageDigest }, maxResults: 1000 }));
    const status = out.imageScanStatus?.status ?? '?';
    if (status !== 'PENDING' && status !== 'IN_PROGRESS') {
      const counts = out.imageScanFindings?.findingSeverityCounts ?? {};
      return { status, findings: Object.values(counts).reduce((a, b) => a + (b ?? 0), 0) };
    }
    if (Date.now() > deadline) throw new Error(`scan of ${repositoryName}@${imageDigest} still ${status} after 10 minutes`);
    await sleep(10);
  }
}

export interface ScanRound {
  layerBytes: number;
  firstSeconds: number;
  firstMBps: number;
  firstRssRiseMiB: number;
  rescanSeconds: number;
  findings: number;
}

/** One round: a first scan of the image under fresh layer digests, then a rescan of the same layers. */
export async function scanRound(server: RunningServer, image: ScanImage, round: number): Promise<ScanRound> {
  const repo = `bench/scan-${round}`;
  const ecr = await berthEcrClient(server.origin, server.dataDir);
  const client = new RegistryClient(server.origin, server.authorization, 1);
  try {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: repo, imageScanningConfiguration: { scanOnPush: true } }));
    const layers = [await uniqueLayer(image.base, `r${round}-base`), await uniqueLayer(image.app, `r${round}-app`)];
    const layerBytes = layers.reduce((n, l) => n + l.size, 0);

    const first = await pushImage(client, repo, 'first', layers, `first-${round}`);
    server.rss.beginWindow();
    let start = process.hrtime.bigint();
    await client.putManifest(repo, 'first', first.manifest);
    const firstScan = await waitForScan(ecr, repo, first.digest);
    const firstSeconds = elapsedSeconds(start);
    const firstRssRiseMiB = server.rss.endWindow();
    if (firstScan.status !== 'COMPLETE') throw new Error(`first scan ended ${firstScan.status}`);

    const again = await pushImage(client, repo, 'again', layers, `again-${round}`);
    start = process.hrtime.bigint();
    await client.putManifest(repo, 'again', again.manifest);
    const rescan = await waitForScan(ecr, repo, again.digest);
    const rescanSeconds = elapsedSeconds(start);
    if (rescan.status !== 'COMPLETE' || rescan.findings !== firstScan.findings) {
      throw new Error(`rescan ended ${rescan.status} with ${rescan.findings} findings (first scan: ${firstScan.findings})`);
    }
    return { layerBytes, firstSeconds, firstMBps: mbPerSecond(layerBytes, firstSeconds), firstRssRiseMiB, rescanSeconds, findings: firstScan.findings };
  } finally {
    client.pool.destroy().catch(() => undefined);
    ecr.destroy();
  }
}

/**
 * An OSV zip of `count` records shaped like real ones: GHSA records (npm and PyPI, re-typed from
 * the scanner's test fixtures) and Debian tracker records (`DEBIAN-CVE-…` with `upstream`), named
 * after packages mostly absent from the image, about 2% after packages in it. Written by Python's
 * zipfile, a real zip writer.
 */
export function buildOsvZip(file: string, count: number, round: number): void {
  const fixtures = path.join(REPO_ROOT, 'test', 'fixtures', 'scanning', 'osv');
  const templates = readdirSync(fixtures).map((f) => JSON.parse(readFileSync(path.join(fixtures, f), 'utf8')) as Record<string, unknown>);
  const { sources: debSources } = dpkgSubset(DPKG_PACKAGES);
  const npmNames = readdirSync(path.join(REPO_ROOT, 'node_modules')).filter((n) => !n.startsWith('.') && !n.startsWith('@'));
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const cve = `CVE-${2000 + (i % 26)}-${100000 + round * count + i}`;
    const modified = new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString();
    const inImage = i % 50 === 0;
    if (i % 3 === 0) {
      const name = inImage ? debSources[Math.floor(i / 50) % debSources.length]! : `bench-src-${i}`;
      lines.push(
        JSON.stringify({
          schema_version: '1.7.0',
          id: `DEBIAN-${cve}`,
          upstream: [cve],
          modified,
          published: modified,
          details: `Bench record ${i}: a flaw in ${name} allows a remote attacker to cause a denial of service via crafted input.`,
          affected: [{ package: { ecosystem: 'Debian:12', name, purl: `pkg:deb/debian/${name}?arch=source` }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: i % 4 === 0 ? '0.1-1' : '999:1-1' }] }], versions: [] }],
          references: [{ type: 'ADVISORY', url: `https://security-tracker.debian.org/tracker/${cve}` }],
        }),
      );
      continue;
    }
    const template = structuredClone(templates[i % templates.length]!) as { id: string; aliases?: string[]; modified: string; affected: Array<{ package: { name: string; ecosystem: string } }> };
    template.id = `GHSA-bnch-${(round * count + i).toString(36).padStart(4, '0').slice(-4)}-${i.toString(36).padStart(4, '0')}`;
    template.aliases = [cve];
    template.modified = modified;
    for (const a of template.affected) a.package.name = inImage && a.package.ecosystem === 'npm' ? npmNames[Math.floor(i / 50) % npmNames.length]! : `${a.package.name}-bench-${i}`;
    lines.push(JSON.stringify(template));
  }
  const jsonl = `${file}.jsonl`;
  writeFileSync(jsonl, lines.join('\n') + '\n');
  const script = 'import sys,zipfile,json\nz=zipfile.ZipFile(sys.argv[1],"w",zipfile.ZIP_DEFLATED)\nfor line in open(sys.argv[2]):\n  z.writestr(json.loads(line)["id"]+".json", line)\nz.close()';
  const r = spawnSync('python3', ['-c', script, file, jsonl], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error('python3 zipfile failed to write the OSV zip');
}

/** Imports the zip into the running server's store with `berth admin vulndb import`; records/s over the command's wall time. */
export async function importRate(server: RunningServer, zip: string, count: number): Promise<{ recordsPerSecond: number; seconds: number; added: number }> {
  const start = process.hrtime.bigint();
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'berth.js'), 'admin', 'vulndb', 'import', '--json', '--data-dir', server.dataDir, zip], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  const seconds = elapsedSeconds(start);
  if (code !== 0) throw new Error(`berth admin vulndb import exited ${code}: ${out.slice(0, 300)}`);
  const report = JSON.parse(out) as { added: number };
  if (report.added !== count) throw new Error(`import added ${report.added} of ${count} records`);
  return { recordsPerSecond: count / seconds, seconds, added: report.added };
}

/**
 * The machine limit for a first scan, which inflates every byte of the image's layers: berth's own
 * gunzip (the engine the server picks: ISA-L in a worker thread where libisal2 loads, else node's
 * zlib in 2 MiB steps) inflating the layers from memory, read 1 MiB at a time as the server reads
 * them, in the bench process, with nothing else to do, in MB/s of
 * compressed bytes; the best of three. Also node's one-shot `zlib.gunzip` at its defaults (16 KiB
 * steps in the thread pool), the limit this row was read against before berth had its own gunzip.
 */
export async function inflateLimits(image: ScanImage): Promise<{ engine: string; mbps: number; nodeGunzipMbps: number }> {
  const engine = await berthGunzip();
  const bytes = image.base.length + image.app.length;
  const bestOf3 = async (inflate: (layer: Buffer) => Promise<unknown>) => {
    let best = 0;
    for (let i = 0; i < 3; i++) {
      const start = process.hrtime.bigint();
      for (const layer of [image.base, image.app]) await inflate(layer);
      best = Math.max(best, mbPerSecond(bytes, elapsedSeconds(start)));
    }
    return best;
  };
  const mbps = await bestOf3(async (layer) => {
    // In 1 MiB reads, as the server reads a layer's blob.
    const reads = (async function* () {
      for (let at = 0; at < layer.length; at += 1 << 20) yield layer.subarray(at, at + (1 << 20));
    })();
    for await (const chunk of engine.inflate(reads)) void chunk;
  });
  const nodeGunzipMbps = await bestOf3(promisify(gunzip));
  return { engine: engine.engine, mbps, nodeGunzipMbps };
}

/**
 * A large blob pushed right after an image's manifest: on berth the image is scanned on push, in
 * the same process, while the blob streams in; Distribution only stores the image. Returns the
 * blob's MB/s, and on berth whether the scan was still running when the blob had landed.
 */
export async function pushDuringScan(server: RunningServer, image: ScanImage, round: number, blobBytes: number): Promise<{ mbps: number; overlapped: boolean }> {
  const repo = `bench/scan-push-${round}`;
  const berth = server.kind === 'berth';
  const ecr = berth ? await berthEcrClient(server.origin, server.dataDir) : undefined;
  const client = new RegistryClient(server.origin, server.authorization, 1);
  try {
    await ecr?.send(new CreateRepositoryCommand({ repositoryName: repo, imageScanningConfiguration: { scanOnPush: true } }));
    const layers = [await uniqueLayer(image.base, `p${round}-base`), await uniqueLayer(image.app, `p${round}-app`)];
    const pushed = await pushImage(client, repo, 'image', layers, `push-${round}`);
    const blob = prepareBlob(blobBytes);
    await client.putManifest(repo, 'image', pushed.manifest);
    const { mbps } = await pushBlob(server, blob, 'monolithic', blobBytes, repo);
    let overlapped = false;
    if (ecr) {
      const now = await ecr.send(new DescribeImageScanFindingsCommand({ repositoryName: repo, imageId: { imageDigest: pushed.digest }, maxResults: 1 }));
      overlapped = now.imageScanStatus?.status === 'PENDING' || now.imageScanStatus?.status === 'IN_PROGRESS';
      await waitForScan(ecr, repo, pushed.digest);
    }
    return { mbps, overlapped };
  } finally {
    client.pool.destroy().catch(() => undefined);
    ecr?.destroy();
  }
}
