import { join } from 'node:path';
import type { Logger } from 'pino';
import type { BerthConfig, BlobStoreConfig } from './config.js';
import type { ResourcePolicySource } from './iam/authorizer.js';
import { EventLog } from './domain/events/event-log.js';
import { EventBridge } from './domain/eventbridge/eventbridge.js';
import { collectGarbage, type GcOptions, type GcReport } from './domain/gc/collect.js';
import { IdentityDirectory } from './iam/identity/directory.js';
import { RolePermissions } from './iam/service-roles.js';
import { JobQueue } from './domain/jobs/queue.js';
import { Kms, keyArn } from './domain/kms/kms.js';
import { assertMasterKeyMatches, MasterKey } from './domain/kms/master-key.js';
import { BlobEncryption } from './domain/encryption/blob-encryption.js';
import { manifestCipher } from './domain/encryption/manifest-cipher.js';
import { LifecyclePolicies } from './domain/lifecycle/policies.js';
import { Registry } from './domain/registry/registry.js';
import { Scanning } from './domain/scanning/scanning.js';
import type { BlobStore } from './store/blob/blob-store.js';
import { FsBlobStore } from './store/blob/fs-blob-store.js';
import { prepareDataDir } from './store/data-dir.js';
import { SpaceReserve } from './store/space-reserve.js';
import { AuditStore } from './store/meta/audit-store.js';
import { openAuditFile } from './store/meta/audit-file.js';
import { MetadataStore } from './store/meta/metadata-store.js';
import { migrate } from './store/meta/migrations.js';
import type { SqlDb } from './store/meta/sql.js';
import { SqliteDb } from './store/meta/sqlite.js';
import { setClaimNode } from './domain/registry/claims.js';
import { readOrCreateNodeId } from './store/node-id.js';

export interface Stores {
  meta: MetadataStore;
  blobs: BlobStore;
  /** Present when the metadata database shares the data dir's disk. */
  spaceReserve?: SpaceReserve;
  /** The root of trust of encryption at rest (`BERTH_MASTER_KEY_FILE`). */
  master: MasterKey;
  /** The audit trail's rows: in the metadata database on PostgreSQL, else in `audit.db` (see audit-file.ts). */
  audit: AuditStore;
  /** `audit.db`, when the trail has a file of its own that a writer thread can open. */
  auditFile?: string;
  close(): Promise<void>;
}

/** The domain and its stores, as `berth serve` and `berth admin` both use them. */
export interface Domain {
  stores: Stores;
  registry: Registry;
  lifecycle: LifecyclePolicies;
  jobs: JobQueue;
  events: EventLog;
  /** Rules, targets, connections and API destinations on each account's default event bus. */
  eventbridge: EventBridge;
  /** Image scanning: vulnerability database, scans, findings. */
  scanning: Scanning;
  /** Accounts, users, keys, groups and policies. */
  identities: IdentityDirectory;
  /** KMS keys and aliases; the keys of KMS-encrypted repositories. */
  kms: Kms;
  /** Encryption at rest of blobs, uploads and manifests. */
  encryption: BlobEncryption;
  /** One mark-and-sweep pass over metadata and blobs. */
  collectGarbage(opts: GcOptions): Promise<GcReport>;
  close(): Promise<void>;
}

/**
 * Where a region keeps its metadata and blobs. The home region keeps them where a one-region
 * deployment does: the data dir, PostgreSQL's default schema, the blob store's prefix. Another
 * region is a registry of its own beside it: `regions/<name>` under the data dir and the blob
 * prefix, and the PostgreSQL schema `region_<name>`.
 */
export interface RegionPlace {
  region: string;
  dir: string;
  schema?: string;
  blobStore: BlobStoreConfig;
}

export function regionPlace(config: BerthConfig, region: string = config.region): RegionPlace {
  if (region === config.region) return { region, dir: config.dataDir, blobStore: config.blobStore };
  const blobStore = config.blobStore.kind === 's3' ? { ...config.blobStore, prefix: [config.blobStore.prefix, 'regions', region].filter(Boolean).join('/') } : config.blobStore;
  return { region, dir: join(config.dataDir, 'regions', region), schema: `region_${region.replaceAll('-', '_')}`, blobStore };
}

