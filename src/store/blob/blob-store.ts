import type { Readable } from 'node:stream';

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

/**
 * Reads a blob sequentially into buffers the caller owns, so a sender can recycle them instead of
 * allocating (and garbage-collecting) a new buffer for every chunk of a large blob.
 */
export interface BlobReader {
  /** Fills `into` from the current position; returns the bytes read, 0 at the end. */
  read(into: Buffer): Promise<number>;
  close(): Promise<void>;
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
  /** Opens the stored blob (or a range of it) for reading; undefined if absent. */
  openReader(digest: string, range?: ByteRange): Promise<BlobReader | undefined>;
  delete(digest: string): Promise<void>;
  /** Every stored digest (for garbage collection). */
  list(): AsyncIterable<string>;
  /** Every staged upload id with its last modification time in ms (for garbage collection). */
  listUploads(): AsyncIterable<{ id: string; modifiedAt: number }>;
}
