import type { BlobStore } from '../../store/blob/blob-store.js';
import type { MetadataStore } from '../../store/meta/metadata-store.js';

/** The metadata database's reserved space on a shared disk (see store/space-reserve.ts). */
export interface SpaceReserveState {
  readonly held: boolean;
  /** Sets the space aside again, in the background, once the disk has room. */
  restoreSoon(): void;
}

export interface Readiness {
  ready: boolean;
  metadata: 'ok' | 'unavailable';
  blobs: 'ok' | 'unavailable';
  /** Free bytes where blobs are written, when the store can tell. */
  freeBytes?: number;
  lowDisk: boolean;
}

/** Whether this node can serve: its stores answer, and the blob store is not about to be full. */
export async function checkReadiness(meta: MetadataStore, blobs: BlobStore, minFreeBytes: number, reserve?: SpaceReserveState): Promise<Readiness> {
  reserve?.restoreSoon();
  const metadata = await meta.getSetting('default_account_id').then(
    () => 'ok' as const,
    () => 'unavailable' as const,
  );
  const [blobsState, freeBytes] = await Promise.all([
    blobs.probe().then(
      () => 'ok' as const,
      () => 'unavailable' as const,
    ),
    blobs.freeBytes?.().catch(() => undefined),
  ]);
  const lowDisk = (freeBytes !== undefined && freeBytes < minFreeBytes) || reserve?.held === false;
  return { ready: metadata === 'ok' && blobsState === 'ok' && !lowDisk, metadata, blobs: blobsState, ...(freeBytes === undefined ? {} : { freeBytes }), lowDisk };
}
