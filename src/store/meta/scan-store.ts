import type { SqlDb } from './sql.js';

/** One OSV record as stored: its body, and the (ecosystem, name) pairs it affects, for lookups. */
export interface VulnRecordRow {
  id: string;
  /** Epoch ms of the record's `modified`. */
  modified: number;
  /** Where it came from: a file, zip or URL name, or a converter (`debian-tracker`, `alpine-secdb`). */
  source: string;
  body: string;
  affected: Array<{ ecosystem: string; name: string }>;
}

export interface ImportCounts {
  added: number;
  replaced: number;
  /** Records whose stored copy is as new or newer (same or later `modified`). */
  unchanged: number;
}

export interface VulnDbStatus {
  records: number;
  ecosystems: Array<{ ecosystem: string; records: number }>;
  sources: Array<{ source: string; records: number }>;
  /** The newest `modified` of its records: how current the database is (null when empty). */
  newestModified: number | null;
  /** When records were last imported (or fetched by update); null when never. */
  updatedAt: number | null;
}

export type ScanStatus = 'PENDING' | 'IN_PROGRESS' | 'COMPLETE' | 'FAILED' | 'UNSUPPORTED_IMAGE';

export interface ImageScanRow {
  repoId: string;
  digest: string;
  status: ScanStatus;
  description: string | null;
  scanType: 'BASIC' | 'ENHANCED';
  requestedAt: number;
  completedAt: number | null;
  vulnSourceUpdatedAt: number | null;
  /** Findings per severity of a completed scan; null before one completed. */
  counts: Record<string, number> | null;
}

/** A scan's whole result (findings and counts) as the scanner stored it, JSON. */
export interface StoredScanResult {
  completedAt: number | null;
  json: string;
}

interface RawScan {
  repo_id: string;
  digest: string;
  status: ScanStatus;
  description: string | null;
  scan_type: 'BASIC' | 'ENHANCED';
  requested_at: number | string;
  completed_at: number | string | null;
  vuln_source_updated_at: number | string | null;
  finding_counts: string | null;
  /** The whole result, selected only for rows stored before `finding_counts` existed. */
  legacy_result: string | null;
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

function toScan(r: RawScan): ImageScanRow {
  return {
    repoId: r.repo_id,
    digest: r.digest,
    status: r.status,
    description: r.description,
    scanType: r.scan_type,
    requestedAt: Number(r.requested_at),
    completedAt: num(r.completed_at),
    vulnSourceUpdatedAt: num(r.vuln_source_updated_at),
    counts: countsOf(r),
  };
}

function countsOf(r: RawScan): Record<string, number> | null {
  if (r.finding_counts !== null) return JSON.parse(r.finding_counts) as Record<string, number>;
  if (r.legacy_result === null) return null;
  return ((JSON.parse(r.legacy_result) as { counts?: Record<string, number> }).counts ?? {});
}

/** Every column of a scan but its result, which is read only for rows that lack their counts. */
const SCAN_COLUMNS = `repo_id, digest, status, description, scan_type, requested_at, completed_at, vuln_source_updated_at, finding_counts,
  CASE WHEN finding_counts IS NULL THEN result END AS legacy_result`;

function placeholders(n: number): string {
  return new Array(n).fill('?').join(', ');
}

const UPDATED_AT_KEY = 'vulndb:updated_at';
const LOOKUP_CHUNK = 500;

/** The distinct `keys` in lists of at most LOOKUP_CHUNK, one `IN (…)` lookup each. */
function lookupChunks(keys: string[]): string[][] {
  const unique = [...new Set(keys)];
  const chunks: string[][] = [];
  for (let i = 0; i < unique.length; i += LOOKUP_CHUNK) chunks.push(unique.slice(i, i + LOOKUP_CHUNK));
  return chunks;
}
/** Rows per multi-row statement (PostgreSQL): 5 parameters each, 5,000 a statement. */
const WRITE_CHUNK = 1000;

/**
 * SQLite runs in this process: one cached statement per row is its cheapest way, no SQL to build
 * or parse per batch. PostgreSQL pays a round trip per statement: rows go in multi-row statements.
 */
const rowByRow = (db: SqlDb) => db.dialect === 'sqlite';

/** The stored `modified` of each of `ids` that has a record. */
async function storedModified(tx: SqlDb, ids: string[]): Promise<Map<string, number>> {
  const stored = new Map<string, number>();
  if (rowByRow(tx)) {
    for (const id of ids) {
      const row = await tx.get<{ modified: number }>('SELECT modified FROM vuln_records WHERE id = ?', [id]);
      if (row) stored.set(id, Number(row.modified));
    }
    return stored;
  }
  for (let i = 0; i < ids.length; i += LOOKUP_CHUNK) {
    const chunk = ids.slice(i, i + LOOKUP_CHUNK);
    const rows = await tx.all<{ id: string; modified: number | string }>(`SELECT id, modified FROM vuln_records WHERE id IN (${placeholders(chunk.length)})`, chunk);
    for (const r of rows) stored.set(r.id, Number(r.modified));
  }
  return stored;
}

async function deleteRecords(tx: SqlDb, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += LOOKUP_CHUNK) {
    const chunk = ids.slice(i, i + LOOKUP_CHUNK);
    await tx.run(`DELETE FROM vuln_affected WHERE vuln_id IN (${placeholders(chunk.length)})`, chunk);
    await tx.run(`DELETE FROM vuln_records WHERE id IN (${placeholders(chunk.length)})`, chunk);
  }
}

