// `npm run bench`: berth and CNCF Distribution side by side on loopback, the same workloads on
// both, alternating A B A B for several rounds; prints one table of medians.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig, MiB, type BenchConfig } from './config.js';
import { measureLimits, type MachineLimits } from './limits.js';
import { machineLine } from './machine.js';
import type { Blob } from './random-blob.js';
import { ServerUnavailable, startServer, type BenchTls, type RunningServer, type S3Storage } from './servers.js';
import { startS3, type BenchS3 } from './s3.js';
import { writeSelfSigned } from '../src/doors/http/self-signed.js';
import { settleDisk } from './settle.js';
import { median } from './stats.js';
import { legend, renderTable, type Limit, type Row } from './table.js';
import { pullBlob } from './workloads/blob-pull.js';
import { BLOB_REPO, KMS_BLOB_REPO, prepareBlob, pushBlob, type PushMode } from './workloads/blob-push.js';
import { createKmsRepository } from './berth-auth.js';
import { loadToolFor, manifestLoad, prepareManifestImage } from './workloads/manifest-load.js';
import { mixedWorkload } from './workloads/mixed.js';
import { buildOsvZip, buildScanImage, importRate, inflateLimits, pushDuringScan, scanRound } from './workloads/scan.js';

const started = Date.now();
const log = (line: string) => process.stderr.write(`${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s ${line}\n`);

function sizeLabel(bytes: number): string {
  if (bytes >= 1024 * MiB && bytes % (1024 * MiB) === 0) return `${bytes / (1024 * MiB)} GiB`;
  if (bytes >= MiB) return `${+(bytes / MiB).toFixed(1)} MiB`;
  return `${+(bytes / 1024).toFixed(0)} KiB`;
}

function displayLabels(config: BenchConfig): [string, string] {
  const name = (kind: string) => (kind === 'berth' ? 'berth' : 'Distribution');
  const [a, b] = config.servers;
  return a === b ? [`${name(a)} A`, `${name(b)} B`] : [name(a), name(b)];
}

/** Collects per-round samples for each row, A and B. */
class Samples {
  private readonly rows = new Map<string, { unit: string; better: Row['better']; limit?: Limit; a: number[]; b: number[] }>();

  add(metric: string, unit: string, better: Row['better'], side: 0 | 1, value: number, limit?: Limit): void {
    let row = this.rows.get(metric);
    if (!row) this.rows.set(metric, (row = { unit, better, limit, a: [], b: [] }));
    (side === 0 ? row.a : row.b).push(value);
  }

  table(): Row[] {
    return [...this.rows].map(([metric, r]) => ({ metric, unit: r.unit, better: r.better, limit: r.limit, a: median(r.a), b: median(r.b) }));
  }

