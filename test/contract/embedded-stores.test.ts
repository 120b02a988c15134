// The store contracts run against the embedded defaults: SQLite metadata, filesystem blobs.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsBlobStore } from '../../src/store/blob/fs-blob-store.js';
import { IdentityStore } from '../../src/store/meta/identity-store.js';
import { MetadataStore } from '../../src/store/meta/metadata-store.js';
import { migrate } from '../../src/store/meta/migrations.js';
import { SqliteDb } from '../../src/store/meta/sqlite.js';
import { blobStoreContract } from './blob-store-contract.js';
import { eventJobStoreContract } from './event-job-store-contract.js';
import { identityStoreContract } from './identity-store-contract.js';
import { eventBridgeStoreContract } from './eventbridge-store-contract.js';
import { metadataStoreContract, type StoreHandle } from './metadata-store-contract.js';
import { archiveStoreContract } from './archive-store-contract.js';
import { lifecycleGcStoreContract } from './lifecycle-gc-store-contract.js';
import { ecrOpsStoreContract } from './ecr-ops-store-contract.js';
import { publicRegistryStoreContract } from './public-registry-store-contract.js';
import { auditStoreContract, observabilityStoreContract } from './observability-store-contract.js';
import { kmsStoreContract } from './kms-store-contract.js';
import { usageStoreContract } from './usage-store-contract.js';
import { domainConcurrencyContract } from './domain-concurrency-contract.js';
import { Registry } from '../../src/domain/registry/registry.js';
import { openAuditFile } from '../../src/store/meta/audit-file.js';

async function openMetadataStore(): Promise<StoreHandle<MetadataStore>> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-contract-meta-'));
  const db = new SqliteDb(join(dir, 'metadata.db'));
  await migrate(db);
  return {
    store: new MetadataStore(db),
    async close() {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

metadataStoreContract('SQLite', openMetadataStore);
archiveStoreContract('SQLite', openMetadataStore);
lifecycleGcStoreContract('SQLite', openMetadataStore);
eventBridgeStoreContract('SQLite', openMetadataStore);
ecrOpsStoreContract('SQLite', openMetadataStore);
publicRegistryStoreContract('SQLite', openMetadataStore);
observabilityStoreContract('SQLite', openMetadataStore);
auditStoreContract('SQLite, the trail in a file of its own', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-contract-audit-'));
  const { db, store } = await openAuditFile(join(dir, 'audit.db'), join(dir, 'metadata.db'));
  return {
    store,
    async close() {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
kmsStoreContract('SQLite', openMetadataStore);
usageStoreContract('SQLite', openMetadataStore);

eventJobStoreContract('SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-contract-jobs-'));
  const db = new SqliteDb(join(dir, 'metadata.db'));
  await migrate(db);
  const peer = new SqliteDb(join(dir, 'metadata.db'));
  return {
    db,
    peer,
    async close() {
      await peer.close();
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

identityStoreContract('SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-contract-identity-'));
  const db = new SqliteDb(join(dir, 'metadata.db'));
  await migrate(db);
  return {
    store: new IdentityStore(db),
    async close() {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

blobStoreContract('filesystem', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-contract-blobs-'));
  const store = new FsBlobStore(dir);
  await store.init();
  return { store, close: () => rm(dir, { recursive: true, force: true }) };
});

// One process on SQLite: the two "nodes" share its one connection, as berth's own modules do.
domainConcurrencyContract('SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-contract-domain-'));
  const db = new SqliteDb(join(dir, 'metadata.db'));
  await migrate(db);
  const meta = new MetadataStore(db);
  const blobs = new FsBlobStore(dir);
  await blobs.init();
  return {
    nodes: [new Registry(meta, blobs), new Registry(meta, blobs)],
    savesUploadHashes: false,
    events: () => meta.events.list({ limit: 10_000 }),
    async close() {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
