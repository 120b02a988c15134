import type { SqlDb } from './sql.js';

/** Whose usage a row is: a repository of a registry (an account, or an account's public namespace) in a region. */
export interface UsageKey {
  registryId: string;
  region: string;
  repositoryName: string;
}

/** Counter increments for one repository and hour (epoch ms of the hour's start). */
export interface UsageCounts extends UsageKey {
  hour: number;
  transferOutBytes: number;
  pushCount: number;
  pullCount: number;
}

/**
 * Storage held by one repository in one hour, as integrated between two samples: in the standard
 * storage class (`byteHours`, `bytes`) and in the archive (`archiveByteHours`, `archiveBytes`).
 */
export interface StorageHour extends UsageKey {
  hour: number;
  byteHours: number;
  archiveByteHours: number;
  /** The bytes held as of `sampledAt`; the row keeps the latest. */
  bytes: number;
  archiveBytes: number;
  sampledAt: number;
}

/** A repository's latest storage sample, where the next integration starts. */
export interface StorageMark extends UsageKey {
  sampledAt: number;
  bytes: number;
  archiveBytes: number;
}

/** The bytes a repository holds in each storage class. */
export interface StoredBytes {
  registryId: string;
  repositoryName: string;
  /** Standard storage: what active images use, and blobs no image uses. */
  bytes: number;
  /** Archive storage: archived images (and those being restored) and the blobs only they use. */
  archiveBytes: number;
}

/** One repository's usage summed over a period. */
export interface UsageTotals extends UsageKey {
  storageByteHours: number;
  /** The bytes held at the period's latest storage sample; 0 when none fell in it. */
  storageBytes: number;
  archiveStorageByteHours: number;
  /** The archive bytes held at the period's latest storage sample. */
  archiveStorageBytes: number;
  transferOutBytes: number;
  pushCount: number;
  pullCount: number;
}

interface TotalsRow {
  registry_id: string;
  region: string;
  repository_name: string;
  byte_hours: number | string | null;
  archive_byte_hours: number | string | null;
  transfer_out_bytes: number | string | null;
  push_count: number | string | null;
  pull_count: number | string | null;
}

/** Hourly usage rows, written by upserts that add, so several nodes can meter at once. */
export class UsageStore {
  constructor(private readonly db: SqlDb) {}

  /** Adds each row's counters to its hour (creating the row); each row is one atomic upsert. Call it in a transaction to write a batch at once. */
  async addCounts(rows: UsageCounts[]): Promise<void> {
    for (const r of rows) {
      await this.db.run(
        `INSERT INTO usage_hours (registry_id, region, repository_name, hour, transfer_out_bytes, push_count, pull_count)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (registry_id, region, repository_name, hour) DO UPDATE SET
           transfer_out_bytes = usage_hours.transfer_out_bytes + excluded.transfer_out_bytes,
           push_count = usage_hours.push_count + excluded.push_count,
           pull_count = usage_hours.pull_count + excluded.pull_count`,
        [r.registryId, r.region, r.repositoryName, r.hour, r.transferOutBytes, r.pushCount, r.pullCount],
      );
    }
  }

  /** Adds storage byte-hours to each hour; the hour keeps the bytes of its latest sample. */
  async addStorage(rows: StorageHour[]): Promise<void> {
    for (const r of rows) {
      await this.db.run(
        `INSERT INTO usage_hours (registry_id, region, repository_name, hour, storage_byte_hours, storage_bytes, archive_storage_byte_hours, archive_storage_bytes, storage_sampled_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (registry_id, region, repository_name, hour) DO UPDATE SET
           storage_byte_hours = usage_hours.storage_byte_hours + excluded.storage_byte_hours,
           archive_storage_byte_hours = usage_hours.archive_storage_byte_hours + excluded.archive_storage_byte_hours,
           storage_bytes = CASE WHEN usage_hours.storage_sampled_at IS NULL OR excluded.storage_sampled_at >= usage_hours.storage_sampled_at
                                THEN excluded.storage_bytes ELSE usage_hours.storage_bytes END,
           archive_storage_bytes = CASE WHEN usage_hours.storage_sampled_at IS NULL OR excluded.storage_sampled_at >= usage_hours.storage_sampled_at
                                THEN excluded.archive_storage_bytes ELSE usage_hours.archive_storage_bytes END,
           storage_sampled_at = CASE WHEN usage_hours.storage_sampled_at IS NULL OR excluded.storage_sampled_at >= usage_hours.storage_sampled_at
                                THEN excluded.storage_sampled_at ELSE usage_hours.storage_sampled_at END`,
        [r.registryId, r.region, r.repositoryName, r.hour, r.byteHours, r.bytes, r.archiveByteHours, r.archiveBytes, r.sampledAt],
      );
    }
  }

