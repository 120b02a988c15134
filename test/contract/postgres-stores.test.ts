// The metadata store contract against a real PostgreSQL server: one throwaway server for the
// file, a fresh database per test so no test sees another's rows.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { IdentityStore } from '../../src/store/meta/identity-store.js';
import { MetadataStore } from '../../src/store/meta/metadata-store.js';
import { migrate } from '../../src/store/meta/migrations.js';
import { PostgresDb } from '../../src/store/meta/postgres.js';
import { startPostgres, type Postgres } from '../helpers/postgres.js';
import { eventJobStoreContract } from './event-job-store-contract.js';
import { identityStoreContract } from './identity-store-contract.js';
import { metadataStoreContract, type StoreHandle } from './metadata-store-contract.js';
import { lifecycleGcStoreContract } from './lifecycle-gc-store-contract.js';
import { kmsStoreContract } from './kms-store-contract.js';
import { domainConcurrencyContract } from './domain-concurrency-contract.js';
import { Registry } from '../../src/domain/registry/registry.js';
import { FsBlobStore } from '../../src/store/blob/fs-blob-store.js';

let server: Postgres;
let admin: pg.Client;
let databases = 0;

before(async () => {
  server = await startPostgres();
  admin = new pg.Client(server.url);
  await admin.connect();
});

after(async () => {
  await admin?.end();
  await server?.stop();
});

async function freshDatabase(): Promise<string> {
  const name = `t_${++databases}`;
  await admin.query(`CREATE DATABASE ${name}`);
  return name;
}

async function openMetadataStore(): Promise<StoreHandle<MetadataStore>> {
  const name = await freshDatabase();
  const db = new PostgresDb(server.urlFor(name));
  await migrate(db);
  return {
    store: new MetadataStore(db),
    async close() {
      await db.close();
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    },
  };
}

metadataStoreContract('PostgreSQL', openMetadataStore);
lifecycleGcStoreContract('PostgreSQL', openMetadataStore);
kmsStoreContract('PostgreSQL', openMetadataStore);

// Two pools on one database: claims from them really race, as from two berth nodes.
eventJobStoreContract('PostgreSQL', async () => {
  const name = await freshDatabase();
  const db = new PostgresDb(server.urlFor(name));
  await migrate(db);
  const peer = new PostgresDb(server.urlFor(name));
  return {
    db,
    peer,
    async close() {
      await peer.close();
      await db.close();
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    },
  };
});

identityStoreContract('PostgreSQL', async () => {
  const name = await freshDatabase();
  const db = new PostgresDb(server.urlFor(name));
  await migrate(db);
  return {
    store: new IdentityStore(db),
    async close() {
      await db.close();
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    },
  };
});

// Two pools on one database and one blob directory: two berth nodes.
domainConcurrencyContract('PostgreSQL', async () => {
  const name = await freshDatabase();
  const dbs = [new PostgresDb(server.urlFor(name)), new PostgresDb(server.urlFor(name))] as const;
  await migrate(dbs[0]);
  const dir = await mkdtemp(join(tmpdir(), 'berth-contract-domain-'));
  const blobs = new FsBlobStore(dir);
  await blobs.init();
  const metas = dbs.map((db) => new MetadataStore(db));
  return {
    nodes: [new Registry(metas[0]!, blobs), new Registry(metas[1]!, blobs)],
    events: () => metas[0]!.events.list({ limit: 10_000 }),
    async close() {
      await Promise.all(dbs.map((db) => db.close()));
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('PostgreSQL specifics', () => {
  it('servers starting together on one fresh database migrate it once', async () => {
    const url = server.urlFor(await freshDatabase());
    const dbs = [new PostgresDb(url), new PostgresDb(url), new PostgresDb(url)];
    try {
      await Promise.all(dbs.map((db) => migrate(db)));
      const rows = await dbs[0]!.all<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      assert.deepEqual(rows.map((r) => r.version), [1, 2, 4, 5, 6, 7]);
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
    }
  });

  it('a paging key with a NUL byte pages like SQLite instead of failing', async () => {
    const db = new PostgresDb(server.urlFor(await freshDatabase()));
    try {
      await migrate(db);
      const meta = new MetadataStore(db);
      const repo = await meta.createRepository('111122223333', 'r');
      assert.ok(repo);
      await meta.insertManifest(
        { repoId: repo.id, digest: 'sha256:' + 'a'.repeat(64), mediaType: 'm', artifactType: null, configMediaType: null, subject: null, annotations: null, size: 2, layersSize: 0, body: Buffer.from('{}'), pushedAt: 1, lastPulledAt: null },
        [],
      );
      for (const t of ['a', 'a0', 'b']) await meta.putTag(repo.id, t, 'sha256:' + 'a'.repeat(64));
      assert.deepEqual((await meta.listTags(repo.id, 'a\0x')).map((t) => t.name), ['a0', 'b']);
      assert.deepEqual((await meta.listRepositories('111122223333', '\0')).map((r) => r.name), ['r']);
    } finally {
      await db.close();
    }
  });
});
