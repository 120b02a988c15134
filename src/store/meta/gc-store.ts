import type { SqlDb } from './sql.js';

const NO_LINK = 'NOT EXISTS (SELECT 1 FROM repo_blobs l WHERE l.digest = b.digest)';
const NO_REF = 'NOT EXISTS (SELECT 1 FROM manifest_refs r WHERE r.child = b.digest)';
const LINK_UNUSED = 'NOT EXISTS (SELECT 1 FROM manifest_refs r WHERE r.repo_id = repo_blobs.repo_id AND r.child = repo_blobs.digest)';

/**
 * The queries of garbage collection. Every delete is one statement that re-checks its condition,
 * so it cannot race a concurrent push.
 */
export class GcStore {
  constructor(private readonly db: SqlDb) {}

  /** Re-links blobs a manifest lists but its repository lost the link to (a push that raced a sweep). */
  async restoreMissingLinks(now: number): Promise<number> {
    const { changes } = await this.db.run(
      `INSERT INTO repo_blobs (repo_id, digest, created_at)
       SELECT DISTINCT r.repo_id, r.child, CAST(? AS BIGINT) FROM manifest_refs r JOIN blobs b ON b.digest = r.child
       WHERE r.kind = 'blob' AND NOT EXISTS (SELECT 1 FROM repo_blobs l WHERE l.repo_id = r.repo_id AND l.digest = r.child)`,
      [now],
    );
    return changes;
  }

  /** Blobs older than `cutoff` that no repository links and no manifest references. */
  async unreferencedBlobs(cutoff: number): Promise<Array<{ digest: string; size: number }>> {
    const rows = await this.db.all<{ digest: string; size: number | string }>(
      `SELECT b.digest, b.size FROM blobs b WHERE b.created_at < ? AND ${NO_LINK} AND ${NO_REF}`,
      [cutoff],
    );
    return rows.map((r) => ({ digest: r.digest, size: Number(r.size) }));
  }

  /** Deletes the blob's row if it is still unreferenced and older than `cutoff`. */
  async deleteUnreferencedBlob(digest: string, cutoff: number): Promise<boolean> {
    const noLink = NO_LINK.replaceAll('b.digest', 'blobs.digest');
    const noRef = NO_REF.replaceAll('b.digest', 'blobs.digest');
    const { changes } = await this.db.run(`DELETE FROM blobs WHERE digest = ? AND created_at < ? AND ${noLink} AND ${noRef}`, [digest, cutoff]);
    // Its bytes go next; the wrapped data keys of an encrypted blob go with its row.
    if (changes > 0) await this.db.run('DELETE FROM blob_data_keys WHERE digest = ?', [digest]);
    return changes > 0;
  }

  /** Links older than `cutoff` that no manifest of their repository lists. */
  async unusedLinks(cutoff: number): Promise<Array<{ repoId: string; digest: string }>> {
    const rows = await this.db.all<{ repo_id: string; digest: string }>(`SELECT repo_id, digest FROM repo_blobs WHERE created_at < ? AND ${LINK_UNUSED}`, [cutoff]);
    return rows.map((r) => ({ repoId: r.repo_id, digest: r.digest }));
  }

  async deleteUnusedLink(repoId: string, digest: string, cutoff: number): Promise<boolean> {
    const { changes } = await this.db.run(`DELETE FROM repo_blobs WHERE repo_id = ? AND digest = ? AND created_at < ? AND ${LINK_UNUSED}`, [repoId, digest, cutoff]);
    return changes > 0;
  }

  /** When a blob file without a row was first seen, or undefined. */
  async orphanFirstSeen(digest: string): Promise<number | undefined> {
    const r = await this.db.get<{ first_seen_at: number | string }>("SELECT first_seen_at FROM gc_orphan_files WHERE kind = 'blob' AND name = ?", [digest]);
    return r && Number(r.first_seen_at);
  }

  async noteOrphan(digest: string, now: number): Promise<void> {
    await this.db.run("INSERT INTO gc_orphan_files (kind, name, first_seen_at) VALUES ('blob', ?, ?) ON CONFLICT (kind, name) DO NOTHING", [digest, now]);
  }

  async forgetOrphan(digest: string): Promise<void> {
    await this.db.run("DELETE FROM gc_orphan_files WHERE kind = 'blob' AND name = ?", [digest]);
  }

  async listOrphans(): Promise<string[]> {
    return (await this.db.all<{ name: string }>("SELECT name FROM gc_orphan_files WHERE kind = 'blob'")).map((r) => r.name);
  }

  /** Deletes the upload's row if it has been idle since before `cutoff`. */
  async deleteIdleUpload(id: string, cutoff: number): Promise<boolean> {
    const { changes } = await this.db.run('DELETE FROM uploads WHERE id = ? AND updated_at < ?', [id, cutoff]);
    return changes > 0;
  }

  /**
   * Drops the row (and links) of a blob whose file is gone, unless a manifest references it.
   * Returns 'referenced' when one does: a push raced the sweep.
   */
  async forgetBlobWithoutFile(digest: string): Promise<'forgotten' | 'referenced'> {
    return this.db.transaction(async (tx) => {
      if (await tx.get('SELECT 1 AS x FROM manifest_refs WHERE child = ? LIMIT 1', [digest])) return 'referenced';
      await tx.run('DELETE FROM repo_blobs WHERE digest = ?', [digest]);
      await tx.run('DELETE FROM blobs WHERE digest = ?', [digest]);
      return 'forgotten';
    });
  }
}