/** A record's lookup keys, each (ecosystem, name) once. */
function affectedRows(r: VulnRecordRow): Array<[string, string, string]> {
  return [...new Map(r.affected.map((a) => [`${a.ecosystem}\0${a.name}`, [a.ecosystem, a.name, r.id] as [string, string, string]])).values()];
}

async function insertRecords(tx: SqlDb, rows: VulnRecordRow[], now: number): Promise<void> {
  if (rowByRow(tx)) {
    for (const r of rows) {
      await tx.run('INSERT INTO vuln_records (id, modified, source, body, imported_at) VALUES (?, ?, ?, ?, ?)', [r.id, r.modified, r.source, r.body, now]);
      for (const key of affectedRows(r)) await tx.run('INSERT INTO vuln_affected (ecosystem, name, vuln_id) VALUES (?, ?, ?)', key);
    }
    return;
  }
  for (let i = 0; i < rows.length; i += WRITE_CHUNK) {
    const chunk = rows.slice(i, i + WRITE_CHUNK);
    await tx.run(
      `INSERT INTO vuln_records (id, modified, source, body, imported_at) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?)').join(', ')}`,
      chunk.flatMap((r) => [r.id, r.modified, r.source, r.body, now]),
    );
  }
  const keys = rows.flatMap(affectedRows);
  for (let k = 0; k < keys.length; k += WRITE_CHUNK) {
    const part = keys.slice(k, k + WRITE_CHUNK);
    await tx.run(`INSERT INTO vuln_affected (ecosystem, name, vuln_id) VALUES ${part.map(() => '(?, ?, ?)').join(', ')}`, part.flat());
  }
}

/** The scanner's state: vulnerability records, cached layer facts, image scans. */
export class ScanStore {
  constructor(private readonly db: SqlDb) {}

  // ---- vulnerability database ------------------------------------------------------------------
  /**
   * Stores the records in one transaction: a record replaces the stored one with its id only when
   * its `modified` is later, so importing an older copy again never rolls a record back.
   */
  async importRecords(records: VulnRecordRow[], now = Date.now()): Promise<ImportCounts> {
    const counts: ImportCounts = { added: 0, replaced: 0, unchanged: 0 };
    // The last copy of an id within the batch stands for it, as if imported one after another.
    const latest = new Map<string, VulnRecordRow>();
    for (const r of records) {
      const seen = latest.get(r.id);
      if (seen && seen.modified >= r.modified) counts.unchanged++;
      else {
        if (seen) counts.unchanged++;
        latest.set(r.id, r);
      }
    }
    const batch = [...latest.values()];
    await this.db.transaction(async (tx) => {
      const stored = await storedModified(tx, batch.map((r) => r.id));
      const fresh: VulnRecordRow[] = [];
      const newer: VulnRecordRow[] = [];
      for (const r of batch) {
        const modified = stored.get(r.id);
        if (modified === undefined) fresh.push(r);
        else if (modified < r.modified) newer.push(r);
        else counts.unchanged++;
      }
      counts.added += fresh.length;
      counts.replaced += newer.length;
      if (newer.length > 0) await deleteRecords(tx, newer.map((r) => r.id));
      await insertRecords(tx, [...fresh, ...newer], now);
      await tx.run('INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v', [UPDATED_AT_KEY, String(now)]);
    });
    return counts;
  }

  /** Record bodies affecting any of `names` in `ecosystem`, with the name each was found under. */
  async recordsFor(ecosystem: string, names: string[]): Promise<Array<{ name: string; body: string }>> {
    return this.affecting<{ name: string; body: string }>('a.name, r.body', ecosystem, names);
  }

  /** Which records (id and `modified`) affect any of `names` in `ecosystem`, with the name each was found under. */
  async recordKeysFor(ecosystem: string, names: string[]): Promise<Array<{ name: string; id: string; modified: number }>> {
    const rows = await this.affecting<{ name: string; id: string; modified: number | string }>('a.name, r.id, r.modified', ecosystem, names);
    return rows.map((r) => ({ name: r.name, id: r.id, modified: Number(r.modified) }));
  }

