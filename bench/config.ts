// Benchmark configuration, read once from BENCH_* environment variables.
import os from 'node:os';

export type ServerKind = 'berth' | 'distribution';

export interface BenchConfig {
  smoke: boolean;
  rounds: number;
  /** Servers compared, A then B. `distribution,distribution` validates the harness alone. */
  servers: [ServerKind, ServerKind];
  blobBytes: number;
  chunkBytes: number;
  manifestSeconds: number;
  manifestConnections: number[];
  mixedSizesBytes: number[];
  mixedClients: number;
  mixedSeconds: number;
  mixedPushPercent: number;
  /** Pause after `sync` before each run that writes, so the disk's burst budget recovers. */
  settleSeconds: number;
  /** Parent directory for server data dirs and the disk-limit probe. */
  workDir: string;
  keepData: boolean;
  /** Write the raw results as JSON here, if set. */
  jsonOut: string | undefined;
  /** Row groups to run (BENCH_ONLY=blob,manifest,mixed,tls,scan); all by default. */
  only: Set<'blob' | 'manifest' | 'mixed' | 'tls' | 'scan'>;
  /** Compressed size of the image the scanning rows scan. */
  scanImageBytes: number;
  /** Records in the OSV zip whose import is timed. */
  scanRecords: number;
  /** Start berth with `node --cpu-prof --cpu-prof-dir=<dir>` when set. */
  berthCpuProfileDir: string | undefined;
  /** Where both servers keep blobs: their data dirs, or S3 (one Ceph RADOS Gateway both use). */
  storage: 'filesystem' | 's3';
}

const MB = 1024 * 1024;

function num(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return value;
}

function zeroOrMore(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number of at least 0, got ${JSON.stringify(raw)}`);
  return value;
}

function numList(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const values = raw.split(',').map((part) => Number(part.trim()));
  if (values.some((v) => !Number.isFinite(v) || v <= 0)) throw new Error(`${name} must be a comma-separated list of positive numbers`);
  return values;
}

function servers(): [ServerKind, ServerKind] {
  const raw = process.env.BENCH_SERVERS ?? 'berth,distribution';
  const parts = raw.split(',').map((s) => s.trim());
  const valid = (s: string): s is ServerKind => s === 'berth' || s === 'distribution';
  if (parts.length !== 2 || !parts.every(valid)) {
    throw new Error(`BENCH_SERVERS must be two of berth|distribution, e.g. "berth,distribution"; got ${JSON.stringify(raw)}`);
  }
  return [parts[0] as ServerKind, parts[1] as ServerKind];
}

function rowGroups(): Set<'blob' | 'manifest' | 'mixed' | 'tls' | 'scan'> {
  const all = ['blob', 'manifest', 'mixed', 'tls', 'scan'] as const;
  const raw = process.env.BENCH_ONLY;
  if (!raw) return new Set(all);
  const picked = raw.split(',').map((s) => s.trim());
  for (const p of picked) if (!(all as readonly string[]).includes(p)) throw new Error(`BENCH_ONLY takes ${all.join(',')}; got ${JSON.stringify(p)}`);
  return new Set(picked as (typeof all)[number][]);
}

function storage(): 'filesystem' | 's3' {
  const raw = process.env.BENCH_STORAGE || 'filesystem';
  if (raw !== 'filesystem' && raw !== 's3') throw new Error(`BENCH_STORAGE must be filesystem or s3, got ${JSON.stringify(raw)}`);
  return raw;
}

export function loadConfig(): BenchConfig {
  const smoke = process.env.BENCH_SMOKE === '1' || process.env.BENCH_SMOKE === 'true';
  // The gateway keeps objects in memory (and frees deleted ones only hours later): smaller blobs.
  const s3 = storage() === 's3';
  return {
    smoke,
    rounds: Math.floor(num('BENCH_ROUNDS', smoke ? 1 : 3)),
    servers: servers(),
    blobBytes: Math.round(num('BENCH_BLOB_MB', smoke ? 16 : s3 ? 128 : 1024) * MB),
    chunkBytes: Math.round(num('BENCH_CHUNK_MB', smoke ? 4 : 16) * MB),
    manifestSeconds: Math.max(1, Math.round(num('BENCH_MANIFEST_SECONDS', smoke ? 1 : 5))),
    manifestConnections: numList('BENCH_MANIFEST_CONNECTIONS', smoke ? [1, 16] : [1, 16, 64]).map(Math.floor),
    mixedSizesBytes: numList('BENCH_MIXED_SIZES_MB', smoke ? [0.25, 1, 4] : [1, 10, 100]).map((mb) => Math.round(mb * MB)),
    mixedClients: Math.floor(num('BENCH_MIXED_CLIENTS', smoke ? 4 : 10)),
    mixedSeconds: num('BENCH_MIXED_SECONDS', smoke ? 0.5 : 10),
    mixedPushPercent: num('BENCH_MIXED_PUSH_PERCENT', 25),
    settleSeconds: zeroOrMore('BENCH_SETTLE_SECONDS', smoke ? 0 : 5),
    workDir: process.env.BENCH_DIR || os.tmpdir(),
    keepData: process.env.BENCH_KEEP_DATA === '1',
    jsonOut: process.env.BENCH_JSON || undefined,
    berthCpuProfileDir: process.env.BENCH_BERTH_CPU_PROF || undefined,
    only: rowGroups(),
    scanImageBytes: Math.round(num('BENCH_SCAN_IMAGE_MB', smoke ? 4 : 150) * 1e6),
    scanRecords: Math.floor(num('BENCH_SCAN_RECORDS', smoke ? 2000 : 50_000)),
    storage: storage(),
  };
}

export const MiB = MB;
