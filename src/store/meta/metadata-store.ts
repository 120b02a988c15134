import { randomUUID } from 'node:crypto';
import { CreationTemplateStore } from './creation-template-store.js';
import { GcStore } from './gc-store.js';
import { IdentityStore } from './identity-store.js';
import { LifecycleStore } from './lifecycle-store.js';
import { EventBridgeStore } from './eventbridge-store.js';
import { EventStore } from './event-store.js';
import { JobStore } from './job-store.js';
import { PullExclusionStore } from './pull-exclusion-store.js';
import { PublicRegistryStore } from './public-registry-store.js';
import { ScanStore } from './scan-store.js';
import { StatsStore } from './stats-store.js';
import { UsageStore } from './usage-store.js';
import { KmsStore } from './kms-store.js';
import type { SqlDb } from './sql.js';

export interface RepositoryRow {
  id: string;
  registryId: string;
  name: string;
  createdAt: number;
  settings: Record<string, unknown>;
}

export interface ManifestRow {
  repoId: string;
  digest: string;
  mediaType: string;
  artifactType: string | null;
  configMediaType: string | null;
  subject: string | null;
  annotations: Record<string, string> | null;
  size: number;
  layersSize: number;
  body: Buffer;
  pushedAt: number;
  lastPulledAt: number | null;
  /** ECR's image status: ACTIVE (standard storage, pullable), ARCHIVED (archive storage) or ACTIVATING (being restored). */
  imageStatus: ImageStatus;
  /** When the image last went into the archive, and last came back from it (epoch ms). */
  lastArchivedAt: number | null;
  lastActivatedAt: number | null;
}

/**
 * ECR's image statuses. ACTIVATING is a restore under way: the image is still in the archive (not
 * pullable) until the restore job completes it.
 */
export type ImageStatus = 'ACTIVE' | 'ARCHIVED' | 'ACTIVATING';

/** A manifest as pushed: it starts ACTIVE, with no archive history. */
export type NewManifestRow = Omit<ManifestRow, 'imageStatus' | 'lastArchivedAt' | 'lastActivatedAt'>;

export interface ManifestRef {
  child: string;
  kind: 'blob' | 'manifest';
}

export interface UploadRow {
  id: string;
  repoId: string;
  size: number;
  createdAt: number;
  updatedAt: number;
  /** The running SHA-256 state at `size`, where one was saved. */
  hashState?: Buffer;
}

interface UploadDbRow {
  id: string;
  repo_id: string;
  size: number | string;
  created_at: number | string;
  updated_at: number | string;
  hash_state: Buffer | Uint8Array | null;
}

function toUploadRow(r: UploadDbRow): UploadRow {
  const row: UploadRow = { id: r.id, repoId: r.repo_id, size: Number(r.size), createdAt: Number(r.created_at), updatedAt: Number(r.updated_at) };
  if (r.hash_state) row.hashState = Buffer.from(r.hash_state);
  return row;
}

export interface TagRow {
  name: string;
  digest: string;
  updatedAt: number;
}

interface RawManifest {
  repo_id: string;
  digest: string;
  media_type: string;
  artifact_type: string | null;
  config_media_type: string | null;
  subject: string | null;
  annotations: string | null;
  size: number | string;
  layers_size: number | string;
  body: Buffer;
  pushed_at: number | string;
  last_pulled_at: number | string | null;
  image_status: string;
  last_archived_at: number | string | null;
  last_activated_at: number | string | null;
}

const MANIFEST_COLUMNS =
  'm.repo_id, m.digest, m.media_type, m.artifact_type, m.config_media_type, m.subject, m.annotations, m.size, m.layers_size, m.body, m.pushed_at, m.last_pulled_at, m.image_status, m.last_archived_at, m.last_activated_at';

function epochOrNull(v: number | string | null): number | null {
  return v === null ? null : Number(v);
}

