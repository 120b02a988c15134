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
  /** Bytes of the whole stored object this reader opened (not of the range), where the store tells. */
  readonly storedSize?: number;
}

/**
 * Content-addressed bytes plus the staging area where uploads grow. Implementations: filesystem
 * (embedded default) and S3-compatible object storage (scale-out). Digests are validated by callers;
 * the caller (the domain) keeps each upload's length, so a store never needs to truncate: an append
 * that failed midway simply is not counted, and the next append starts at the counted length.
 */
export interface BlobStore {
  /**
   * Appends one part to the upload, whose counted length is `offset`; whatever a failed earlier
   * append left past `offset` is not part of the upload. Returns the bytes appended. Each chunk is
   * consumed (written or copied) before the next is asked for: writers may reuse their buffers.
   */
  appendUpload(id: string, offset: number, data: AsyncIterable<Buffer>): Promise<number>;
  /** The upload's first `size` bytes. */
  readUpload(id: string, size: number): AsyncIterable<Buffer>;
  /** Makes the upload's first `size` bytes durable under `digest`; the upload is gone afterwards. */
  commitUpload(id: string, digest: string, size: number): Promise<void>;
  /** Drops the upload and its parts; nothing happens if it is gone already. */
  cancelUpload(id: string): Promise<void>;
  /**
   * A time-limited URL from which a client can fetch the blob without passing through berth, for
   * stores that have one (a pre-signed object URL); undefined otherwise.
   */
  directUrl?(digest: string, expiresInSeconds: number): Promise<string | undefined>;
  /** Resolves when the store answers (for readiness probes); rejects otherwise. */
  probe(): Promise<void>;
  /** Bytes that can still be written, for stores that know (a filesystem); undefined otherwise. */
  freeBytes?(): Promise<number | undefined>;

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