  raw(): Record<string, { a: number[]; b: number[] }> {
    return Object.fromEntries([...this.rows].map(([k, r]) => [k, { a: r.a, b: r.b }]));
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const labels = displayLabels(config);
  const machine = machineLine();
  log(`bench: ${machine}`);
  log(`bench: ${labels[0]} vs ${labels[1]}, ${config.rounds} round(s), blob ${sizeLabel(config.blobBytes)}${config.smoke ? ' (smoke)' : ''}`);

  const root = await mkdtemp(path.join(config.workDir, 'berth-bench-'));
  const servers: RunningServer[] = [];
  let s3: BenchS3 | undefined;
  try {
    if (config.storage === 's3') {
      log('bench: starting Ceph RADOS Gateway (S3) on loopback…');
      s3 = await startS3(['bench-a', 'bench-b']);
      log(`bench: S3 at ${s3.endpoint} (${s3.version}); both servers keep blobs there`);
    }
    for (const [i, kind] of config.servers.entries()) {
      const storage: S3Storage | undefined = s3 && { ...s3.storage, bucket: s3.buckets[i]! };
      servers.push(
        await startServer(kind, {
          label: labels[i]!,
          dataDir: path.join(root, `${'ab'[i]}-${kind}`),
          berthCpuProfileDir: config.berthCpuProfileDir,
          s3: storage,
        }),
      );
      log(`bench: ${labels[i]} (${servers[i]!.version}) on ${servers[i]!.origin}${servers[i]!.authorization ? ', logged in with an ECR token' : ''}`);
    }

    // Limits are measured with both servers started and idle.
    log('bench: measuring machine limits…');
    const limits = await measureLimits(root, config.blobBytes, config.settleSeconds);
    log(`bench: limits sha256 ${limits.sha256MBps.toFixed(0)} MB/s, fsync'd write ${limits.diskWriteMBps.toFixed(0)} MB/s (O_DIRECT ${limits.diskDirectMBps.toFixed(0)}, page cache ${limits.diskBufferedMBps.toFixed(0)}), loopback TCP ${limits.loopbackMBps.toFixed(0)} MB/s`);
    const samples = await runWorkloads(config, servers, limits);
    if (config.only.has('tls')) await runTlsWorkloads(config, root, labels, limits, samples);
    if (config.only.has('scan')) await runScanWorkloads(config, root, servers, samples);
    for (const server of servers) await server.stop();
    for (const [i, server] of servers.entries()) {
      samples.add('peak RSS (whole run)', 'MiB', 'lower', i as 0 | 1, server.rss.peakMiB());
      if (server.rss.processes() > 1) log(`bench: ${server.label} ran as ${server.rss.processes()} processes; RSS is summed over the tree`);
    }

    const rows = samples.table();
    const report = [
      `Machine: ${machine}`,
      `Servers: ${servers.map((s) => `${s.label} = ${s.version}`).join('; ')}`,
      ...(s3 ? [`Storage: blobs in S3, one ${s3.version} RADOS Gateway on loopback (memstore OSD), a bucket per server`] : []),
      `Limits: sha256 (1 core) ${limits.sha256MBps.toFixed(0)} MB/s; fsync'd sequential write ${limits.diskWriteMBps.toFixed(0)} MB/s (O_DIRECT ${limits.diskDirectMBps.toFixed(0)}, through the page cache ${limits.diskBufferedMBps.toFixed(0)}); loopback TCP ${limits.loopbackMBps.toFixed(0)} MB/s`,
      `Medians of ${config.rounds} round(s), ${labels[0]} and ${labels[1]} alternating. MB = 10^6 bytes.`,
      '',
      renderTable(rows, labels[0], labels[1]),
      '',
      legend(labels[0], labels[1]),
    ].join('\n');
    process.stdout.write(`\n${report}\n`);
    if (config.jsonOut) {
      await writeFile(config.jsonOut, JSON.stringify({ machine, labels, config, limits, rows, rounds: samples.raw() }, null, 2));
      log(`bench: raw results written to ${config.jsonOut}`);
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop().catch(() => undefined)));
    await s3?.stop();
    if (config.keepData) log(`bench: data kept in ${root}`);
    else await rm(root, { recursive: true, force: true });
  }
}

