import type { Logger } from 'pino';
import type { BlobStore } from '../store/blob/blob-store.js';
import type { MetadataStore } from '../store/meta/metadata-store.js';

export interface GcOptions {
  /** Unreferenced things younger than this survive: they may belong to a push in flight. */
  graceMs: number;
  dryRun?: boolean;
  now?: number;
  log?: Logger;
}

export interface GcReport {
  dryRun: boolean;
  blobsDeleted: number;
  bytesFreed: number;
  linksRemoved: number;
  linksRestored: number;
  orphanFilesDeleted: number;
  uploadsRemoved: number;
}

const NO_LINK = 'NOT EXISTS (SELECT 1 FROM repo_blobs l WHERE l.digest = b.digest)';
const NO_REF = 'NOT EXISTS (SELECT 1 FROM manifest_refs r WHERE r.child = b.digest)';
const LINK_UNUSED = 'NOT EXISTS (SELECT 1 FROM manifest_refs r WHERE r.repo_id = repo_blobs.repo_id AND r.child = repo_blobs.digest)';

/**
 * One online mark-and-sweep pass. Manifests are never removed (untagged images stay until a
 * lifecycle rule expires them); what goes is what no manifest needs:
 *  1. links (repo_blobs) older than the grace period that no manifest of their repository lists;
 *  2. blobs older than the grace period with no link and no manifest referencing them — chosen
 *     before step 1 runs, so a blob whose last link goes now is swept one pass later, giving a push
 *     that just checked that link time to commit its manifest;
 *  3. blob files without a row, once seen orphaned for longer than the grace period;
 *  4. uploads idle for longer than the grace period, rows and files.
 * Every delete is one statement that re-checks its condition, so it cannot race a concurrent push.
 */
export async function collectGarbage(meta: MetadataStore, blobs: BlobStore, opts: GcOptions): Promise<GcReport> {
  const now = opts.now ?? Date.now();
  const cutoff = now - opts.graceMs;
  const dryRun = opts.dryRun ?? false;
  const report: GcReport = { dryRun, blobsDeleted: 0, bytesFreed: 0, linksRemoved: 0, linksRestored: 0, orphanFilesDeleted: 0, uploadsRemoved: 0 };

  if (!dryRun) report.linksRestored = await restoreMissingLinks(meta, now);

  const blobCandidates = await meta.db.all<{ digest: string; size: number | string }>(
    `SELECT b.digest, b.size FROM blobs b WHERE b.created_at < ? AND ${NO_LINK} AND ${NO_REF}`,
    [cutoff],
  );

  const staleLinks = await meta.db.all<{ repo_id: string; digest: string }>(
    `SELECT repo_id, digest FROM repo_blobs WHERE created_at < ? AND ${LINK_UNUSED}`,
    [cutoff],
  );
  for (const link of staleLinks) {
    if (dryRun) {
      report.linksRemoved++;
      continue;
    }
    const { changes } = await meta.db.run(`DELETE FROM repo_blobs WHERE repo_id = ? AND digest = ? AND created_at < ? AND ${LINK_UNUSED}`, [
      link.repo_id,
      link.digest,
      cutoff,
    ]);
    report.linksRemoved += changes;
  }

  const deleted: string[] = [];
  for (const blob of blobCandidates) {
    if (!dryRun) {
      const { changes } = await meta.db.run(`DELETE FROM blobs WHERE digest = ? AND created_at < ? AND ${NO_LINK.replaceAll('b.digest', 'blobs.digest')} AND ${NO_REF.replaceAll('b.digest', 'blobs.digest')}`, [
        blob.digest,
        cutoff,
      ]);
      if (changes === 0) continue;
      await blobs.delete(blob.digest);
      deleted.push(blob.digest);
    }
    report.blobsDeleted++;
    report.bytesFreed += Number(blob.size);
  }

  const orphans = await sweepOrphanFiles(meta, blobs, now, cutoff, dryRun);
  report.orphanFilesDeleted = orphans.count;
  report.bytesFreed += orphans.bytes;
  deleted.push(...orphans.digests);

  report.uploadsRemoved = await sweepUploads(meta, blobs, cutoff, dryRun);

  if (!dryRun) await forgetResurrected(meta, blobs, deleted, opts.log);
  opts.log?.info({ event: 'gc.completed', ...report }, 'garbage collection finished');
  return report;
}

