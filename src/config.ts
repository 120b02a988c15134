import { join, resolve } from 'node:path';
import { DEFAULT_PRICES, type UsagePrices } from './domain/usage/pricing.js';

export interface BerthConfig {
  host: string;
  port: number;
  dataDir: string;
  /** postgres:// URL of the metadata database; unset means SQLite in the data dir. */
  databaseUrl?: string;
  /** The home region: the one `berth admin` manages and /v2 on `--listen` serves (BERTH_REGION). */
  region: string;
  /** Every region this deployment serves, the home region first; each is a registry of its own. */
  regions: RegionSetting[];
  /** Where ECR Public's registry is served on its own, as public.ecr.aws (BERTH_PUBLIC_LISTEN); unset: under /v2/ecr--public/ on every listener. */
  publicListen?: { host: string; port: number };
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
  /** Serve HTTPS (HTTP/2 and HTTP/1.1) with this certificate and key; unset means plain HTTP. */
  tls?: TlsSettings;
  /** Where blobs live: files in the data dir (default) or an S3-compatible bucket. */
  blobStore: BlobStoreConfig;
  /** Bearer token /metrics requires; unset: the one in <data-dir>/metrics-token, created on first start. */
  metricsToken?: string;
  /** /metrics open to anyone, without a token. */
  metricsPublic: boolean;
  /** Audit records older than this many days are deleted. */
  auditRetentionDays: number;
  /** The file holding the master key, the root of trust of encryption at rest (created if missing). */
  masterKeyFile: string;
  /** Usage metering: how often storage is sampled, and the prices of the cost estimate. */
  usage: UsageConfig;
}

export interface RegionSetting {
  name: string;
  /** Where /v2 serves this region's repositories; unset for the home region (it has `--listen`). */
  listen?: { host: string; port: number };
}

export interface UsageConfig {
  /** Seconds between storage samples (0: storage is sampled only by `berth admin usage`). */
  sampleIntervalSeconds: number;
  /** Hourly usage rows older than this many days are deleted (by the sampling job). */
  retentionDays: number;
  prices: UsagePrices;
}

export interface TlsSettings {
  /** PEM certificate chain, server certificate first; re-read when it changes. */
  certFile: string;
  /** PEM private key of that certificate; re-read when it changes. */
  keyFile: string;
}

export type BlobStoreConfig = { kind: 'filesystem' } | S3BlobStoreConfig;

export interface S3BlobStoreConfig {
  kind: 's3';
  bucket: string;
  /** Key prefix without leading or trailing slash; '' for the bucket's root. */
  prefix: string;
  /** An S3-compatible service's endpoint; unset means AWS S3. */
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  /** Static credentials; unset means the standard AWS credential chain. */
  accessKeyId?: string;
  secretAccessKey?: string;
  /**
   * Whether blob downloads (/v2 blob GETs, GetDownloadUrlForLayer) answer with a pre-signed URL of
   * the object, so bytes bypass berth. Only with `serverSideEncryption`: blobs are then stored as
   * their plaintext under the object store's encryption, which such a URL decrypts.
   */
  redirect: boolean;
  /** The object store's own encryption of every object berth writes (BERTH_S3_SSE). */
  serverSideEncryption?: S3ServerSideEncryption;
}

/** S3's server-side encryption: SSE-S3 (`AES256`) or SSE-KMS (`aws:kms`, with the store's KMS key). */
export interface S3ServerSideEncryption {
  type: 'AES256' | 'aws:kms';
  /** The object store's KMS key for `aws:kms`; unset means its default key. */
  kmsKeyId?: string;
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

/** A decimal amount of at least 0 (a price, a number of GB-months). */
function amount(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v.trim()) || !Number.isFinite(n)) throw new Error(`${name} must be a decimal number of at least 0 (e.g. 0.10), got ${JSON.stringify(v)}`);
  return n;
}

function positive(name: string, v: string | undefined, fallback: number): number {
  return int(name, v, fallback, 1);
}