async function runWorkloads(config: BenchConfig, servers: RunningServer[], limits: MachineLimits): Promise<Samples> {
  const samples = new Samples();
  const pushLimit = [
    { name: 'sha256', mbps: limits.sha256MBps },
    // With blobs in S3 the bytes go to the gateway over loopback, not to this disk.
    ...(config.storage === 's3' ? [] : [{ name: 'disk', mbps: limits.diskWriteMBps }]),
    { name: 'loopback', mbps: limits.loopbackMBps },
  ].reduce((min, l) => (l.mbps < min.mbps ? l : min));
  const pullLimit = { name: 'loopback', mbps: limits.loopbackMBps };
  const each = async (what: string, fn: (server: RunningServer, side: 0 | 1, round: number) => Promise<string>, writes = false) => {
    for (let round = 1; round <= config.rounds; round++) {
      for (const [side, server] of servers.entries()) {
        if (writes) await settleDisk(config.settleSeconds);
        const summary = await fn(server, side as 0 | 1, round);
        log(`  [${round}/${config.rounds}] ${server.label.padEnd(14)} ${what}: ${summary}`);
      }
    }
  };

  // Large blob push, monolithic then chunked; the pull row reads the last blob pushed.
  const blobSize = sizeLabel(config.blobBytes);
  const via = config.storage === 's3' ? ' via S3' : '';
  const lastBlob: Blob[] = [];
  if (config.only.has('blob')) for (const mode of ['monolithic', 'chunked'] as PushMode[]) {
    const metric = mode === 'monolithic' ? `push ${blobSize} blob${via}, monolithic` : `push ${blobSize} blob${via}, chunked ${sizeLabel(config.chunkBytes)}`;
    await each(metric, async (server, side) => {
      const blob = prepareBlob(config.blobBytes);
      server.rss.beginWindow();
      const { mbps } = await pushBlob(server, blob, mode, config.chunkBytes);
      const growth = server.rss.endWindow();
      lastBlob[side] = blob;
      samples.add(metric, 'MB/s', 'higher', side, mbps, pushLimit);
      samples.add(`${metric}, RSS rise`, 'MiB', 'lower', side, growth);
      return `${mbps.toFixed(0)} MB/s, RSS rose ${growth.toFixed(1)} MiB`;
    }, true);
  }
  if (config.only.has('blob')) await each(`pull ${blobSize} blob${via}`, async (server, side) => {
    const mbps = await pullBlob(server, lastBlob[side]!);
    samples.add(`pull ${blobSize} blob${via}`, 'MB/s', 'higher', side, mbps, pullLimit);
    return `${mbps.toFixed(0)} MB/s`;
  });

  // The same into a KMS-encrypted repository on berth (alias/aws/ecr); Distribution has no KMS and
  // pushes into a plain repository, so the ratio prices berth's KMS encryption against no encryption.
  if (config.only.has('blob')) {
    for (const server of servers) if (server.kind === 'berth') await createKmsRepository(server.origin, server.dataDir, KMS_BLOB_REPO);
    const kmsBlob: Blob[] = [];
    const metric = `push ${blobSize} blob, monolithic, KMS repository`;
    await each(metric, async (server, side) => {
      const blob = prepareBlob(config.blobBytes);
      const { mbps } = await pushBlob(server, blob, 'monolithic', config.chunkBytes, KMS_BLOB_REPO);
      kmsBlob[side] = blob;
      samples.add(metric, 'MB/s', 'higher', side, mbps, pushLimit);
      return `${mbps.toFixed(0)} MB/s`;
    }, true);
    await each(`pull ${blobSize} blob, KMS repository`, async (server, side) => {
      const mbps = await pullBlob(server, kmsBlob[side]!, KMS_BLOB_REPO);
      samples.add(`pull ${blobSize} blob, KMS repository`, 'MB/s', 'higher', side, mbps, pullLimit);
      return `${mbps.toFixed(0)} MB/s`;
    });
  }

  // Manifest GET / HEAD by tag under wrk.
  if (config.only.has('manifest')) for (const server of servers) await prepareManifestImage(server);
  if (config.only.has('manifest')) for (const method of ['GET', 'HEAD'] as const) {
    for (const connections of config.manifestConnections) {
      const metric = `manifest ${method} by tag, ${connections} conn (${loadToolFor(method)})`;
      await each(metric, async (server, side) => {
        const r = await manifestLoad(server, method, connections, config.manifestSeconds);
        samples.add(`${metric}`, 'req/s', 'higher', side, r.rps);
        samples.add(`${metric}, p99`, 'ms', 'lower', side, r.p99Ms);
        return `${r.rps.toFixed(0)} req/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms`;
      });
    }
  }

  // zb-style mixed workload, one row group per layer size.
  if (config.only.has('mixed')) for (const sizeBytes of config.mixedSizesBytes) {
    const metric = `mixed ${100 - config.mixedPushPercent}/${config.mixedPushPercent} pull/push ${sizeLabel(sizeBytes)}, ${config.mixedClients} clients`;
    await each(metric, async (server, side, round) => {
      const r = await mixedWorkload(server, {
        sizeBytes,
        clients: config.mixedClients,
        seconds: config.mixedSeconds,
        pushPercent: config.mixedPushPercent,
        round,
      });
      samples.add(metric, 'req/s', 'higher', side, r.rps);
      samples.add(`${metric}, p50`, 'ms', 'lower', side, r.p50Ms);
      samples.add(`${metric}, p99`, 'ms', 'lower', side, r.p99Ms);
      return `${r.rps.toFixed(1)} req/s (${r.pulls} pulls, ${r.pushes} pushes, ${r.mbps.toFixed(0)} MB/s), p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms`;
    }, true);
  }
  return samples;
}

/**
 * TLS rows: a second pair of servers serving HTTPS with one lab certificate (berth --tls-cert/--tls-key,
 * Distribution's http.tls), each given the large blob untimed, then pulled over HTTP/1.1 and over
 * HTTP/2 (ALPN h2) by a client that trusts the lab CA.
 */
async function runTlsWorkloads(config: BenchConfig, root: string, labels: [string, string], limits: MachineLimits, samples: Samples): Promise<void> {
  const files = await writeSelfSigned(path.join(root, 'tls'), ['127.0.0.1']);
  const tls: BenchTls = { certFile: files.serverCert, keyFile: files.serverKey, ca: await readFile(files.caCert) };
  const servers: RunningServer[] = [];
  try {
    for (const [i, kind] of config.servers.entries()) {
      servers.push(await startServer(kind, { label: labels[i]!, dataDir: path.join(root, `${'ab'[i]}-${kind}-tls`), berthCpuProfileDir: config.berthCpuProfileDir, tls }));
      log(`bench: ${labels[i]} with TLS on ${servers[i]!.origin}`);
    }
    const blobs: Blob[] = [];
    for (const [side, server] of servers.entries()) {
      blobs[side] = prepareBlob(config.blobBytes);
      await pushBlob(server, blobs[side]!, 'monolithic', config.chunkBytes);
    }
    const size = sizeLabel(config.blobBytes);
    const pullLimit = { name: 'loopback', mbps: limits.loopbackMBps };
    for (const [protocol, allowH2] of [['HTTP/1.1', false], ['HTTP/2', true]] as const) {
      const metric = `pull ${size} blob, TLS ${protocol}`;
      for (let round = 1; round <= config.rounds; round++) {
        for (const [side, server] of servers.entries()) {
          const mbps = await pullBlob(server, blobs[side]!, BLOB_REPO, allowH2);
          samples.add(metric, 'MB/s', 'higher', side as 0 | 1, mbps, pullLimit);
          log(`  [${round}/${config.rounds}] ${server.label.padEnd(14)} ${metric}: ${mbps.toFixed(0)} MB/s`);
        }
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop().catch(() => undefined)));
  }
}

