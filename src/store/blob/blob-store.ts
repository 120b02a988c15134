import type { Readable } from 'node:stream';

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

/**
 * Content-addressed bytes plus the staging area where uploads grow. Implementations: filesystem
 * (embedded default) and S3-compatible object storage (scale-out). Digests are validated by callers.
 */
export interface BlobStore {
  /** Writes `data` into the upload at `offset`, discarding anything past it; returns bytes written. */
  writeUpload(id: string, offset: number, data: AsyncIterable<Buffer>): Promise<number>;
  readUpload(id: string): Readable;
  /** Makes the upload's first `size` bytes durable under `digest`; the upload is gone afterwards. */
  commitUpload(id: string, digest: string, size: number): Promise<void>;
  deleteUpload(id: string): Promise<void>;

  /** Size of the stored blob, or undefined if absent. */
  stat(digest: string): Promise<number | undefined>;
  read(digest: string, range?: ByteRange): Readable;
  delete(digest: string): Promise<void>;
  /** Every stored digest (for garbage collection). */
  list(): AsyncIterable<string>;
  /** Every staged upload id with its last modification time in ms (for garbage collection). */
  listUploads(): AsyncIterable<{ id: string; modifiedAt: number }>;
}