function toManifest(r: RawManifest): ManifestRow {
  return {
    repoId: r.repo_id,
    digest: r.digest,
    mediaType: r.media_type,
    artifactType: r.artifact_type,
    configMediaType: r.config_media_type,
    subject: r.subject,
    annotations: r.annotations ? (JSON.parse(r.annotations) as Record<string, string>) : null,
    size: Number(r.size),
    layersSize: Number(r.layers_size),
    body: r.body,
    pushedAt: Number(r.pushed_at),
    lastPulledAt: epochOrNull(r.last_pulled_at),
    imageStatus: r.image_status as ImageStatus,
    lastArchivedAt: epochOrNull(r.last_archived_at),
    lastActivatedAt: epochOrNull(r.last_activated_at),
  };
}

interface RawRepository {
  id: string;
  registry_id: string;
  name: string;
  created_at: number | string;
  settings: string;
}

function toRepository(r: RawRepository): RepositoryRow {
  return {
    id: r.id,
    registryId: r.registry_id,
    name: r.name,
    createdAt: Number(r.created_at),
    settings: JSON.parse(r.settings) as Record<string, unknown>,
  };
}

/**
 * A paging key cut at its first NUL: the same position in byte order, since no name contains NUL,
 * and PostgreSQL rejects NUL in text parameters.
 */
function pagingKey(key: string): string {
  const nul = key.indexOf('\0');
  return nul === -1 ? key : key.slice(0, nul);
}

function placeholders(n: number): string {
  return new Array(n).fill('?').join(', ');
}

/** How manifest bodies are kept at rest: sealed on the way in, opened on the way out. */
export interface BodyCipher {
  seal(body: Buffer, digest: string): Buffer;
  open(stored: Buffer, digest: string): Buffer;
}

const PLAIN_BODIES: BodyCipher = { seal: (body) => body, open: (stored) => stored };

/** The source of truth for everything but blob bytes; one implementation over either SQL database. */
export class MetadataStore {
  constructor(
    private readonly db: SqlDb,
    private readonly bodies: BodyCipher = PLAIN_BODIES,
  ) {}

  private manifestRow(r: RawManifest): ManifestRow {
    const row = toManifest(r);
    return { ...row, body: this.bodies.open(Buffer.from(row.body), row.digest) };
  }

  close(): Promise<void> {
    return this.db.close();
  }

  /** Lifecycle previews and expiry records, bound to this store's connection or transaction. */
  get lifecycle(): LifecycleStore {
    return new LifecycleStore(this.db);
  }

  /** Users, keys, groups and policies. */
  get identities(): IdentityStore {
    return new IdentityStore(this.db);
  }

  /** Garbage collection's queries. */
  get gc(): GcStore {
    return new GcStore(this.db);
  }
  /** The event outbox; inside `transaction`, events commit with the change they record. */
  get events(): EventStore { return new EventStore(this.db); }
  get jobs(): JobStore { return new JobStore(this.db); }
  get eventbridge(): EventBridgeStore { return new EventBridgeStore(this.db); }
  /** ECR Public registries (aliases, registry catalog data). */
  get publicRegistries(): PublicRegistryStore {
    return new PublicRegistryStore(this.db);
  }
  /** Image scanning: vulnerability records, cached layer facts, scans. */
  get scans(): ScanStore { return new ScanStore(this.db); }
  /** Aggregate figures for metrics. */
  get stats(): StatsStore { return new StatsStore(this.db); }
  /** Hourly usage rows: storage, transfer out, pushes and pulls per repository. */
  get usage(): UsageStore { return new UsageStore(this.db); }

  /** Inside `transaction`: holds `key` until the transaction ends (see `SqlDb.lock`). */
  lock(key: string): Promise<void> {
    return this.db.lock(key);
  }

  /** Repository creation templates. */
  get creationTemplates(): CreationTemplateStore {
    return new CreationTemplateStore(this.db);
  }
  /** Pull-time update exclusions. */
  get pullExclusions(): PullExclusionStore {
    return new PullExclusionStore(this.db);
  }

  /** KMS keys, aliases and the wrapped data keys of encrypted blobs. */
  get kms(): KmsStore {
    return new KmsStore(this.db);
  }

  /** Runs `fn` against a store bound to one transaction; see `SqlDb.transaction` for `scope`. */
  transaction<T>(fn: (store: MetadataStore) => Promise<T>, scope?: string): Promise<T> {
    return this.db.transaction((tx) => fn(new MetadataStore(tx, this.bodies)), scope);
  }