  /** The bodies (and `modified`) of the records with these ids; ids not stored are left out. */
  async recordBodies(ids: string[]): Promise<Array<{ id: string; modified: number; body: string }>> {
    const out: Array<{ id: string; modified: number; body: string }> = [];
    for (const chunk of lookupChunks(ids)) {
      const rows = await this.db.all<{ id: string; modified: number | string; body: string }>(
        `SELECT id, modified, body FROM vuln_records WHERE id IN (${placeholders(chunk.length)})`,
        chunk,
      );
      for (const r of rows) out.push({ id: r.id, modified: Number(r.modified), body: r.body });
    }
    return out;
  }

  /**
   * The distinct ecosystems starting with `prefix`, one index seek each (a loose index scan): a
   * family of products can have millions of lookup rows. Text compares bytewise on both databases.
   */
  async ecosystemsStartingWith(prefix: string): Promise<string[]> {
    if (prefix === '') throw new Error('ecosystemsStartingWith needs a prefix');
    const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    const rows = await this.db.all<{ ecosystem: string }>(
      `WITH RECURSIVE found(ecosystem) AS (
         SELECT MIN(ecosystem) FROM vuln_affected WHERE ecosystem >= ? AND ecosystem < ?
         UNION ALL
         SELECT (SELECT MIN(ecosystem) FROM vuln_affected WHERE ecosystem > found.ecosystem AND ecosystem < ?) FROM found WHERE found.ecosystem IS NOT NULL
       )
       SELECT ecosystem FROM found WHERE ecosystem IS NOT NULL`,
      [prefix, end, end],
    );
    return rows.map((r) => r.ecosystem);
  }

  /** `columns` of the records affecting any of `names` in `ecosystem` (`a` the lookup row, `r` the record). */
  private async affecting<T>(columns: string, ecosystem: string, names: string[]): Promise<T[]> {
    const out: T[] = [];
    for (const chunk of lookupChunks(names)) {
      const rows = await this.db.all<T>(
        `SELECT ${columns} FROM vuln_affected a JOIN vuln_records r ON r.id = a.vuln_id
         WHERE a.ecosystem = ? AND a.name IN (${placeholders(chunk.length)}) ORDER BY a.name, r.id`,
        [ecosystem, ...chunk],
      );
      out.push(...rows);
    }
    return out;
  }

  async getRecord(id: string): Promise<string | undefined> {
    return (await this.db.get<{ body: string }>('SELECT body FROM vuln_records WHERE id = ?', [id]))?.body;
  }

  /**
   * What every scan needs to know of the database, without counting it: whether it holds records,
   * and the newest `modified` among them (how current its advisories are; null when empty).
   */
  async vulnDbFreshness(): Promise<{ empty: boolean; newestModified: number | null }> {
    const row = await this.db.get<{ m: number | string | null }>('SELECT MAX(modified) AS m FROM vuln_records');
    const newestModified = num(row?.m ?? null);
    return { empty: newestModified === null, newestModified };
  }

  async vulnDbStatus(): Promise<VulnDbStatus> {
    const total = await this.db.get<{ n: number | string; m: number | string | null }>('SELECT COUNT(*) AS n, MAX(modified) AS m FROM vuln_records');
    const ecosystems = await this.db.all<{ ecosystem: string; n: number | string }>(
      'SELECT ecosystem, COUNT(DISTINCT vuln_id) AS n FROM vuln_affected GROUP BY ecosystem ORDER BY ecosystem',
    );
    const sources = await this.db.all<{ source: string; n: number | string }>('SELECT source, COUNT(*) AS n FROM vuln_records GROUP BY source ORDER BY source');
    const updated = await this.db.get<{ v: string }>('SELECT v FROM kv WHERE k = ?', [UPDATED_AT_KEY]);
    return {
      records: Number(total?.n ?? 0),
      ecosystems: ecosystems.map((e) => ({ ecosystem: e.ecosystem, records: Number(e.n) })),
      sources: sources.map((s) => ({ source: s.source, records: Number(s.n) })),
      newestModified: num(total?.m ?? null),
      updatedAt: updated ? Number(updated.v) : null,
    };
  }

  // ---- per-layer cache ---------------------------------------------------------------------
  async getLayerFacts(digest: string, analyzer: number): Promise<string | undefined> {
    return (await this.db.get<{ facts: string }>('SELECT facts FROM scan_layers WHERE digest = ? AND analyzer = ?', [digest, analyzer]))?.facts;
  }

