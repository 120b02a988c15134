import type { SqlDb } from './sql.js';

export type KmsKeyState = 'Enabled' | 'Disabled' | 'PendingDeletion';

export interface KmsKeyRow {
  id: string;
  accountId: string;
  region: string;
  description: string;
  keyUsage: string;
  keySpec: string;
  origin: string;
  keyManager: 'AWS' | 'CUSTOMER';
  state: KmsKeyState;
  policy: string;
  tags: Array<{ TagKey: string; TagValue: string }>;
  rotationEnabled: boolean;
  deletionDate: number | null;
  pendingWindowDays: number | null;
  createdAt: number;
}

export interface KmsKeyVersionRow {
  keyId: string;
  version: number;
  /** The key material, wrapped by the master key. */
  material: Buffer;
  createdAt: number;
}

export interface KmsAliasRow {
  accountId: string;
  region: string;
  name: string;
  keyId: string;
  createdAt: number;
  updatedAt: number;
}

interface RawKey {
  id: string;
  account_id: string;
  region: string;
  description: string;
  key_usage: string;
  key_spec: string;
  origin: string;
  key_manager: string;
  state: string;
  policy: string;
  tags: string;
  rotation_enabled: number | string;
  deletion_date: number | string | null;
  pending_window_days: number | string | null;
  created_at: number | string;
}

function toKey(r: RawKey): KmsKeyRow {
  return {
    id: r.id,
    accountId: r.account_id,
    region: r.region,
    description: r.description,
    keyUsage: r.key_usage,
    keySpec: r.key_spec,
    origin: r.origin,
    keyManager: r.key_manager as KmsKeyRow['keyManager'],
    state: r.state as KmsKeyState,
    policy: r.policy,
    tags: JSON.parse(r.tags) as KmsKeyRow['tags'],
    rotationEnabled: Number(r.rotation_enabled) === 1,
    deletionDate: r.deletion_date === null ? null : Number(r.deletion_date),
    pendingWindowDays: r.pending_window_days === null ? null : Number(r.pending_window_days),
    createdAt: Number(r.created_at),
  };
}

interface RawAlias {
  account_id: string;
  region: string;
  name: string;
  key_id: string;
  created_at: number | string;
  updated_at: number | string;
}

function toAlias(r: RawAlias): KmsAliasRow {
  return { accountId: r.account_id, region: r.region, name: r.name, keyId: r.key_id, createdAt: Number(r.created_at), updatedAt: Number(r.updated_at) };
}

/** A change of some of a key's mutable columns. */
export interface KmsKeyPatch {
  state?: KmsKeyState;
  policy?: string;
  tags?: KmsKeyRow['tags'];
  rotationEnabled?: boolean;
  deletionDate?: number | null;
  pendingWindowDays?: number | null;
  description?: string;
}

/** KMS keys, their material versions and aliases, and the wrapped data keys of encrypted blobs. */
export class KmsStore {
  constructor(private readonly db: SqlDb) {}