export function parseListen(listen: string, setting = '--listen'): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(listen);
  if (!m) throw new Error(`${setting} must be HOST:PORT, got ${listen}`);
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

/** The address clients reach berth at (behind a proxy), as an http(s) URL; unset when empty. */
function publicUrl(v: string | undefined): string | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  let url: URL | undefined;
  try {
    url = new URL(v);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new Error(`BERTH_PUBLIC_URL must be an http:// or https:// URL, got ${JSON.stringify(v)}`);
  return v.replace(/\/+$/, '');
}

function tls(certFile: string | undefined, keyFile: string | undefined): TlsSettings | undefined {
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) throw new Error('TLS needs both a certificate and a key: --tls-cert / BERTH_TLS_CERT and --tls-key / BERTH_TLS_KEY');
  return { certFile: resolve(certFile), keyFile: resolve(keyFile) };
}

/** A true/false setting that is spelled out; anything else stops berth naming the setting. */
function flag(name: string, v: string | undefined, fallback: boolean): boolean {
  if (v === undefined || v === '') return fallback;
  const lower = v.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(lower)) return true;
  if (['0', 'false', 'no', 'off'].includes(lower)) return false;
  throw new Error(`${name} must be true or false, got ${JSON.stringify(v)}`);
}

const BLOB_STORE_SETTING = '--blob-store / BERTH_BLOB_STORE';
const S3_SETTINGS = ['BERTH_S3_ENDPOINT', 'BERTH_S3_REGION', 'BERTH_S3_FORCE_PATH_STYLE', 'BERTH_S3_ACCESS_KEY_ID', 'BERTH_S3_SECRET_ACCESS_KEY', 'BERTH_S3_REDIRECT', 'BERTH_S3_SSE', 'BERTH_S3_SSE_KMS_KEY_ID'];

/** `s3://bucket/prefix` (plus the BERTH_S3_* settings), or unset for files in the data dir. */
export function blobStoreConfig(url: string | undefined, env: NodeJS.ProcessEnv): BlobStoreConfig {
  if (url === undefined || url === '') {
    const stray = S3_SETTINGS.find((name) => env[name]);
    if (stray) throw new Error(`${stray} is set, but blobs are kept in the data dir: set ${BLOB_STORE_SETTING} to s3://BUCKET/PREFIX to use S3`);
    return { kind: 'filesystem' };
  }
  const m = /^s3:\/\/([^/?#@]+)(\/[^?#]*)?$/.exec(url);
  if (!m) throw new Error(`${BLOB_STORE_SETTING} must be s3://BUCKET or s3://BUCKET/PREFIX, got ${JSON.stringify(url)}`);
  const bucket = m[1]!;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || bucket.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(bucket)) {
    throw new Error(`${BLOB_STORE_SETTING}: ${JSON.stringify(bucket)} is not a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)`);
  }
  const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix !== '' && prefix.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new Error(`${BLOB_STORE_SETTING}: the prefix ${JSON.stringify(prefix)} has an empty, "." or ".." segment`);
  }
  const endpoint = env.BERTH_S3_ENDPOINT || undefined;
  if (endpoint !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(endpoint);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.search || parsed.hash || parsed.username) {
      throw new Error(`BERTH_S3_ENDPOINT must be an http:// or https:// URL, got ${JSON.stringify(endpoint)}`);
    }
  }
  const region = env.BERTH_S3_REGION || env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
  if (!/^[a-z0-9-]{1,64}$/.test(region)) throw new Error(`BERTH_S3_REGION must be a region name such as us-east-1, got ${JSON.stringify(region)}`);
  const accessKeyId = env.BERTH_S3_ACCESS_KEY_ID || undefined;
  const secretAccessKey = env.BERTH_S3_SECRET_ACCESS_KEY || undefined;
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new Error('BERTH_S3_ACCESS_KEY_ID and BERTH_S3_SECRET_ACCESS_KEY go together: set both, or neither to use the standard AWS credential chain');
  }
  return {
    kind: 's3',
    bucket,
    prefix,
    endpoint,
    region,
    forcePathStyle: flag('BERTH_S3_FORCE_PATH_STYLE', env.BERTH_S3_FORCE_PATH_STYLE, false),
    accessKeyId,
    secretAccessKey,
    ...redirectSettings(env),
  };
}