/** Re-links blobs a manifest lists but its repository lost the link to (a push that raced step 1). */
async function restoreMissingLinks(meta: MetadataStore, now: number): Promise<number> {
  const { changes } = await meta.db.run(
    `INSERT INTO repo_blobs (repo_id, digest, created_at)
     SELECT DISTINCT r.repo_id, r.child, CAST(? AS BIGINT) FROM manifest_refs r JOIN blobs b ON b.digest = r.child
     WHERE r.kind = 'blob' AND NOT EXISTS (SELECT 1 FROM repo_blobs l WHERE l.repo_id = r.repo_id AND l.digest = r.child)`,
    [now],
  );
  return changes;
}

async function sweepOrphanFiles(
  meta: MetadataStore,
  blobs: BlobStore,
  now: number,
  cutoff: number,
  dryRun: boolean,
): Promise<{ count: number; bytes: number; digests: string[] }> {
  const result = { count: 0, bytes: 0, digests: [] as string[] };
  const seenOrphans = new Set<string>();
  for await (const digest of blobs.list()) {
    if (await meta.getBlob(digest)) continue;
    seenOrphans.add(digest);
    const seen = await meta.db.get<{ first_seen_at: number | string }>("SELECT first_seen_at FROM gc_orphan_files WHERE kind = 'blob' AND name = ?", [digest]);
    if (!seen) {
      if (!dryRun) await meta.db.run("INSERT INTO gc_orphan_files (kind, name, first_seen_at) VALUES ('blob', ?, ?) ON CONFLICT (kind, name) DO NOTHING", [digest, now]);
      continue;
    }
    if (Number(seen.first_seen_at) >= cutoff) continue;
    const size = (await blobs.stat(digest)) ?? 0;
    if (!dryRun) {
      // The row may have appeared since the check above: a finished upload of these very bytes.
      if (await meta.getBlob(digest)) continue;
      await blobs.delete(digest);
      await meta.db.run("DELETE FROM gc_orphan_files WHERE kind = 'blob' AND name = ?", [digest]);
      result.digests.push(digest);
    }
    result.count++;
    result.bytes += size;
  }
  if (!dryRun) {
    // Files that got their row meanwhile are no longer suspects.
    const suspects = await meta.db.all<{ name: string }>("SELECT name FROM gc_orphan_files WHERE kind = 'blob'");
    for (const s of suspects) {
      if (!seenOrphans.has(s.name)) await meta.db.run("DELETE FROM gc_orphan_files WHERE kind = 'blob' AND name = ?", [s.name]);
    }
  }
  return result;
}

async function sweepUploads(meta: MetadataStore, blobs: BlobStore, cutoff: number, dryRun: boolean): Promise<number> {
  const files = new Map<string, number>();
  for await (const f of blobs.listUploads()) files.set(f.id, f.modifiedAt);
  let removed = 0;
  for (const upload of await meta.listUploadsOlderThan(cutoff)) {
    // A chunk still streaming keeps touching the file while the row waits for it to finish.
    if ((files.get(upload.id) ?? 0) >= cutoff) continue;
    if (!dryRun) {
      const { changes } = await meta.db.run('DELETE FROM uploads WHERE id = ? AND updated_at < ?', [upload.id, cutoff]);
      if (changes === 0) continue;
      await blobs.deleteUpload(upload.id);
    }
    files.delete(upload.id);
    removed++;
  }
  for (const [id, modifiedAt] of files) {
    if (modifiedAt >= cutoff || (await meta.getUpload(id))) continue;
    if (!dryRun) await blobs.deleteUpload(id);
    removed++;
  }
  return removed;
}

/**
 * A finished upload of bytes already on disk only drops its staging file and then records the blob,
 * so it can slip between our row check and the file delete. Such a row now points at nothing: drop
 * it (and its links) while no manifest uses it, so the client's next existence check says "upload".
 */
async function forgetResurrected(meta: MetadataStore, blobs: BlobStore, digests: string[], log: Logger | undefined): Promise<void> {
  for (const digest of digests) {
    if (!(await meta.getBlob(digest)) || (await blobs.stat(digest)) !== undefined) continue;
    await meta.transaction(async (tx) => {
      const referenced = await tx.db.get('SELECT 1 AS x FROM manifest_refs WHERE child = ? LIMIT 1', [digest]);
      if (referenced) {
        log?.error({ digest }, 'garbage collection raced a push: a manifest references a blob whose file was removed');
        return;
      }
      await tx.db.run('DELETE FROM repo_blobs WHERE digest = ?', [digest]);
      await tx.db.run('DELETE FROM blobs WHERE digest = ?', [digest]);
    });
  }
}