  // ---- key/value settings -------------------------------------------------------------------
  async getSetting(key: string): Promise<string | undefined> {
    return (await this.db.get<{ v: string }>('SELECT v FROM kv WHERE k = ?', [key]))?.v;
  }

  async setSetting(key: string, value: string): Promise<void> {
    await this.db.run('INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v', [key, value]);
  }

  /**
   * The setting's value, stored first as `create()` if it has none. Racing callers (other nodes
   * too) all get the one value that was stored first.
   */
  async getOrCreateSetting(key: string, create: () => string): Promise<string> {
    const existing = await this.getSetting(key);
    if (existing !== undefined) return existing;
    await this.db.run('INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT (k) DO NOTHING', [key, create()]);
    return (await this.getSetting(key))!;
  }

  async deleteSetting(key: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM kv WHERE k = ?', [key])).changes > 0;
  }

  // ---- repositories -------------------------------------------------------------------------
  /** Creates the repository; returns undefined when one with that name exists already. */
  async createRepository(registryId: string, name: string, settings: Record<string, unknown> = {}, createdAt = Date.now()): Promise<RepositoryRow | undefined> {
    const id = randomUUID();
    const { changes } = await this.db.run(
      'INSERT INTO repositories (id, registry_id, name, created_at, settings) VALUES (?, ?, ?, ?, ?) ON CONFLICT (registry_id, name) DO NOTHING',
      [id, registryId, name, createdAt, JSON.stringify(settings)],
    );
    if (changes === 0) return undefined;
    return { id, registryId, name, createdAt, settings };
  }

  async getRepository(registryId: string, name: string): Promise<RepositoryRow | undefined> {
    const r = await this.db.get<RawRepository>('SELECT * FROM repositories WHERE registry_id = ? AND name = ?', [registryId, name]);
    return r && toRepository(r);
  }

  async getRepositoryById(id: string): Promise<RepositoryRow | undefined> {
    const r = await this.db.get<RawRepository>('SELECT * FROM repositories WHERE id = ?', [id]);
    return r && toRepository(r);
  }

  /** Repositories in name order, after `after`, at most `limit`. */
  async listRepositories(registryId: string, after = '', limit = 1000): Promise<RepositoryRow[]> {
    const rows = await this.db.all<RawRepository>(
      'SELECT * FROM repositories WHERE registry_id = ? AND name > ? ORDER BY name LIMIT ?',
      [registryId, pagingKey(after), limit],
    );
    return rows.map(toRepository);
  }

  async listAllRepositories(): Promise<RepositoryRow[]> {
    return (await this.db.all<RawRepository>('SELECT * FROM repositories ORDER BY registry_id, name')).map(toRepository);
  }

  /**
   * Changes some settings of the repository atomically: `change` gets the settings as stored now,
   * inside the write transaction, and returns the keys to set (undefined removes a key). Returns
   * the settings after the change, or undefined if the repository is gone.
   */
  async updateRepositorySettings(
    id: string,
    change: (current: Record<string, unknown>) => Record<string, unknown>,
  ): Promise<Record<string, unknown> | undefined> {
    return this.db.transaction(async (tx) => {
      const row = await tx.get<{ settings: string }>('SELECT settings FROM repositories WHERE id = ?', [id]);
      if (!row) return undefined;
      const settings = JSON.parse(row.settings) as Record<string, unknown>;
      for (const [key, value] of Object.entries(change(settings))) {
        if (value === undefined) delete settings[key];
        else settings[key] = value;
      }
      await tx.run('UPDATE repositories SET settings = ? WHERE id = ?', [JSON.stringify(settings), id]);
      return settings;
    });
  }

  async deleteRepository(id: string): Promise<void> {
    // Explicit order rather than relying on cascades, so both databases behave the same.
    await this.db.run('DELETE FROM tags WHERE repo_id = ?', [id]);
    await this.db.run('DELETE FROM manifest_refs WHERE repo_id = ?', [id]);
    await this.db.run('DELETE FROM manifests WHERE repo_id = ?', [id]);
    await this.db.run('DELETE FROM repo_blobs WHERE repo_id = ?', [id]);
    await this.db.run('DELETE FROM uploads WHERE repo_id = ?', [id]);
    await this.db.run('DELETE FROM repositories WHERE id = ?', [id]);
  }