/**
 * Scanning rows, berth only (Distribution has no scanner; its cells read n/a): the import rate of
 * an OSV zip, then per round a first scan of a Debian-like image under new layer digests and a
 * rescan of the same layers from the per-layer cache, each timed from the manifest PUT to COMPLETE.
 */
async function runScanWorkloads(config: BenchConfig, root: string, servers: RunningServer[], samples: Samples): Promise<void> {
  const berths = [...servers.entries()].filter(([, s]) => s.kind === 'berth');
  if (berths.length === 0) {
    log('bench: scanning rows skipped: no berth server');
    return;
  }
  log(`bench: building a ${(config.scanImageBytes / 1e6).toFixed(0)} MB image from this machine's files…`);
  const image = await buildScanImage(config.scanImageBytes);
  log(`bench: scan image: ${image.description}`);
  const records = `${config.scanRecords.toLocaleString('en')}`;
  for (let round = 1; round <= config.rounds; round++) {
    const zip = path.join(root, `osv-${round}.zip`);
    buildOsvZip(zip, config.scanRecords, round);
    for (const [side, server] of berths) {
      const r = await importRate(server, zip, config.scanRecords);
      samples.add(`vulndb import, OSV zip of ${records} records`, 'records/s', 'higher', side as 0 | 1, r.recordsPerSecond);
      log(`  [${round}/${config.rounds}] ${server.label.padEnd(14)} vulndb import: ${r.recordsPerSecond.toFixed(0)} records/s (${r.seconds.toFixed(1)} s)`);
    }
  }
  const size = `${(config.scanImageBytes / 1e6).toFixed(0)} MB`;
  const inflate = await inflateLimits(image);
  const inflateLimit = { name: `inflate (${inflate.engine})`, mbps: inflate.mbps };
  log(`bench: inflating the image's layers: berth's gunzip (${inflate.engine}) ${inflate.mbps.toFixed(0)} MB/s, node's zlib.gunzip ${inflate.nodeGunzipMbps.toFixed(0)} MB/s of compressed bytes`);
  for (let round = 1; round <= config.rounds; round++) {
    for (const [side, server] of berths) {
      const r = await scanRound(server, image, round);
      const s = side as 0 | 1;
      samples.add(`scan on push, ${size} image, first scan`, 's', 'lower', s, r.firstSeconds);
      samples.add(`scan on push, ${size} image, first scan, compressed layer read`, 'MB/s', 'higher', s, r.firstMBps, inflateLimit);
      samples.add(`scan on push, ${size} image, first scan, RSS rise`, 'MiB', 'lower', s, r.firstRssRiseMiB);
      samples.add(`scan on push, ${size} image, rescan (layers cached)`, 's', 'lower', s, r.rescanSeconds);
      samples.add(`scan on push, ${size} image, rescan / first scan`, '%', 'lower', s, (100 * r.rescanSeconds) / r.firstSeconds);
      log(
        `  [${round}/${config.rounds}] ${server.label.padEnd(14)} scan: first ${r.firstSeconds.toFixed(2)} s (${r.firstMBps.toFixed(0)} MB/s of ${(r.layerBytes / 1e6).toFixed(0)} MB, RSS rose ${r.firstRssRiseMiB.toFixed(1)} MiB), rescan ${(r.rescanSeconds * 1000).toFixed(0)} ms, ${r.findings} findings`,
      );
    }
  }
  // A large push while the image just pushed is scanned (berth), or only stored (Distribution):
  // read it against the plain monolithic push row.
  const blobSize = sizeLabel(config.blobBytes);
  const metric = `push ${blobSize} blob, monolithic, right after a ${size} image (berth scans it)`;
  for (let round = 1; round <= config.rounds; round++) {
    for (const [side, server] of servers.entries()) {
      await settleDisk(config.settleSeconds);
      const r = await pushDuringScan(server, image, round, config.blobBytes);
      samples.add(metric, 'MB/s', 'higher', side as 0 | 1, r.mbps);
      log(`  [${round}/${config.rounds}] ${server.label.padEnd(14)} push during scan: ${r.mbps.toFixed(0)} MB/s${server.kind === 'berth' ? (r.overlapped ? ', the scan outlasted it' : ', the scan ended first') : ''}`);
    }
  }
}

main().catch((err: unknown) => {
  if (err instanceof ServerUnavailable) log(`bench: FAILED: ${err.message}`);
  else log(`bench: FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