/**
 * Redirected downloads need the object store to encrypt at rest: berth's own encryption would make a
 * pre-signed URL serve ciphertext, so with BERTH_S3_REDIRECT=true blobs are stored as plaintext under
 * the store's encryption (BERTH_S3_SSE). Redirecting without it would leave blobs unencrypted at
 * rest, and stops berth instead.
 */
function redirectSettings(env: NodeJS.ProcessEnv): Pick<S3BlobStoreConfig, 'redirect' | 'serverSideEncryption'> {
  const redirect = flag('BERTH_S3_REDIRECT', env.BERTH_S3_REDIRECT, false);
  const type = env.BERTH_S3_SSE || undefined;
  if (type !== undefined && type !== 'AES256' && type !== 'aws:kms') throw new Error(`BERTH_S3_SSE must be AES256 or aws:kms, got ${JSON.stringify(type)}`);
  const kmsKeyId = env.BERTH_S3_SSE_KMS_KEY_ID || undefined;
  if (kmsKeyId !== undefined && type !== 'aws:kms') throw new Error('BERTH_S3_SSE_KMS_KEY_ID names the key of BERTH_S3_SSE=aws:kms: set BERTH_S3_SSE=aws:kms too');
  if (redirect && type === undefined) {
    throw new Error(
      'BERTH_S3_REDIRECT=true needs BERTH_S3_SSE (AES256 or aws:kms): berth encrypts blobs itself, so an object-store URL would serve ciphertext, unless the object store encrypts them at rest instead',
    );
  }
  return { redirect, ...(type === undefined ? {} : { serverSideEncryption: { type, ...(kmsKeyId ? { kmsKeyId } : {}) } }) };
}

const REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

function regionName(setting: string, v: string): string {
  if (!REGION_NAME.test(v)) throw new Error(`${setting}: ${JSON.stringify(v)} is not a region name such as us-east-1`);
  return v;
}

/**
 * BERTH_REGIONS lists the regions served (default: BERTH_REGION alone); BERTH_REGION names the home
 * region (default: the first listed). Every other region needs its own /v2 listen address in
 * BERTH_REGION_LISTEN (`eu-west-1=127.0.0.1:5001,...`): a client reaches a registry by address.
 */
export function regionSettings(env: NodeJS.ProcessEnv): { home: string; regions: RegionSetting[] } {
  const listed = (env.BERTH_REGIONS ?? '').split(',').map((r) => r.trim()).filter((r) => r !== '').map((r) => regionName('BERTH_REGIONS', r));
  const home = regionName('BERTH_REGION', env.BERTH_REGION || listed[0] || 'us-east-1');
  if (listed.length > 0 && !listed.includes(home)) throw new Error(`BERTH_REGION ${home} is not among BERTH_REGIONS (${listed.join(',')})`);
  if (new Set(listed).size !== listed.length) throw new Error(`BERTH_REGIONS names a region twice: ${listed.join(',')}`);
  const listens = new Map<string, { host: string; port: number }>();
  for (const entry of (env.BERTH_REGION_LISTEN ?? '').split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    const eq = entry.indexOf('=');
    if (eq < 0) throw new Error(`BERTH_REGION_LISTEN entries are REGION=HOST:PORT, got ${JSON.stringify(entry)}`);
    const name = regionName('BERTH_REGION_LISTEN', entry.slice(0, eq));
    if (name === home) throw new Error(`BERTH_REGION_LISTEN: ${name} is the home region, served on --listen / BERTH_LISTEN`);
    if (!listed.includes(name)) throw new Error(`BERTH_REGION_LISTEN: ${name} is not among BERTH_REGIONS`);
    listens.set(name, parseListen(entry.slice(eq + 1), `BERTH_REGION_LISTEN (${name})`));
  }
  const regions: RegionSetting[] = [{ name: home }];
  for (const name of listed.filter((r) => r !== home)) {
    const listen = listens.get(name);
    if (!listen) throw new Error(`region ${name} needs a listen address for its registry: BERTH_REGION_LISTEN=${name}=HOST:PORT`);
    regions.push({ name, listen });
  }
  return { home, regions };
}