/** Blobs in S3 or under the data dir; metadata in PostgreSQL when configured, else SQLite in the data dir. */
export async function openStores(config: BerthConfig, place: RegionPlace = regionPlace(config)): Promise<Stores> {
  await prepareDataDir(place.dir);
  // SQLite shares the data dir's disk with the blobs: keep it room to record deletions when that disk fills.
  const spaceReserve = config.databaseUrl ? undefined : new SpaceReserve(join(place.dir, 'space-reserve'));
  await spaceReserve?.ensure();
  const db = config.databaseUrl ? await openPostgres(config.databaseUrl, place.schema) : new SqliteDb(join(place.dir, 'metadata.db'), spaceReserve);
  let master: MasterKey;
  let audit: { db?: SqliteDb; store: AuditStore };
  const auditFile = config.databaseUrl ? undefined : join(place.dir, 'audit.db');
  try {
    await migrate(db);
    master = await MasterKey.load(config.masterKeyFile);
    await assertMasterKeyMatches(new MetadataStore(db), master, config.masterKeyFile);
    audit = auditFile ? await openAuditFile(auditFile, join(place.dir, 'metadata.db')) : { store: new AuditStore(db) };
  } catch (e) {
    await db.close();
    throw e;
  }
  let blobs: OpenedBlobStore;
  try {
    blobs = await openBlobStore(place.blobStore, place.dir);
  } catch (e) {
    await audit.db?.close();
    await db.close();
    throw e;
  }
  return {
    meta: new MetadataStore(db, manifestCipher(master)),
    blobs: blobs.store,
    spaceReserve,
    master,
    audit: audit.store,
    auditFile,
    async close() {
      blobs.close();
      await audit.db?.close();
      await db.close();
    },
  };
}

interface OpenedBlobStore {
  store: BlobStore;
  close(): void;
}

async function openBlobStore(config: BlobStoreConfig, dataDir: string): Promise<OpenedBlobStore> {
  if (config.kind === 'filesystem') {
    const store = new FsBlobStore(dataDir);
    await store.init();
    return { store, close: () => undefined };
  }
  // Loaded only when configured, like the PostgreSQL client.
  const [{ S3BlobStore }, { createS3Client }] = await Promise.all([import('./store/blob/s3-blob-store.js'), import('./store/blob/s3-client.js')]);
  const store = new S3BlobStore(createS3Client(config), { bucket: config.bucket, prefix: config.prefix, serverSideEncryption: config.serverSideEncryption });
  try {
    await store.init();
  } catch (e) {
    store.close();
    throw new Error(`the blob store s3://${config.bucket}/${config.prefix} cannot be opened: ${describe(e)}`);
  }
  return { store, close: () => store.close() };
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  return e.message && e.message !== e.name && e.message !== 'UnknownError' ? `${e.name}: ${e.message}` : e.name;
}

/** Loaded only when configured: the PostgreSQL client costs a few MiB of memory in every process. */
async function openPostgres(url: string, schema?: string): Promise<SqlDb> {
  const { PostgresDb } = await import('./store/meta/postgres.js');
  const db = new PostgresDb(url, { schema });
  // In a transaction: nodes starting together create it one at a time.
  if (schema !== undefined) await db.transaction((tx) => tx.run(`CREATE SCHEMA IF NOT EXISTS ${schema}`)).catch(async (e) => {
    await db.close();
    throw e;
  });
  return db;
}

/**
 * The domain of one region (the home region unless `region` names another). IAM is global, as on
 * AWS: another region's domain shares the home region's identity directory (`identities`).
 */
