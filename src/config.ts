import { join, resolve } from 'node:path';

export interface BerthConfig {
  host: string;
  port: number;
  dataDir: string;
  /** postgres:// URL of the metadata database; unset means SQLite in the data dir. */
  databaseUrl?: string;
  /** AWS region the embedded registry reports and expects in signatures. */
  region: string;
  /** Whether pushes create missing repositories (ECR: off). */
  createOnPush: boolean;
  logLevel: string;
  /** Base URL clients use to reach this server, when it differs from the listen address. */
  publicUrl?: string;
  /** Lifecycle policy evaluation interval in seconds (0 disables the scheduler). */
  lifecycleIntervalSeconds: number;
  /** Garbage collection interval in seconds (0 disables it). */
  gcIntervalSeconds: number;
  /** How long an unreferenced blob or an idle upload survives before collection, in seconds. */
  gcGraceSeconds: number;
  /** Connection limits and timeouts (see the README's limits table). */
  limits: ConnectionLimits;
  /** The largest blob (layer) berth accepts, in bytes. */
  maxBlobBytes: number;
  /** Below this many free bytes in the blob store, /readyz reports the node not ready. */
  minFreeBytes: number;
  /** The file holding the master key, the root of trust of encryption at rest (created if missing). */
  masterKeyFile: string;
}

export interface ConnectionLimits {
  /** Time allowed for a request's header block to arrive, seconds. */
  headersTimeoutSeconds: number;
  /** How long a keep-alive connection may wait for its next request, seconds. */
  idleTimeoutSeconds: number;
  /** How long a connection may make no progress at all (no byte in or out), seconds. */
  inactivityTimeoutSeconds: number;
  /** Connections one client address may hold open at once. */
  maxConnectionsPerClient: number;
}

/** ECR's quota for one layer: 52,000 MiB. */
const ECR_MAX_LAYER_BYTES = 52_000 * 1024 * 1024;

function bool(v: string | undefined, fallback: boolean): boolean {
  if (v === undefined || v === '') return fallback;
  return ['1', 'true', 'yes', 'on'].includes(v.toLowerCase());
}

/** A whole number from the environment; a value berth cannot honour stops it with a clear message. */
function int(name: string, v: string | undefined, fallback: number, min = 0): number {
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`${name} must be a whole number of at least ${min}, got ${JSON.stringify(v)}`);
  return n;
}

function positive(name: string, v: string | undefined, fallback: number): number {
  return int(name, v, fallback, 1);
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(listen);
  if (!m) throw new Error(`--listen must be HOST:PORT, got ${listen}`);
  const host = m[1]!.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const port = Number(m[2]);
  if (port > 65535) throw new Error(`invalid port in ${listen}`);
  return { host, port };
}

function databaseUrl(v: string | undefined): string | undefined {
  if (v === undefined || v === '') return undefined;
  if (!/^postgres(ql)?:\/\//.test(v)) throw new Error('--database-url / BERTH_DATABASE_URL must be a postgres:// or postgresql:// URL');
  return v;
}

/** One typed config: embedded defaults, overridden by environment, overridden by flags. */
export function loadConfig(
  flags: { listen?: string; dataDir?: string; databaseUrl?: string } = {},
  env: NodeJS.ProcessEnv = process.env,
): BerthConfig {
  const { host, port } = parseListen(flags.listen ?? env.BERTH_LISTEN ?? '127.0.0.1:5000');
  const dataDir = resolve(flags.dataDir ?? env.BERTH_DATA_DIR ?? './berth-data');
  return {
    host,
    port,
    dataDir,
    databaseUrl: databaseUrl(flags.databaseUrl ?? env.BERTH_DATABASE_URL),
    region: env.BERTH_REGION ?? 'us-east-1',
    createOnPush: bool(env.BERTH_CREATE_ON_PUSH, false),
    logLevel: env.BERTH_LOG_LEVEL ?? 'info',
    publicUrl: env.BERTH_PUBLIC_URL,
    lifecycleIntervalSeconds: int('BERTH_LIFECYCLE_INTERVAL', env.BERTH_LIFECYCLE_INTERVAL, 3600),
    gcIntervalSeconds: int('BERTH_GC_INTERVAL', env.BERTH_GC_INTERVAL, 3600),
    gcGraceSeconds: int('BERTH_GC_GRACE', env.BERTH_GC_GRACE, 3600),
    limits: {
      headersTimeoutSeconds: positive('BERTH_HEADERS_TIMEOUT', env.BERTH_HEADERS_TIMEOUT, 20),
      idleTimeoutSeconds: positive('BERTH_IDLE_TIMEOUT', env.BERTH_IDLE_TIMEOUT, 65),
      inactivityTimeoutSeconds: positive('BERTH_INACTIVITY_TIMEOUT', env.BERTH_INACTIVITY_TIMEOUT, 30),
      maxConnectionsPerClient: positive('BERTH_MAX_CONNECTIONS_PER_CLIENT', env.BERTH_MAX_CONNECTIONS_PER_CLIENT, 1024),
    },
    maxBlobBytes: positive('BERTH_MAX_BLOB_BYTES', env.BERTH_MAX_BLOB_BYTES, ECR_MAX_LAYER_BYTES),
    minFreeBytes: positive('BERTH_MIN_FREE_BYTES', env.BERTH_MIN_FREE_BYTES, 512 * 1024 * 1024),
    masterKeyFile: resolve(env.BERTH_MASTER_KEY_FILE || join(dataDir, 'master.key')),
  };
}