  async countImages(repoId: string): Promise<number> {
    const r = await this.db.get<{ n: number | string }>('SELECT COUNT(*) AS n FROM manifests WHERE repo_id = ?', [repoId]);
    return Number(r?.n ?? 0);
  }

  // ---- blobs ------------------------------------------------------------------------------
  async getBlob(digest: string): Promise<{ size: number } | undefined> {
    const r = await this.db.get<{ size: number | string }>('SELECT size FROM blobs WHERE digest = ?', [digest]);
    return r && { size: Number(r.size) };
  }

  /** The blob, only if it is linked into the repository. */
  async getRepoBlob(repoId: string, digest: string): Promise<{ size: number } | undefined> {
    const r = await this.db.get<{ size: number | string }>(
      'SELECT b.size FROM repo_blobs l JOIN blobs b ON b.digest = l.digest WHERE l.repo_id = ? AND l.digest = ?',
      [repoId, digest],
    );
    return r && { size: Number(r.size) };
  }

  /** Records a blob whose bytes are durable, and links it into the repository. */
  async commitBlob(repoId: string, digest: string, size: number): Promise<void> {
    const now = Date.now();
    await this.db.run('INSERT INTO blobs (digest, size, created_at) VALUES (?, ?, ?) ON CONFLICT (digest) DO NOTHING', [digest, size, now]);
    await this.linkBlob(repoId, digest, now);
  }

  async linkBlob(repoId: string, digest: string, now = Date.now()): Promise<void> {
    await this.db.run('INSERT INTO repo_blobs (repo_id, digest, created_at) VALUES (?, ?, ?) ON CONFLICT (repo_id, digest) DO NOTHING', [
      repoId,
      digest,
      now,
    ]);
  }

  async unlinkBlob(repoId: string, digest: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM repo_blobs WHERE repo_id = ? AND digest = ?', [repoId, digest])).changes > 0;
  }

  /** Which of `digests` are not linked into the repository. */
  async missingBlobs(repoId: string, digests: string[]): Promise<string[]> {
    if (digests.length === 0) return [];
    const found = new Set<string>();
    for (let i = 0; i < digests.length; i += 500) {
      const chunk = digests.slice(i, i + 500);
      const rows = await this.db.all<{ digest: string }>(
        `SELECT digest FROM repo_blobs WHERE repo_id = ? AND digest IN (${placeholders(chunk.length)})`,
        [repoId, ...chunk],
      );
      for (const r of rows) found.add(r.digest);
    }
    return digests.filter((d) => !found.has(d));
  }

  // ---- uploads ----------------------------------------------------------------------------
  async createUpload(repoId: string, id: string = randomUUID()): Promise<UploadRow> {
    const now = Date.now();
    await this.db.runUnsynced('INSERT INTO uploads (id, repo_id, size, created_at, updated_at) VALUES (?, ?, 0, ?, ?)', [id, repoId, now, now]);
    return { id, repoId, size: 0, createdAt: now, updatedAt: now };
  }

  async getUpload(id: string): Promise<UploadRow | undefined> {
    const r = await this.db.get<UploadDbRow>('SELECT id, repo_id, size, created_at, updated_at, hash_state FROM uploads WHERE id = ?', [id]);
    return r && toUploadRow(r);
  }

  /**
   * Takes the right to append to the upload at `offset` until `until` (epoch ms), unless another
   * appender holds an unexpired claim or the upload has moved on. The claim is `token`'s alone.
   */
  async claimUploadAppend(id: string, offset: number, token: string, until: number): Promise<boolean> {
    const now = Date.now();
    const { changes } = await this.db.runUnsynced(
      'UPDATE uploads SET appender = ?, append_until = ?, updated_at = ? WHERE id = ? AND size = ? AND (appender IS NULL OR append_until < ?)',
      [token, until, now, id, offset, now],
    );
    return changes === 1;
  }

