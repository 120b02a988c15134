import type { BlobStore } from '../../store/blob/blob-store.js';

/** How an upload's bytes reach the blob store while it is in progress. */
export interface UploadBytes {
  /** Appends plaintext at the upload's counted length `offset`; returns the plaintext bytes appended. */
  append(id: string, offset: number, data: AsyncIterable<Buffer>, opts?: { last?: boolean }): Promise<number>;
  /** The upload's first `size` plaintext bytes. */
  read(id: string, size: number): AsyncIterable<Buffer>;
  /** Makes the upload of `size` plaintext bytes ready to commit; returns the bytes the blob takes in the store. */
  finish(id: string, size: number): Promise<number>;
  /** Drops what the upload keeps beside its bytes (after a commit). */
  dropTails(id: string): Promise<void>;
  cancel(id: string): Promise<void>;
}

/**
 * Uploads stored as their plaintext, for an object store that encrypts every object at rest itself
 * (BERTH_S3_SSE with BERTH_S3_REDIRECT): its pre-signed URLs then serve blobs as they are.
 */
export class StoreEncryptedUploads implements UploadBytes {
  constructor(private readonly store: BlobStore) {}

  async append(id: string, offset: number, data: AsyncIterable<Buffer>): Promise<number> {
    return this.store.appendUpload(id, offset, data);
  }

  read(id: string, size: number): AsyncIterable<Buffer> {
    return this.store.readUpload(id, size);
  }

  async finish(_id: string, size: number): Promise<number> {
    return size;
  }

  async dropTails(): Promise<void> {}

  async cancel(id: string): Promise<void> {
    await this.store.cancelUpload(id);
  }
}
