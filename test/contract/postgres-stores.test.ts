// The metadata store contract against a real PostgreSQL server: one throwaway server for the
// file, a fresh database per test so no test sees another's rows.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { IdentityStore } from '../../src/store/meta/identity-store.js';
import { ADMIN_USER, bootstrapAdministrator } from '../../src/iam/identity/bootstrap.js';
import { IdentityDirectory } from '../../src/iam/identity/directory.js';
import { MetadataStore } from '../../src/store/meta/metadata-store.js';
import { migrate } from '../../src/store/meta/migrations.js';
import { PostgresDb } from '../../src/store/meta/postgres.js';
import { startPostgres, type Postgres } from '../helpers/postgres.js';
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
import { AuditStore } from '../../src/store/meta/audit-store.js';
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

/** A store of `make`'s kind on a fresh, migrated database of its own, dropped on close. */
async function openStore<T>(make: (db: PostgresDb) => T): Promise<StoreHandle<T>> {
  const name = await freshDatabase();
  const db = new PostgresDb(server.urlFor(name));
  await migrate(db);
  return {
    store: make(db),
    async close() {
      await db.close();
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    },
  };
}

const openMetadataStore = () => openStore((db) => new MetadataStore(db));

metadataStoreContract('PostgreSQL', openMetadataStore);
archiveStoreContract('PostgreSQL', openMetadataStore);
lifecycleGcStoreContract('PostgreSQL', openMetadataStore);
eventBridgeStoreContract('PostgreSQL', openMetadataStore);
ecrOpsStoreContract('PostgreSQL', openMetadataStore);
publicRegistryStoreContract('PostgreSQL', openMetadataStore);
observabilityStoreContract('PostgreSQL', openMetadataStore);
auditStoreContract('PostgreSQL', () => openStore((db) => new AuditStore(db)));
kmsStoreContract('PostgreSQL', openMetadataStore);
usageStoreContract('PostgreSQL', openMetadataStore);

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

identityStoreContract('PostgreSQL', () => openStore((db) => new IdentityStore(db)));

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
    nodes: [new Registry(metas[0]!, blobs, { uploadHashes: 'saved' }), new Registry(metas[1]!, blobs, { uploadHashes: 'saved' })],
    savesUploadHashes: true,
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
      assert.deepEqual(rows.map((r) => r.version), [1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23]);
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
    }
  });

  it('nodes starting together on one fresh database bootstrap one administrator, written by one of them', async () => {
    const url = server.urlFor(await freshDatabase());
    const dbs = [new PostgresDb(url), new PostgresDb(url), new PostgresDb(url)];
    const dirs = await Promise.all(dbs.map(() => mkdtemp(join(tmpdir(), 'berth-contract-bootstrap-'))));
    try {
      await migrate(dbs[0]!);
      await Promise.all(dbs.map((db) => db.get('SELECT 1'))); // connected, so the starts really overlap
      const written = await Promise.all(
        dbs.map((db, i) => bootstrapAdministrator(new MetadataStore(db), new IdentityDirectory(new IdentityStore(db)), dirs[i]!, '111122223333', 'us-east-1')),
      );
      assert.equal(written.filter(Boolean).length, 1, 'exactly one node writes admin-credentials');
      const keys = await new IdentityDirectory(new IdentityStore(dbs[0]!)).listAccessKeys('111122223333', ADMIN_USER);
      assert.equal(keys.length, 1, 'and one access key exists');
      const again = await bootstrapAdministrator(new MetadataStore(dbs[1]!), new IdentityDirectory(new IdentityStore(dbs[1]!)), dirs[1]!, '111122223333', 'us-east-1');
      assert.equal(again, undefined, 'a later start joins the account');
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    }
  });

  it('transactions of different scopes run side by side; the same scope, unscoped ones and outbox appends wait', async () => {
    const url = server.urlFor(await freshDatabase());
    const [one, two] = [new PostgresDb(url), new PostgresDb(url)];
    const settled = (p: Promise<unknown>) => Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 300))]);
    try {
      await migrate(one);
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const held = new MetadataStore(one).transaction(async (tx) => {
        await tx.events.append({ type: 'image.pushed', registryId: '111122223333', repositoryName: 'a' });
        await gate;
      }, 'repository-a');
      await new Promise((r) => setTimeout(r, 100));

      const otherScope = new MetadataStore(two).transaction((tx) => tx.setSetting('k', 'v'), 'repository-b');
      assert.equal(await settled(otherScope), true, 'another repository goes ahead');
      const sameScope = two.transaction((tx) => tx.get('SELECT 1'), 'repository-a');
      const unscoped = two.transaction((tx) => tx.get('SELECT 1'));
      const appended = new MetadataStore(two).transaction(
        (tx) => tx.events.append({ type: 'image.pushed', registryId: '111122223333', repositoryName: 'b' }),
        'repository-b',
      );
      assert.equal(await settled(sameScope), false, 'the same repository waits');
      assert.equal(await settled(unscoped), false, 'an unscoped transaction waits');
      assert.equal(await settled(appended), false, 'an outbox append waits for the earlier one to commit');

      release();
      await Promise.all([held, sameScope, unscoped, appended]);
      const events = await new MetadataStore(one).events.list();
      assert.deepEqual(events.map((e) => e.repositoryName), ['a', 'b'], 'events in commit order');
    } finally {
      await Promise.all([one.close(), two.close()]);
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

  it('a server restart under transactions in flight fails them; the process goes on and later transactions work', async () => {
    const db = new PostgresDb(server.urlFor(await freshDatabase()));
    try {
      let stop = false;
      let failed = 0;
      const loop = async () => {
        while (!stop) {
          await db
            .transaction(async (tx) => {
              await tx.get('SELECT 1');
              await new Promise((r) => setTimeout(r, 30));
              await tx.get('SELECT 2');
            }, 'scope')
            .catch(() => failed++);
          await new Promise((r) => setTimeout(r, 5));
        }
      };
      const loops = [loop(), loop(), loop()];
      await new Promise((r) => setTimeout(r, 300));
      // The suite's own admin connection dies with the restart too: a new one replaces it.
      admin.on('error', () => undefined);
      await server.restart(() => new Promise((r) => setTimeout(r, 300)));
      admin = new pg.Client(server.url);
      await admin.connect();
      stop = true;
      await Promise.all(loops);
      assert.ok(failed > 0, 'transactions cut by the restart failed');
      assert.deepEqual(await db.transaction((tx) => tx.get<{ n: number }>('SELECT 1 AS n')), { n: 1 });
    } finally {
      await db.close();
    }
  });
});