  /** Extends `token`'s claim; false if it was lost (expired and taken, or the upload is gone). */
  async renewUploadAppend(id: string, token: string, until: number): Promise<boolean> {
    const { changes } = await this.db.runUnsynced('UPDATE uploads SET append_until = ?, updated_at = ? WHERE id = ? AND appender = ?', [until, Date.now(), id, token]);
    return changes === 1;
  }

  async releaseUploadAppend(id: string, token: string): Promise<void> {
    await this.db.runUnsynced('UPDATE uploads SET appender = NULL, append_until = NULL WHERE id = ? AND appender = ?', [id, token]);
  }

  /**
   * Moves the upload's committed size from `from` to `to` with the hash state at `to` (or none), and
   * ends `token`'s claim; false if the claim was lost or someone else moved the upload first.
   */
  async advanceUpload(id: string, from: number, to: number, token: string, hashState?: Buffer): Promise<boolean> {
    // Upload progress need not survive a power failure: the chunk's bytes are not flushed either.
    const { changes } = await this.db.runUnsynced(
      'UPDATE uploads SET size = ?, hash_state = ?, appender = NULL, append_until = NULL, updated_at = ? WHERE id = ? AND size = ? AND appender = ?',
      [to, hashState ?? null, Date.now(), id, from, token],
    );
    return changes === 1;
  }

  // ---- named claims ---------------------------------------------------------------------------
  /** Takes the claim `name` for `holder` until `until` (epoch ms), unless another holds it unexpired. */
  async takeClaim(name: string, holder: string, until: number): Promise<boolean> {
    const { changes } = await this.db.runUnsynced(
      'INSERT INTO claims (name, holder, until) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until WHERE claims.until < ?',
      [name, holder, until, Date.now()],
    );
    return changes === 1;
  }

  /** Extends `holder`'s claim; false if it was lost. */
  async renewClaim(name: string, holder: string, until: number): Promise<boolean> {
    return (await this.db.runUnsynced('UPDATE claims SET until = ? WHERE name = ? AND holder = ?', [until, name, holder])).changes === 1;
  }

  /** Releases every claim (named, and upload appends) whose holder starts with `prefix`. */
  async releaseClaimsHeldBy(prefix: string): Promise<void> {
    const pattern = prefix.replace(/[\\%_]/g, (c) => `\\${c}`) + '%';
    await this.db.run("DELETE FROM claims WHERE holder LIKE ? ESCAPE '\\'", [pattern]);
    await this.db.run("UPDATE uploads SET appender = NULL, append_until = NULL WHERE appender LIKE ? ESCAPE '\\'", [pattern]);
  }

  async releaseClaim(name: string, holder: string): Promise<void> {
    await this.db.runUnsynced('DELETE FROM claims WHERE name = ? AND holder = ?', [name, holder]);
  }

  async deleteUpload(id: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM uploads WHERE id = ?', [id])).changes > 0;
  }

  async listUploadsOlderThan(updatedBefore: number): Promise<UploadRow[]> {
    const rows = await this.db.all<UploadDbRow>('SELECT id, repo_id, size, created_at, updated_at, hash_state FROM uploads WHERE updated_at < ?', [updatedBefore]);
    return rows.map(toUploadRow);
  }

  // ---- manifests and tags -------------------------------------------------------------------
  /** Inserts the manifest (kept if already there) and its references. Returns true if it was new. */
  async insertManifest(m: NewManifestRow, refs: ManifestRef[]): Promise<boolean> {
    const { changes } = await this.db.run(
      `INSERT INTO manifests (repo_id, digest, media_type, artifact_type, config_media_type, subject, annotations, size, layers_size, body, pushed_at, last_pulled_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (repo_id, digest) DO NOTHING`,
      [
        m.repoId,
        m.digest,
        m.mediaType,
        m.artifactType,
        m.configMediaType,
        m.subject,
        m.annotations ? JSON.stringify(m.annotations) : null,
        m.size,
        m.layersSize,
        this.bodies.seal(m.body, m.digest),
        m.pushedAt,
        m.lastPulledAt,
      ],
    );
    if (changes === 0) return false;
    for (const ref of refs) {
      await this.db.run('INSERT INTO manifest_refs (repo_id, digest, child, kind) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', [
        m.repoId,
        m.digest,
        ref.child,
        ref.kind,
      ]);
    }
    return true;
  }

