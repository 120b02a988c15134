// Row: push of one large incompressible blob, monolithic (POST + one PUT ?digest=) or
// chunked (PATCH parts with Content-Range, then PUT ?digest=). Result in MB/s.
import { newBlob, type Blob } from '../random-blob.js';
import { RegistryClient } from '../registry-client.js';
import type { RunningServer } from '../servers.js';
import { elapsedSeconds, mbPerSecond } from '../stats.js';

export const BLOB_REPO = 'bench/blob';
/** On berth, a repository encrypted with a KMS key; on Distribution, a plain one like BLOB_REPO. */
export const KMS_BLOB_REPO = 'bench/blob-kms';

export type PushMode = 'monolithic' | 'chunked';

export interface BlobPushResult {
  mbps: number;
  blob: Blob;
}

/** Prepare the blob (its digest is computed here, outside the timed section). */
export function prepareBlob(bytes: number): Blob {
  return newBlob(bytes);
}

export async function pushBlob(server: RunningServer, blob: Blob, mode: PushMode, chunkBytes: number, repo = BLOB_REPO): Promise<BlobPushResult> {
  const client = new RegistryClient(server.origin, server.authorization, 1, server.ca && { ca: server.ca });
  try {
    const start = process.hrtime.bigint();
    if (mode === 'monolithic') await client.pushMonolithic(repo, blob);
    else await client.pushChunked(repo, blob, chunkBytes);
    return { mbps: mbPerSecond(blob.size, elapsedSeconds(start)), blob };
  } finally {
    await client.close();
  }
}
