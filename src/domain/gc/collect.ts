import type { Logger } from 'pino';
import type { BlobStore } from '../../store/blob/blob-store.js';
import { isTailId } from '../encryption/upload-cipher.js';
import type { MetadataStore } from '../../store/meta/metadata-store.js';
import type { GcStore } from '../../store/meta/gc-store.js';

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
  const gc = meta.gc;
  const now = opts.now ?? Date.now();
  const cutoff = now - opts.graceMs;
  const dryRun = opts.dryRun ?? false;
  const report: GcReport = { dryRun, blobsDeleted: 0, bytesFreed: 0, linksRemoved: 0, linksRestored: 0, orphanFilesDeleted: 0, uploadsRemoved: 0 };

  if (!dryRun) report.linksRestored = await gc.restoreMissingLinks(now);

  const blobCandidates = await gc.unreferencedBlobs(cutoff);

  for (const link of await gc.unusedLinks(cutoff)) {
    if (dryRun || (await gc.deleteUnusedLink(link.repoId, link.digest, cutoff))) report.linksRemoved++;
  }

  const deleted: string[] = [];
  for (const blob of blobCandidates) {
    if (!dryRun) {
      if (!(await gc.deleteUnreferencedBlob(blob.digest, cutoff))) continue;
      await blobs.delete(blob.digest);
      deleted.push(blob.digest);
    }
    report.blobsDeleted++;
    report.bytesFreed += blob.size;
  }

  const orphans = await sweepOrphanFiles(meta, gc, blobs, now, cutoff, dryRun);
  report.orphanFilesDeleted = orphans.count;
  report.bytesFreed += orphans.bytes;
  deleted.push(...orphans.digests);

  report.uploadsRemoved = await sweepUploads(meta, gc, blobs, cutoff, dryRun);

  if (!dryRun) {
    await forgetResurrected(meta, gc, blobs, deleted, opts.log);
    // The scanner's cached facts of a layer go with its blob.
    await meta.scans.forgetLayerFacts(deleted, cutoff);
  }
  opts.log?.info({ event: 'gc.completed', ...report }, 'garbage collection finished');
  return report;
}

async function sweepOrphanFiles(
  meta: MetadataStore,
  gc: GcStore,
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
    const firstSeen = await gc.orphanFirstSeen(digest);
    if (firstSeen === undefined) {
      if (!dryRun) await gc.noteOrphan(digest, now);
      continue;
    }
    if (firstSeen >= cutoff) continue;
    const size = (await blobs.stat(digest)) ?? 0;
    if (!dryRun) {
      // The row may have appeared since the check above: a finished upload of these very bytes.
      if (await meta.getBlob(digest)) continue;
      await blobs.delete(digest);
      await gc.forgetOrphan(digest);
      result.digests.push(digest);
    }
    result.count++;
    result.bytes += size;
  }
  if (!dryRun) {
    // Files that got their row meanwhile are no longer suspects.
    for (const name of await gc.listOrphans()) {
      if (!seenOrphans.has(name)) await gc.forgetOrphan(name);
    }
  }
  return result;
}

async function sweepUploads(meta: MetadataStore, gc: GcStore, blobs: BlobStore, cutoff: number, dryRun: boolean): Promise<number> {
  const files = new Map<string, number>();
  for await (const f of blobs.listUploads()) files.set(f.id, f.modifiedAt);
  let removed = 0;
  for (const upload of await meta.listUploadsOlderThan(cutoff)) {
    // A chunk still streaming keeps touching the file while the row waits for it to finish.
    if ((files.get(upload.id) ?? 0) >= cutoff) continue;
    if (!dryRun) {
      if (!(await gc.deleteIdleUpload(upload.id, cutoff))) continue;
      await blobs.cancelUpload(upload.id);
    }
    files.delete(upload.id);
    removed++;
  }
  for (const [id, modifiedAt] of files) {
    if (isTailId(id)) {
      // The tail of an encrypted upload goes with its upload, and is not counted on its own.
      const upload = id.slice(0, -3);
      if (modifiedAt >= cutoff || files.has(upload) || (await meta.getUpload(upload))) continue;
      if (!dryRun) await blobs.cancelUpload(id);
      continue;
    }
    if (modifiedAt >= cutoff || (await meta.getUpload(id))) continue;
    if (!dryRun) await blobs.cancelUpload(id);
    removed++;
  }
  return removed;
}

/**
 * A finished upload of bytes already on disk only drops its staging file and then records the blob,
 * so it can slip between our row check and the file delete. Such a row now points at nothing: drop
 * it (and its links) while no manifest uses it, so the client's next existence check says "upload".
 */
async function forgetResurrected(meta: MetadataStore, gc: GcStore, blobs: BlobStore, digests: string[], log: Logger | undefined): Promise<void> {
  for (const digest of digests) {
    if (!(await meta.getBlob(digest)) || (await blobs.stat(digest)) !== undefined) continue;
    if ((await gc.forgetBlobWithoutFile(digest)) === 'referenced') {
      log?.error({ digest }, 'garbage collection raced a push: a manifest references a blob whose file was removed');
    }
  }
}