  async getManifest(repoId: string, digest: string): Promise<ManifestRow | undefined> {
    const r = await this.db.get<RawManifest>(`SELECT ${MANIFEST_COLUMNS} FROM manifests m WHERE m.repo_id = ? AND m.digest = ?`, [repoId, digest]);
    return r && this.manifestRow(r);
  }

  async getTaggedManifest(repoId: string, tag: string): Promise<ManifestRow | undefined> {
    const r = await this.db.get<RawManifest>(
      `SELECT ${MANIFEST_COLUMNS} FROM tags t JOIN manifests m ON m.repo_id = t.repo_id AND m.digest = t.digest WHERE t.repo_id = ? AND t.name = ?`,
      [repoId, tag],
    );
    return r && this.manifestRow(r);
  }

  /** The tagged manifest and its repository in one indexed query: the pull-by-tag hot path. */
  async getTaggedManifestByName(registryId: string, name: string, tag: string): Promise<{ repository: RepositoryRow; manifest: ManifestRow } | undefined> {
    const r = await this.db.get<RawManifest & RawRepository>(
      `SELECT r.id, r.registry_id, r.name, r.created_at, r.settings, ${MANIFEST_COLUMNS}
       FROM repositories r JOIN tags t ON t.repo_id = r.id JOIN manifests m ON m.repo_id = t.repo_id AND m.digest = t.digest
       WHERE r.registry_id = ? AND r.name = ? AND t.name = ?`,
      [registryId, name, tag],
    );
    return r && { repository: toRepository(r), manifest: this.manifestRow(r) };
  }

  async getTag(repoId: string, tag: string): Promise<TagRow | undefined> {
    const r = await this.db.get<{ name: string; digest: string; updated_at: number | string }>(
      'SELECT name, digest, updated_at FROM tags WHERE repo_id = ? AND name = ?',
      [repoId, tag],
    );
    return r && { name: r.name, digest: r.digest, updatedAt: Number(r.updated_at) };
  }

  async putTag(repoId: string, tag: string, digest: string, now = Date.now()): Promise<void> {
    await this.db.run(
      'INSERT INTO tags (repo_id, name, digest, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (repo_id, name) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at',
      [repoId, tag, digest, now],
    );
  }

  async deleteTag(repoId: string, tag: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM tags WHERE repo_id = ? AND name = ?', [repoId, tag])).changes > 0;
  }

  async deleteManifest(repoId: string, digest: string): Promise<boolean> {
    await this.db.run('DELETE FROM tags WHERE repo_id = ? AND digest = ?', [repoId, digest]);
    await this.db.run('DELETE FROM manifest_refs WHERE repo_id = ? AND digest = ?', [repoId, digest]);
    return (await this.db.run('DELETE FROM manifests WHERE repo_id = ? AND digest = ?', [repoId, digest])).changes > 0;
  }

  /** Tags in byte order of their names, after `last`, at most `limit`. */
  async listTags(repoId: string, last = '', limit = 100_000): Promise<TagRow[]> {
    const rows = await this.db.all<{ name: string; digest: string; updated_at: number | string }>(
      'SELECT name, digest, updated_at FROM tags WHERE repo_id = ? AND name > ? ORDER BY name LIMIT ?',
      [repoId, pagingKey(last), limit],
    );
    return rows.map((r) => ({ name: r.name, digest: r.digest, updatedAt: Number(r.updated_at) }));
  }

  /** The manifest's tags, the most recently attached first (as ECR lists an image's tags). */
  async tagsOf(repoId: string, digest: string): Promise<string[]> {
    const rows = await this.db.all<{ name: string }>('SELECT name FROM tags WHERE repo_id = ? AND digest = ? ORDER BY updated_at DESC, name', [
      repoId,
      digest,
    ]);
    return rows.map((r) => r.name);
  }

