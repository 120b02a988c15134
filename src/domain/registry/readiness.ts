import type { BlobStore } from '../../store/blob/blob-store.js';
import type { MetadataStore } from '../../store/meta/metadata-store.js';

export interface Readiness {
  ready: boolean;
  metadata: 'ok' | 'unavailable';
  /** Free bytes where blobs are written, when the store can tell. */
  freeBytes?: number;
  lowDisk: boolean;
}

/** Whether this node can serve: its stores answer, and the blob store is not about to be full. */
export async function checkReadiness(meta: MetadataStore, blobs: BlobStore, minFreeBytes: number): Promise<Readiness> {
  const metadata = await meta.getSetting('default_account_id').then(
    () => 'ok' as const,
    () => 'unavailable' as const,
  );
  const freeBytes = await blobs.freeBytes?.().catch(() => undefined);
  const lowDisk = freeBytes !== undefined && freeBytes < minFreeBytes;
  return { ready: metadata === 'ok' && !lowDisk, metadata, ...(freeBytes === undefined ? {} : { freeBytes }), lowDisk };
}