  // ---- keys ----------------------------------------------------------------------------------
  async insertKey(k: KmsKeyRow, material: Buffer): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO kms_keys (id, account_id, region, description, key_usage, key_spec, origin, key_manager, state, policy, tags,
           rotation_enabled, deletion_date, pending_window_days, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [k.id, k.accountId, k.region, k.description, k.keyUsage, k.keySpec, k.origin, k.keyManager, k.state, k.policy, JSON.stringify(k.tags),
          k.rotationEnabled ? 1 : 0, k.deletionDate, k.pendingWindowDays, k.createdAt],
      );
      await tx.run('INSERT INTO kms_key_versions (key_id, version, material, created_at) VALUES (?, 1, ?, ?)', [k.id, material, k.createdAt]);
    });
  }

  async getKey(id: string): Promise<KmsKeyRow | undefined> {
    const r = await this.db.get<RawKey>('SELECT * FROM kms_keys WHERE id = ?', [id]);
    return r && toKey(r);
  }

  /** Keys of the account and region in id order, after `after`, at most `limit`. */
  async listKeys(accountId: string, region: string, after: string, limit: number): Promise<KmsKeyRow[]> {
    const rows = await this.db.all<RawKey>('SELECT * FROM kms_keys WHERE account_id = ? AND region = ? AND id > ? ORDER BY id LIMIT ?', [accountId, region, after, limit]);
    return rows.map(toKey);
  }

  async updateKey(id: string, patch: KmsKeyPatch): Promise<boolean> {
    const sets: string[] = [];
    const params: Array<string | number | null> = [];
    const set = (column: string, value: string | number | null) => {
      sets.push(`${column} = ?`);
      params.push(value);
    };
    if (patch.state !== undefined) set('state', patch.state);
    if (patch.policy !== undefined) set('policy', patch.policy);
    if (patch.tags !== undefined) set('tags', JSON.stringify(patch.tags));
    if (patch.rotationEnabled !== undefined) set('rotation_enabled', patch.rotationEnabled ? 1 : 0);
    if (patch.deletionDate !== undefined) set('deletion_date', patch.deletionDate);
    if (patch.pendingWindowDays !== undefined) set('pending_window_days', patch.pendingWindowDays);
    if (patch.description !== undefined) set('description', patch.description);
    if (sets.length === 0) return true;
    return (await this.db.run(`UPDATE kms_keys SET ${sets.join(', ')} WHERE id = ?`, [...params, id])).changes > 0;
  }

  /** Deletes the key, its material and its aliases: what it encrypted can never be decrypted again. */
  async deleteKey(id: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run('DELETE FROM kms_aliases WHERE key_id = ?', [id]);
      await tx.run('DELETE FROM kms_key_versions WHERE key_id = ?', [id]);
      await tx.run('DELETE FROM kms_keys WHERE id = ?', [id]);
    });
  }

  // ---- key material --------------------------------------------------------------------------
  async getVersion(keyId: string, version: number): Promise<KmsKeyVersionRow | undefined> {
    const r = await this.db.get<{ key_id: string; version: number | string; material: Buffer; created_at: number | string }>(
      'SELECT key_id, version, material, created_at FROM kms_key_versions WHERE key_id = ? AND version = ?',
      [keyId, version],
    );
    return r && { keyId: r.key_id, version: Number(r.version), material: Buffer.from(r.material), createdAt: Number(r.created_at) };
  }

  async latestVersion(keyId: string): Promise<KmsKeyVersionRow | undefined> {
    const r = await this.db.get<{ v: number | string | null }>('SELECT MAX(version) AS v FROM kms_key_versions WHERE key_id = ?', [keyId]);
    return r?.v === null || r?.v === undefined ? undefined : this.getVersion(keyId, Number(r.v));
  }

  /** Adds the next version of the key's material; false if another writer added that version first. */
  async addVersion(keyId: string, version: number, material: Buffer, now = Date.now()): Promise<boolean> {
    const r = await this.db.run('INSERT INTO kms_key_versions (key_id, version, material, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (key_id, version) DO NOTHING', [
      keyId,
      version,
      material,
      now,
    ]);
    return r.changes > 0;
  }

  // ---- aliases -------------------------------------------------------------------------------
  /** Creates the alias; false when the name is taken. */
  async createAlias(a: KmsAliasRow): Promise<boolean> {
    const r = await this.db.run(
      'INSERT INTO kms_aliases (account_id, region, name, key_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, region, name) DO NOTHING',
      [a.accountId, a.region, a.name, a.keyId, a.createdAt, a.updatedAt],
    );
    return r.changes > 0;
  }

  async getAlias(accountId: string, region: string, name: string): Promise<KmsAliasRow | undefined> {
    const r = await this.db.get<RawAlias>('SELECT * FROM kms_aliases WHERE account_id = ? AND region = ? AND name = ?', [accountId, region, name]);
    return r && toAlias(r);
  }

  async updateAlias(accountId: string, region: string, name: string, keyId: string, now = Date.now()): Promise<boolean> {
    const r = await this.db.run('UPDATE kms_aliases SET key_id = ?, updated_at = ? WHERE account_id = ? AND region = ? AND name = ?', [keyId, now, accountId, region, name]);
    return r.changes > 0;
  }

  async deleteAlias(accountId: string, region: string, name: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM kms_aliases WHERE account_id = ? AND region = ? AND name = ?', [accountId, region, name])).changes > 0;
  }

  /** Aliases of the account and region (of one key when given) in name order, after `after`. */
  async listAliases(accountId: string, region: string, keyId: string | undefined, after: string, limit: number): Promise<KmsAliasRow[]> {
    const rows = keyId
      ? await this.db.all<RawAlias>('SELECT * FROM kms_aliases WHERE account_id = ? AND region = ? AND key_id = ? AND name > ? ORDER BY name LIMIT ?', [
          accountId,
          region,
          keyId,
          after,
          limit,
        ])
      : await this.db.all<RawAlias>('SELECT * FROM kms_aliases WHERE account_id = ? AND region = ? AND name > ? ORDER BY name LIMIT ?', [accountId, region, after, limit]);
    return rows.map(toAlias);
  }

  // ---- blob data keys ------------------------------------------------------------------------
  /** The blob's data key wrapped by each key that has it, by wrapping key. */
  async blobDataKeys(digest: string): Promise<Map<string, Buffer>> {
    const rows = await this.db.all<{ wrapping_key: string; wrapped: Buffer }>('SELECT wrapping_key, wrapped FROM blob_data_keys WHERE digest = ? ORDER BY wrapping_key', [digest]);
    return new Map(rows.map((r) => [r.wrapping_key, Buffer.from(r.wrapped)]));
  }

  /** Adds a wrapping of the blob's data key; an existing wrapping by the same key stays. */
  async addBlobDataKey(digest: string, wrappingKey: string, wrapped: Buffer, now = Date.now()): Promise<void> {
    await this.db.run('INSERT INTO blob_data_keys (digest, wrapping_key, wrapped, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (digest, wrapping_key) DO NOTHING', [
      digest,
      wrappingKey,
      wrapped,
      now,
    ]);
  }

  /** Forgets every wrapping of the blob's data key (its bytes are gone or being replaced). */
  /**
   * Blobs stored before encryption at rest (non-empty, without a data key), in digest order after
   * `after`, with the repositories that link each.
   */
  async plaintextBlobs(after: string, limit: number): Promise<{ digest: string; size: number; repoIds: string[] }[]> {
    const blobs = await this.db.all<{ digest: string; size: number }>(
      'SELECT digest, size FROM blobs b WHERE size > 0 AND digest > ? AND NOT EXISTS (SELECT 1 FROM blob_data_keys k WHERE k.digest = b.digest) ORDER BY digest LIMIT ?',
      [after, limit],
    );
    const out = [];
    for (const b of blobs) {
      const links = await this.db.all<{ repo_id: string }>('SELECT repo_id FROM repo_blobs WHERE digest = ? ORDER BY repo_id', [b.digest]);
      out.push({ digest: b.digest, size: Number(b.size), repoIds: links.map((l) => l.repo_id) });
    }
    return out;
  }

  async deleteBlobDataKeys(digest: string): Promise<void> {
    await this.db.run('DELETE FROM blob_data_keys WHERE digest = ?', [digest]);
  }
}
