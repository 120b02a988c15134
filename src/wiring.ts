import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { BerthConfig } from './config.js';
import type { ResourcePolicySource } from './iam/authorizer.js';
import { EventLog } from './domain/events/event-log.js';
import { collectGarbage, type GcOptions, type GcReport } from './domain/gc/collect.js';
import { IdentityDirectory } from './iam/identity/directory.js';
import { JobQueue } from './domain/jobs/queue.js';
import { Kms, keyArn } from './domain/kms/kms.js';
import { assertMasterKeyMatches, MasterKey } from './domain/kms/master-key.js';
import { BlobEncryption } from './domain/encryption/blob-encryption.js';
import { manifestCipher } from './domain/encryption/manifest-cipher.js';
import { LifecyclePolicies } from './domain/lifecycle/policies.js';
import { Registry } from './domain/registry/registry.js';
import { FsBlobStore } from './store/blob/fs-blob-store.js';
import { MetadataStore } from './store/meta/metadata-store.js';
import { migrate } from './store/meta/migrations.js';
import type { SqlDb } from './store/meta/sql.js';
import { SqliteDb } from './store/meta/sqlite.js';

export interface Stores {
  meta: MetadataStore;
  blobs: FsBlobStore;
  /** The root of trust of encryption at rest (`BERTH_MASTER_KEY_FILE`). */
  master: MasterKey;
  close(): Promise<void>;
}

/** The domain and its stores, as `berth serve` and `berth admin` both use them. */
export interface Domain {
  stores: Stores;
  registry: Registry;
  lifecycle: LifecyclePolicies;
  jobs: JobQueue;
  events: EventLog;
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

/** Filesystem blobs under the data dir; metadata in PostgreSQL when configured, else SQLite there too. */
export async function openStores(config: BerthConfig): Promise<Stores> {
  await mkdir(config.dataDir, { recursive: true });
  const db = config.databaseUrl ? await openPostgres(config.databaseUrl) : new SqliteDb(join(config.dataDir, 'metadata.db'));
  let master: MasterKey;
  try {
    await migrate(db);
    master = await MasterKey.load(config.masterKeyFile);
    await assertMasterKeyMatches(new MetadataStore(db), master, config.masterKeyFile);
  } catch (e) {
    await db.close();
    throw e;
  }
  const blobs = new FsBlobStore(config.dataDir);
  await blobs.init();
  return { meta: new MetadataStore(db, manifestCipher(master)), blobs, master, close: () => db.close() };
}

/** Loaded only when configured: the PostgreSQL client costs a few MiB of memory in every process. */
async function openPostgres(url: string): Promise<SqlDb> {
  const { PostgresDb } = await import('./store/meta/postgres.js');
  return new PostgresDb(url);
}

export async function openDomain(config: BerthConfig, log?: Logger): Promise<Domain> {
  const stores = await openStores(config);
  const kms = new Kms(() => stores.meta.kms, stores.master);
  const encryption = new BlobEncryption(stores.meta, stores.blobs, stores.master, kms, config.region);
  const registry = new Registry(stores.meta, stores.blobs, { createOnPush: config.createOnPush, maxBlobBytes: config.maxBlobBytes, log, encryption, region: config.region });
  const lifecycle = new LifecyclePolicies(registry, stores.meta.lifecycle);
  return {
    stores,
    registry,
    lifecycle,
    jobs: new JobQueue(stores.meta.jobs),
    events: new EventLog(stores.meta.events),
    identities: new IdentityDirectory(stores.meta.identities),
    kms,
    encryption,
    collectGarbage: (opts) => collectGarbage(stores.meta, stores.blobs, opts),
    async close() {
      await registry.close();
      await stores.close();
    },
  };
}

/** Repository, registry and KMS key policies, as the authorizer reads them, from the domain. */
export function resourcePolicies(registry: Registry, kms?: Kms): ResourcePolicySource {
  return {
    async repository(registryId, name) {
      const repo = await registry.repositories.find({ registryId, name });
      return repo && { policyText: repo.settings.policyText, public: repo.settings.public, tags: repo.settings.tags };
    },
    registryPolicy: (accountId) => registry.accounts.registryPolicy(accountId),
    async kmsKey(arn) {
      const m = /^arn:[^:]+:kms:([^:]+):(\d{12}):key\/(.+)$/.exec(arn);
      if (!kms || !m) return undefined;
      const key = await kms.resolve({ region: m[1]!, accountId: m[2]! }, m[3]!, { aliases: false }).catch(() => undefined);
      return key && keyArn(key) === arn ? { policyText: key.policy, tags: key.tags.map((t) => ({ Key: t.TagKey, Value: t.TagValue })) } : undefined;
    },
  };
}