  /** Caches a layer's facts; facts of an older analyzer for the same layer are dropped. */
  async putLayerFacts(digest: string, analyzer: number, facts: string, now = Date.now()): Promise<void> {
    await this.db.run('INSERT INTO scan_layers (digest, analyzer, facts, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (digest, analyzer) DO NOTHING', [
      digest,
      analyzer,
      facts,
      now,
    ]);
    await this.db.run('DELETE FROM scan_layers WHERE digest = ? AND analyzer <> ?', [digest, analyzer]);
  }

  /**
   * Drops cached facts of layers whose blob is gone: those of `digests` (just deleted), and any
   * cached before `before` whose blob has no row (a scan that read a blob while it was being
   * deleted cached its facts after). Returns how many rows went.
   */
  async forgetLayerFacts(digests: string[], before: number): Promise<number> {
    let removed = 0;
    for (let i = 0; i < digests.length; i += LOOKUP_CHUNK) {
      const chunk = digests.slice(i, i + LOOKUP_CHUNK);
      removed += (await this.db.run(`DELETE FROM scan_layers WHERE digest IN (${placeholders(chunk.length)})`, chunk)).changes;
    }
    const { changes } = await this.db.run('DELETE FROM scan_layers WHERE created_at < ? AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.digest = scan_layers.digest)', [before]);
    return removed + changes;
  }

  // ---- image scans ---------------------------------------------------------------------------
  /**
   * Records a requested scan as PENDING, unless the image was last requested after `notBefore`
   * (ECR's one scan per image per day): then nothing changes and false is returned. One statement,
   * so two requests at once never both pass.
   */
  async requestScan(repoId: string, digest: string, scanType: 'BASIC' | 'ENHANCED', now: number, notBefore: number): Promise<boolean> {
    const { changes } = await this.db.run(
      `INSERT INTO image_scans (repo_id, digest, status, description, scan_type, requested_at) VALUES (?, ?, 'PENDING', NULL, ?, ?)
       ON CONFLICT (repo_id, digest) DO UPDATE SET status = 'PENDING', description = NULL, scan_type = excluded.scan_type, requested_at = excluded.requested_at
       WHERE image_scans.requested_at <= ?`,
      [repoId, digest, scanType, now, notBefore],
    );
    return changes > 0;
  }

  async getScan(repoId: string, digest: string): Promise<ImageScanRow | undefined> {
    const row = await this.db.get<RawScan>(`SELECT ${SCAN_COLUMNS} FROM image_scans WHERE repo_id = ? AND digest = ?`, [repoId, digest]);
    return row && toScan(row);
  }

  /** The scan's stored result (every finding); undefined when there is none. */
  async getScanResult(repoId: string, digest: string): Promise<StoredScanResult | undefined> {
    const row = await this.db.get<{ completed_at: number | string | null; result: string | null }>(
      'SELECT completed_at, result FROM image_scans WHERE repo_id = ? AND digest = ?',
      [repoId, digest],
    );
    return row?.result ? { completedAt: num(row.completed_at), json: row.result } : undefined;
  }

  async listScans(repoId: string, digests: string[]): Promise<ImageScanRow[]> {
    if (digests.length === 0) return [];
    const out: ImageScanRow[] = [];
    for (let i = 0; i < digests.length; i += LOOKUP_CHUNK) {
      const chunk = digests.slice(i, i + LOOKUP_CHUNK);
      const rows = await this.db.all<RawScan>(`SELECT ${SCAN_COLUMNS} FROM image_scans WHERE repo_id = ? AND digest IN (${placeholders(chunk.length)})`, [repoId, ...chunk]);
      out.push(...rows.map(toScan));
    }
    return out;
  }

  /** Scans that finished (complete), for rescanning when the database changes. */
  async listCompletedScans(): Promise<Array<{ repoId: string; digest: string }>> {
    const rows = await this.db.all<{ repo_id: string; digest: string }>("SELECT repo_id, digest FROM image_scans WHERE status = 'COMPLETE' ORDER BY repo_id, digest");
    return rows.map((r) => ({ repoId: r.repo_id, digest: r.digest }));
  }

  /** Moves a scan on; false when its row is gone (the image was deleted meanwhile). */
  async updateScan(
    repoId: string,
    digest: string,
    change: { status: ScanStatus; description?: string | null; completedAt?: number | null; vulnSourceUpdatedAt?: number | null; result?: { counts: Record<string, number> } },
  ): Promise<boolean> {
    const { changes } = await this.db.run(
      `UPDATE image_scans SET status = ?, description = ?, completed_at = ?, vuln_source_updated_at = ?, finding_counts = ?, result = ? WHERE repo_id = ? AND digest = ?`,
      [
        change.status,
        change.description ?? null,
        change.completedAt ?? null,
        change.vulnSourceUpdatedAt ?? null,
        change.result === undefined ? null : JSON.stringify(change.result.counts),
        change.result === undefined ? null : JSON.stringify(change.result),
        repoId,
        digest,
      ],
    );
    return changes > 0;
  }
}