/** One typed config: embedded defaults, overridden by environment, overridden by flags. */
export function loadConfig(
  flags: { listen?: string; dataDir?: string; databaseUrl?: string; tlsCert?: string; tlsKey?: string; blobStore?: string } = {},
  env: NodeJS.ProcessEnv = process.env,
): BerthConfig {
  const { host, port } = parseListen(flags.listen ?? env.BERTH_LISTEN ?? '127.0.0.1:5000');
  const dataDir = resolve(flags.dataDir ?? env.BERTH_DATA_DIR ?? './berth-data');
  const { home, regions } = regionSettings(env);
  return {
    host,
    port,
    dataDir,
    databaseUrl: databaseUrl(flags.databaseUrl ?? env.BERTH_DATABASE_URL),
    region: home,
    regions,
    publicListen: env.BERTH_PUBLIC_LISTEN ? parseListen(env.BERTH_PUBLIC_LISTEN, 'BERTH_PUBLIC_LISTEN') : undefined,
    createOnPush: bool(env.BERTH_CREATE_ON_PUSH, false),
    logLevel: env.BERTH_LOG_LEVEL ?? 'info',
    publicUrl: publicUrl(env.BERTH_PUBLIC_URL),
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
    tls: tls(flags.tlsCert ?? env.BERTH_TLS_CERT, flags.tlsKey ?? env.BERTH_TLS_KEY),
    blobStore: blobStoreConfig(flags.blobStore ?? env.BERTH_BLOB_STORE, env),
    metricsToken: env.BERTH_METRICS_TOKEN || undefined,
    metricsPublic: bool(env.BERTH_METRICS_PUBLIC, false),
    auditRetentionDays: positive('BERTH_AUDIT_RETENTION_DAYS', env.BERTH_AUDIT_RETENTION_DAYS, 90),
    masterKeyFile: resolve(env.BERTH_MASTER_KEY_FILE || join(dataDir, 'master.key')),
    usage: {
      sampleIntervalSeconds: int('BERTH_USAGE_SAMPLE_INTERVAL', env.BERTH_USAGE_SAMPLE_INTERVAL, 300),
      retentionDays: positive('BERTH_USAGE_RETENTION_DAYS', env.BERTH_USAGE_RETENTION_DAYS, 400),
      prices: {
        storageGbMonthUsd: amount('BERTH_PRICE_STORAGE_GB_MONTH', env.BERTH_PRICE_STORAGE_GB_MONTH, DEFAULT_PRICES.storageGbMonthUsd),
        archiveStorageGbMonthUsd: amount('BERTH_PRICE_ARCHIVE_STORAGE_GB_MONTH', env.BERTH_PRICE_ARCHIVE_STORAGE_GB_MONTH, DEFAULT_PRICES.archiveStorageGbMonthUsd),
        transferOutGbUsd: amount('BERTH_PRICE_TRANSFER_OUT_GB', env.BERTH_PRICE_TRANSFER_OUT_GB, DEFAULT_PRICES.transferOutGbUsd),
        freeStorageGbMonth: amount('BERTH_FREE_STORAGE_GB_MONTH', env.BERTH_FREE_STORAGE_GB_MONTH, DEFAULT_PRICES.freeStorageGbMonth),
        publicFreeStorageGbMonth: amount('BERTH_PUBLIC_FREE_STORAGE_GB_MONTH', env.BERTH_PUBLIC_FREE_STORAGE_GB_MONTH, DEFAULT_PRICES.publicFreeStorageGbMonth),
      },
    },
  };
}