export async function openDomain(config: BerthConfig, log?: Logger, other?: { region: string; identities: IdentityDirectory }): Promise<Domain> {
  const stores = await openStores(config, regionPlace(config, other?.region));
  if (other) config = { ...config, region: other.region };
  setClaimNode(await readOrCreateNodeId(config.dataDir));
  const kms = new Kms(() => stores.meta.kms, stores.master);
  // Redirected downloads rely on the object store's encryption at rest (the configuration requires it).
  const storeEncrypts = config.blobStore.kind === 's3' && config.blobStore.redirect;
  const encryption = new BlobEncryption(stores.meta, stores.blobs, stores.master, kms, config.region, storeEncrypts);
  const identities = other?.identities ?? new IdentityDirectory(stores.meta.identities);
  const serviceRoles = new RolePermissions(identities, async (arn) => (await kmsKeyPolicy(kms, arn))?.policyText);
  const jobs = new JobQueue(stores.meta.jobs);
  const registry = new Registry(stores.meta, stores.blobs, {
    createOnPush: config.createOnPush,
    maxBlobBytes: config.maxBlobBytes,
    spaceReserve: stores.spaceReserve,
    redirectBlobDownloads: config.blobStore.kind === 's3' && config.blobStore.redirect,
    log,
    encryption,
    region: config.region,
    // With a shared database, the next chunk of an upload may reach another node.
    uploadHashes: config.databaseUrl ? 'saved' : 'process',
    serviceRoles,
    wakeWorkers: () => jobs.poke(),
  });
  const lifecycle = new LifecyclePolicies(registry, stores.meta.lifecycle);
  return {
    stores,
    registry,
    lifecycle,
    jobs,
    scanning: new Scanning(stores.meta, registry, jobs, log),
    events: new EventLog(stores.meta.events),
    eventbridge: new EventBridge(stores.meta, config.region, serviceRoles),
    identities,
    kms,
    encryption,
    collectGarbage: (opts) => collectGarbage(stores.meta, stores.blobs, opts),
    async close() {
      await registry.close();
      await stores.close();
    },
  };
}

/** The domain of every region served, the home region first (its identity directory shared by the others). */
export async function openRegionDomains(config: BerthConfig, log?: Logger): Promise<Map<string, Domain>> {
  const domains = new Map<string, Domain>();
  try {
    const home = await openDomain(config, log);
    domains.set(config.region, home);
    for (const { name } of config.regions.slice(1)) domains.set(name, await openDomain(config, log, { region: name, identities: home.identities }));
    return domains;
  } catch (e) {
    await Promise.all([...domains.values()].map((d) => d.close().catch(() => undefined)));
    throw e;
  }
}

/** Repository, registry and KMS key policies, and EventBridge tags, as the authorizer reads them, from the domain. */
export function resourcePolicies(registry: Registry, kms?: Kms, eventbridge?: EventBridge): ResourcePolicySource {
  return {
    async repository(registryId, name) {
      const repo = await registry.repositories.find({ registryId, name });
      return repo && { policyText: repo.settings.policyText, public: repo.settings.public, tags: repo.settings.tags };
    },
    registryPolicy: (accountId) => registry.accounts.registryPolicy(accountId),
    kmsKey: (arn) => kmsKeyPolicy(kms, arn),
    async eventBridgeTags(arn) {
      const tags = await eventbridge?.resourceTags(arn);
      return tags?.map((t) => ({ Key: t.key, Value: t.value }));
    },
  };
}

/** A KMS key's policy and tags by key ARN; undefined when there is no such key. */
async function kmsKeyPolicy(kms: Kms | undefined, arn: string): Promise<{ policyText: string; tags: Array<{ Key: string; Value: string }> } | undefined> {
  const m = /^arn:[^:]+:kms:([^:]+):(\d{12}):key\/(.+)$/.exec(arn);
  if (!kms || !m) return undefined;
  const key = await kms.resolve({ region: m[1]!, accountId: m[2]! }, m[3]!, { aliases: false }).catch(() => undefined);
  return key && keyArn(key) === arn ? { policyText: key.policy, tags: key.tags.map((t) => ({ Key: t.TagKey, Value: t.TagValue })) } : undefined;
}