  /** Every manifest of the repository with its tags (most recently attached first); for image listings and lifecycle. */
  async listManifests(repoId: string): Promise<Array<ManifestRow & { tags: string[] }>> {
    const rows = (await this.db.all<RawManifest>(`SELECT ${MANIFEST_COLUMNS} FROM manifests m WHERE m.repo_id = ? ORDER BY m.pushed_at, m.digest`, [repoId])).map((r) => this.manifestRow(r));
    const tags = await this.db.all<{ name: string; digest: string }>('SELECT name, digest FROM tags WHERE repo_id = ? ORDER BY updated_at DESC, name', [repoId]);
    const byDigest = new Map<string, string[]>();
    for (const t of tags) {
      const list = byDigest.get(t.digest) ?? [];
      list.push(t.name);
      byDigest.set(t.digest, list);
    }
    return rows.map((m) => ({ ...m, tags: byDigest.get(m.digest) ?? [] }));
  }

  async listReferrers(repoId: string, subject: string): Promise<ManifestRow[]> {
    const rows = await this.db.all<RawManifest>(`SELECT ${MANIFEST_COLUMNS} FROM manifests m WHERE m.repo_id = ? AND m.subject = ? ORDER BY m.digest`, [
      repoId,
      subject,
    ]);
    return rows.map((r) => this.manifestRow(r));
  }

  async missingManifests(repoId: string, digests: string[]): Promise<string[]> {
    if (digests.length === 0) return [];
    const found = new Set<string>();
    for (let i = 0; i < digests.length; i += 500) {
      const chunk = digests.slice(i, i + 500);
      const rows = await this.db.all<{ digest: string }>(
        `SELECT digest FROM manifests WHERE repo_id = ? AND digest IN (${placeholders(chunk.length)})`,
        [repoId, ...chunk],
      );
      for (const r of rows) found.add(r.digest);
    }
    return digests.filter((d) => !found.has(d));
  }

  /** Whether another manifest in the repository lists this one as a child (an index does). */
  async isReferencedManifest(repoId: string, digest: string): Promise<boolean> {
    const r = await this.db.get('SELECT 1 AS x FROM manifest_refs WHERE repo_id = ? AND child = ? AND kind = ? LIMIT 1', [repoId, digest, 'manifest']);
    return r !== undefined;
  }

  /**
   * Moves an ACTIVE image into the archive at `at`. False when it is not there or not ACTIVE, so
   * of two callers archiving the same image at once exactly one succeeds.
   */
  async archiveManifest(repoId: string, digest: string, at: number): Promise<boolean> {
    const { changes } = await this.db.run(
      "UPDATE manifests SET image_status = 'ARCHIVED', last_archived_at = ? WHERE repo_id = ? AND digest = ? AND image_status = 'ACTIVE'",
      [at, repoId, digest],
    );
    return changes > 0;
  }

  /**
   * Starts restoring an ARCHIVED image: it is ACTIVATING (still not pullable) until
   * `finishActivation`. False when it is not there or not ARCHIVED.
   */
  async startActivation(repoId: string, digest: string): Promise<boolean> {
    const { changes } = await this.db.run("UPDATE manifests SET image_status = 'ACTIVATING' WHERE repo_id = ? AND digest = ? AND image_status = 'ARCHIVED'", [repoId, digest]);
    return changes > 0;
  }

  /** Completes the restore of an ACTIVATING image at `at`. False when it is not there or not ACTIVATING. */
  async finishActivation(repoId: string, digest: string, at: number): Promise<boolean> {
    const { changes } = await this.db.run(
      "UPDATE manifests SET image_status = 'ACTIVE', last_activated_at = ? WHERE repo_id = ? AND digest = ? AND image_status = 'ACTIVATING'",
      [at, repoId, digest],
    );
    return changes > 0;
  }

  /** Brings an archived (or activating) image back to ACTIVE at `at` (a push does). False when it is not there or already ACTIVE. */
  async activateManifest(repoId: string, digest: string, at: number): Promise<boolean> {
    const { changes } = await this.db.run(
      "UPDATE manifests SET image_status = 'ACTIVE', last_activated_at = ? WHERE repo_id = ? AND digest = ? AND image_status <> 'ACTIVE'",
      [at, repoId, digest],
    );
    return changes > 0;
  }

