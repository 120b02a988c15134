// The master key file, the refusal to start with another key, and KMS key rotation (old versions decrypt).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { openDomain } from '../../src/wiring.js';
import { MasterKey } from '../../src/domain/kms/master-key.js';
import { Kms } from '../../src/domain/kms/kms.js';
import { MetadataStore } from '../../src/store/meta/metadata-store.js';
import { migrate } from '../../src/store/meta/migrations.js';
import { SqliteDb } from '../../src/store/meta/sqlite.js';

describe('master key', () => {
  it('is created with mode 0600 under the data dir, and read back the same', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-master-'));
    try {
      const path = join(dir, 'sub', 'master.key');
      const a = await MasterKey.load(path);
      assert.equal((await stat(path)).mode & 0o777, 0o600);
      assert.match(await readFile(path, 'utf8'), /^[0-9a-f]{64}\n$/);
      const b = await MasterKey.load(path);
      assert.equal(a.checkValue(), b.checkValue());
      assert.deepEqual(b.unwrap(a.wrap(Buffer.from('x'), 'ctx'), 'ctx'), Buffer.from('x'));
      assert.throws(() => b.unwrap(a.wrap(Buffer.from('x'), 'ctx'), 'other'));
      await writeFile(path, 'not a key');
      await assert.rejects(MasterKey.load(path), /does not hold a master key/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a node started with another master key than the metadata was written with refuses to start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-master-'));
    try {
      const config = loadConfig({ dataDir: dir }, {});
      assert.equal(config.masterKeyFile, join(dir, 'master.key'));
      await (await openDomain(config)).close();
      const other = loadConfig({ dataDir: dir }, { BERTH_MASTER_KEY_FILE: join(dir, 'other.key') });
      await assert.rejects(openDomain(other), /is not the one this deployment's metadata was written with/);
      await (await openDomain(config)).close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('KMS key rotation', () => {
  it('rotates lazily once a year has passed; ciphertexts of every version still decrypt', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-kms-'));
    const db = new SqliteDb(join(dir, 'metadata.db'));
    try {
      await migrate(db);
      const meta = new MetadataStore(db);
      let now = Date.UTC(2026, 0, 1);
      const kms = new Kms(() => meta.kms, await MasterKey.load(join(dir, 'master.key')), () => now);
      const scope = { accountId: '111122223333', region: 'us-east-1' };
      const key = await kms.createKey(scope, {});
      await kms.setRotation(key, true);
      const rotating = await kms.resolve(scope, key.id);
      const old = await kms.encrypt(rotating, Buffer.from('year one'));
      now += 366 * 86400_000;
      const fresh = await kms.encrypt(rotating, Buffer.from('year two'));
      assert.equal(old.readUInt32BE(37), 1);
      assert.equal(fresh.readUInt32BE(37), 2);
      assert.equal((await kms.decrypt(rotating, old)).toString(), 'year one');
      assert.equal((await kms.decrypt(rotating, fresh)).toString(), 'year two');
    } finally {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