  /**
   * The bytes each repository holds, as ECR bills storage: every blob it links (layers and
   * configs) once, however many of its images share it, plus its manifests. A manifest is in the
   * archive when its image is not ACTIVE (archived, or still being restored); a blob when images
   * use it and every one of them is in the archive. Everything else is standard storage.
   */
  async storedBytes(): Promise<StoredBytes[]> {
    const rows = await this.db.all<{
      registry_id: string;
      name: string;
      blob_bytes: number | string | null;
      archive_blob_bytes: number | string | null;
      manifest_bytes: number | string | null;
      archive_manifest_bytes: number | string | null;
    }>(
      `SELECT r.registry_id, r.name,
              (SELECT SUM(b.size) FROM repo_blobs rb JOIN blobs b ON b.digest = rb.digest WHERE rb.repo_id = r.id) AS blob_bytes,
              (SELECT SUM(b.size) FROM repo_blobs rb JOIN blobs b ON b.digest = rb.digest
                WHERE rb.repo_id = r.id
                  AND EXISTS (SELECT 1 FROM manifest_refs mr WHERE mr.repo_id = r.id AND mr.child = rb.digest AND mr.kind = 'blob')
                  AND NOT EXISTS (SELECT 1 FROM manifest_refs mr JOIN manifests m ON m.repo_id = mr.repo_id AND m.digest = mr.digest
                                   WHERE mr.repo_id = r.id AND mr.child = rb.digest AND mr.kind = 'blob' AND m.image_status = 'ACTIVE')) AS archive_blob_bytes,
              (SELECT SUM(m.size) FROM manifests m WHERE m.repo_id = r.id) AS manifest_bytes,
              (SELECT SUM(m.size) FROM manifests m WHERE m.repo_id = r.id AND m.image_status <> 'ACTIVE') AS archive_manifest_bytes
         FROM repositories r
        ORDER BY r.registry_id, r.name`,
    );
    return rows.map((r) => {
      const archiveBytes = Number(r.archive_blob_bytes ?? 0) + Number(r.archive_manifest_bytes ?? 0);
      return { registryId: r.registry_id, repositoryName: r.name, bytes: Number(r.blob_bytes ?? 0) + Number(r.manifest_bytes ?? 0) - archiveBytes, archiveBytes };
    });
  }

  async storageMarks(region: string): Promise<StorageMark[]> {
    const rows = await this.db.all<{ registry_id: string; region: string; repository_name: string; sampled_at: number | string; bytes: number | string; archive_bytes: number | string }>(
      'SELECT registry_id, region, repository_name, sampled_at, bytes, archive_bytes FROM usage_storage_marks WHERE region = ? ORDER BY registry_id, repository_name',
      [region],
    );
    return rows.map((r) => ({
      registryId: r.registry_id,
      region: r.region,
      repositoryName: r.repository_name,
      sampledAt: Number(r.sampled_at),
      bytes: Number(r.bytes),
      archiveBytes: Number(r.archive_bytes),
    }));
  }

  async setStorageMark(mark: StorageMark): Promise<void> {
    await this.db.run(
      `INSERT INTO usage_storage_marks (registry_id, region, repository_name, sampled_at, bytes, archive_bytes) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (registry_id, region, repository_name) DO UPDATE SET sampled_at = excluded.sampled_at, bytes = excluded.bytes, archive_bytes = excluded.archive_bytes`,
      [mark.registryId, mark.region, mark.repositoryName, mark.sampledAt, mark.bytes, mark.archiveBytes],
    );
  }

  async deleteStorageMark(key: UsageKey): Promise<void> {
    await this.db.run('DELETE FROM usage_storage_marks WHERE registry_id = ? AND region = ? AND repository_name = ?', [key.registryId, key.region, key.repositoryName]);
  }