  /** Whether an index of the repository that is not archived (ACTIVE, or being restored) lists this manifest. */
  async isReferencedByActiveManifest(repoId: string, digest: string): Promise<boolean> {
    const r = await this.db.get(
      "SELECT 1 AS x FROM manifest_refs r JOIN manifests m ON m.repo_id = r.repo_id AND m.digest = r.digest WHERE r.repo_id = ? AND r.child = ? AND r.kind = 'manifest' AND m.image_status <> 'ARCHIVED' LIMIT 1",
      [repoId, digest],
    );
    return r !== undefined;
  }

  async recordPulls(pulls: Array<{ repoId: string; digest: string; at: number }>): Promise<void> {
    for (const p of pulls) {
      await this.db.run('UPDATE manifests SET last_pulled_at = ? WHERE repo_id = ? AND digest = ?', [p.at, p.repoId, p.digest]);
    }
  }

  // ---- garbage collection support ------------------------------------------------------------
  async allBlobDigests(): Promise<Array<{ digest: string; createdAt: number }>> {
    const rows = await this.db.all<{ digest: string; created_at: number | string }>('SELECT digest, created_at FROM blobs');
    return rows.map((r) => ({ digest: r.digest, createdAt: Number(r.created_at) }));
  }

  /** (index digest, child manifest digest) pairs of the repository: what image sizes of indexes need. */
  async listIndexChildren(repoId: string): Promise<Array<{ digest: string; child: string }>> {
    return this.db.all<{ digest: string; child: string }>("SELECT digest, child FROM manifest_refs WHERE repo_id = ? AND kind = 'manifest'", [repoId]);
  }

  /** Manifests of the repository that some index in it lists. */
  async listIndexedManifests(repoId: string): Promise<Set<string>> {
    const rows = await this.db.all<{ child: string }>("SELECT DISTINCT child FROM manifest_refs WHERE repo_id = ? AND kind = 'manifest'", [repoId]);
    return new Set(rows.map((r) => r.child));
  }

  /** Whether some manifest of the repository lists the blob as a layer or config. */
  /** The body of one manifest of the repository that lists the blob, if any does. */
  async manifestListingBlob(repoId: string, digest: string): Promise<Buffer | undefined> {
    const r = await this.db.get<{ body: Buffer; digest: string }>(
      "SELECT m.body, m.digest FROM manifest_refs r JOIN manifests m ON m.repo_id = r.repo_id AND m.digest = r.digest WHERE r.repo_id = ? AND r.child = ? AND r.kind = 'blob' LIMIT 1",
      [repoId, digest],
    );
    return r && this.bodies.open(Buffer.from(r.body), r.digest);
  }

  /** Whether manifests of the repository list the blob and every one of them is archived. */
  async isBlobOnlyInArchivedImages(repoId: string, digest: string): Promise<boolean> {
    const r = await this.db.get<{ archived: number | string | null; active: number | string | null }>(
      `SELECT SUM(CASE WHEN m.image_status = 'ACTIVE' THEN 0 ELSE 1 END) AS archived, SUM(CASE WHEN m.image_status = 'ACTIVE' THEN 1 ELSE 0 END) AS active
       FROM manifest_refs r JOIN manifests m ON m.repo_id = r.repo_id AND m.digest = r.digest
       WHERE r.repo_id = ? AND r.child = ? AND r.kind = 'blob'`,
      [repoId, digest],
    );
    return Number(r?.archived ?? 0) > 0 && Number(r?.active ?? 0) === 0;
  }

  async isBlobReferenced(repoId: string, digest: string): Promise<boolean> {
    const r = await this.db.get("SELECT 1 AS x FROM manifest_refs WHERE repo_id = ? AND child = ? AND kind = 'blob' LIMIT 1", [repoId, digest]);
    return r !== undefined;
  }

  // ---- accounts -----------------------------------------------------------------------------
  /** The default account's id, created (with `newId`) by the first caller on an empty database. */
  async ensureDefaultAccount(newId: () => string, region: string): Promise<string> {
    return this.transaction(async (tx) => {
      const existing = await tx.getSetting('default_account_id');
      if (existing) return existing;
      const id = newId();
      await tx.db.run('INSERT INTO accounts (id, region, created_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING', [id, region, Date.now()]);
      await tx.setSetting('default_account_id', id);
      return id;
    });
  }
}