  /** Deletes the rows of hours before `before` (epoch ms); returns how many. */
  async prune(before: number): Promise<number> {
    return (await this.db.run('DELETE FROM usage_hours WHERE hour < ?', [before])).changes;
  }

  /** Each repository's usage over the hours in [from, to) (epoch ms), for repositories with a row in them. */
  async totals(from: number, to: number): Promise<UsageTotals[]> {
    const sums = await this.db.all<TotalsRow>(
      `SELECT registry_id, region, repository_name,
              SUM(storage_byte_hours) AS byte_hours, SUM(archive_storage_byte_hours) AS archive_byte_hours, SUM(transfer_out_bytes) AS transfer_out_bytes,
              SUM(push_count) AS push_count, SUM(pull_count) AS pull_count
         FROM usage_hours
        WHERE hour >= ? AND hour < ?
        GROUP BY registry_id, region, repository_name
        ORDER BY registry_id, region, repository_name`,
      [from, to],
    );
    const latest = await this.db.all<{ registry_id: string; region: string; repository_name: string; storage_bytes: number | string; archive_storage_bytes: number | string | null }>(
      `SELECT u.registry_id, u.region, u.repository_name, u.storage_bytes, u.archive_storage_bytes
         FROM usage_hours u
        WHERE u.hour >= ? AND u.hour < ? AND u.storage_sampled_at = (
              SELECT MAX(v.storage_sampled_at) FROM usage_hours v
               WHERE v.registry_id = u.registry_id AND v.region = u.region AND v.repository_name = u.repository_name
                 AND v.hour >= ? AND v.hour < ?)`,
      [from, to, from, to],
    );
    const keyOf = (r: { registry_id: string; region: string; repository_name: string }) => `${r.registry_id}\n${r.region}\n${r.repository_name}`;
    const bytesHeld = new Map(latest.map((r) => [keyOf(r), { bytes: Number(r.storage_bytes), archiveBytes: Number(r.archive_storage_bytes ?? 0) }]));
    return sums.map((r) => ({
      registryId: r.registry_id,
      region: r.region,
      repositoryName: r.repository_name,
      storageByteHours: Number(r.byte_hours ?? 0),
      storageBytes: bytesHeld.get(keyOf(r))?.bytes ?? 0,
      archiveStorageByteHours: Number(r.archive_byte_hours ?? 0),
      archiveStorageBytes: bytesHeld.get(keyOf(r))?.archiveBytes ?? 0,
      transferOutBytes: Number(r.transfer_out_bytes ?? 0),
      pushCount: Number(r.push_count ?? 0),
      pullCount: Number(r.pull_count ?? 0),
    }));
  }

  /** The hourly rows of one repository in [from, to), oldest first (for charts and checks). */
  async hours(key: UsageKey, from: number, to: number): Promise<Array<StorageHour & Omit<UsageCounts, keyof UsageKey | 'hour'>>> {
    const rows = await this.db.all<{
      hour: number | string;
      storage_byte_hours: number | string;
      storage_bytes: number | string | null;
      archive_storage_byte_hours: number | string;
      archive_storage_bytes: number | string | null;
      storage_sampled_at: number | string | null;
      transfer_out_bytes: number | string;
      push_count: number | string;
      pull_count: number | string;
    }>(
      `SELECT hour, storage_byte_hours, storage_bytes, archive_storage_byte_hours, archive_storage_bytes, storage_sampled_at, transfer_out_bytes, push_count, pull_count
         FROM usage_hours
        WHERE registry_id = ? AND region = ? AND repository_name = ? AND hour >= ? AND hour < ?
        ORDER BY hour`,
      [key.registryId, key.region, key.repositoryName, from, to],
    );
    return rows.map((r) => ({
      ...key,
      hour: Number(r.hour),
      byteHours: Number(r.storage_byte_hours),
      bytes: Number(r.storage_bytes ?? 0),
      archiveByteHours: Number(r.archive_storage_byte_hours),
      archiveBytes: Number(r.archive_storage_bytes ?? 0),
      sampledAt: Number(r.storage_sampled_at ?? 0),
      transferOutBytes: Number(r.transfer_out_bytes),
      pushCount: Number(r.push_count),
      pullCount: Number(r.pull_count),
    }));
  }
}
