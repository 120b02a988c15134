import type { BlobStore, ByteRange } from '../../store/blob/blob-store.js';
import type { MetadataStore } from '../../store/meta/metadata-store.js';
import type { BlobEncryption } from '../encryption/blob-encryption.js';
import { newHasher, parseDigest, type DigestAlgorithm } from './digest.js';
import { RegistryError } from './errors.js';
import type { Repository, Upload } from './model.js';
import type { SpaceReserveState } from './readiness.js';
import { ClaimRenewal, claimExpiry, newClaimHolder } from './claims.js';
import { newRunningSha256, resumable, type RunningHash } from './running-hash.js';

interface UploadHashState {
  offset: number;
  hash: RunningHash;
}

/**
 * Where an upload's running hash lives between its chunks: in this process only (one node: the
 * fastest hash; after a restart the stored bytes are hashed again), or saved with the upload so any
 * node can continue it (several nodes on one database).
 */
export type UploadHashes = 'process' | 'saved';

export interface ChunkOptions {
  /** From Content-Range: the chunk must start at the upload's current end. */
  range?: ByteRange;
  /** From Content-Length: must match what arrived, or nothing is committed. */
  expectedLength?: number;
}

const UPLOAD_ID = /^[a-f0-9-]{36}$/;

/**
 * Blob uploads: appended in chunks, hashed as they stream, made visible only once the digest
 * matched and the bytes are durable.
 */
export class Uploads {
  /** Running hashes this process holds, by upload id (with `saved`, only for the request's own digest). */
  private readonly hashes = new Map<string, UploadHashState>();

  constructor(
    private readonly meta: MetadataStore,
    private readonly blobs: BlobStore,
    private readonly maxBlobBytes: number,
    /** Uploads and blobs are encrypted at rest through it. */
    private readonly encryption: BlobEncryption,
    private readonly spaceReserve?: SpaceReserveState,
    private readonly hashesLive: UploadHashes = 'process',
  ) {}

  async start(repo: Repository): Promise<Upload> {
    await this.encryption.assertReadable(repo);
    return this.meta.createUpload(repo.id);
  }

  async get(repo: Repository, id: string): Promise<Upload> {
    const normalized = id.toLowerCase();
    const upload = UPLOAD_ID.test(normalized) ? await this.meta.getUpload(normalized) : undefined;
    if (!upload || upload.repoId !== repo.id) {
      throw new RegistryError(
        'UploadNotFound',
        `The upload with id '${id}' does not exist within the repository with name '${repo.name}' in the registry with id '${repo.registryId}'`,
        { uploadId: id },
      );
    }
    return upload;
  }

  /** Appends a chunk at the upload's current end. */
  async append(repo: Repository, id: string, body: AsyncIterable<Buffer>, opts: ChunkOptions = {}): Promise<Upload> {
    return this.appendChunk(repo, id, body, opts, false);
  }

  /** `last`: the chunk that completes the upload, which is committed (or dropped) right after. */
  private async appendChunk(repo: Repository, id: string, body: AsyncIterable<Buffer>, opts: ChunkOptions, last: boolean): Promise<Upload> {
    const upload = await this.get(repo, id);
    const { range, expectedLength } = opts;
    if (range && range.start !== upload.size) throw outOfOrder(upload);
    if (range && expectedLength !== undefined && range.end - range.start + 1 !== expectedLength) {
      throw new RegistryError('UploadOutOfOrder', 'Content-Range does not match Content-Length', { size: upload.size });
    }
    if (this.spaceReserve && !this.spaceReserve.held) {
      this.spaceReserve.restoreSoon();
      throw new RegistryError('StorageFull', 'the disk is full: pushes resume once deletions have freed space', { size: upload.size });
    }
    const announced = expectedLength ?? (range ? range.end - range.start + 1 : undefined);
    if (announced !== undefined) await this.assertRoom(upload, announced);
    // One appender at a time, on any node: the claim is taken in the metadata store.
    const token = newClaimHolder();
    if (!(await this.meta.claimUploadAppend(upload.id, upload.size, token, claimExpiry()))) throw outOfOrder(upload);
    // Renewed while the chunk streams; if the claim is lost, the chunk stops before another byte is written.
    const claim = new ClaimRenewal((until) => this.meta.renewUploadAppend(upload.id, token, until));
    let advanced = false;
    try {
      const hash = await this.hashAt(upload, last);
      this.hashes.delete(upload.id);
      const stream = claim.guard(hash ? hash.through(keepOpen(body)) : keepOpen(body), () => outOfOrder(upload));
      const written = await this.encryption.uploads.append(upload.id, upload.size, stream, { last }).catch((e: unknown) => {
        if ((e as NodeJS.ErrnoException).code === 'ENOSPC') {
          throw new RegistryError('StorageFull', 'no space left for the upload; the chunk was discarded, retry when space exists', { size: upload.size });
        }
        throw e;
      });
      const wanted = expectedLength ?? (range ? range.end - range.start + 1 : undefined);
      if (wanted !== undefined && written !== wanted) {
        throw new RegistryError('UploadSizeMismatch', `received ${written} bytes, expected ${wanted}`, { size: upload.size });
      }
      const size = upload.size + written;
      const saved = this.hashesLive === 'saved' && !last ? hash?.save() : undefined;
      claim.stop();
      if (!(await this.meta.advanceUpload(upload.id, upload.size, size, token, saved))) throw outOfOrder(upload);
      advanced = true;
      if (hash && (this.hashesLive === 'process' || last)) this.hashes.set(upload.id, { offset: size, hash });
      return { ...upload, size, updatedAt: Date.now(), hashState: saved };
    } finally {
      claim.stop();
      if (!advanced) await this.meta.releaseUploadAppend(upload.id, token).catch(() => undefined);
    }
  }

  /** Finishes an upload: appends the final chunk if any, verifies the digest, makes the blob visible. */
  async complete(repo: Repository, id: string, digest: string, body?: AsyncIterable<Buffer>, opts: ChunkOptions = {}): Promise<{ digest: string; size: number }> {
    const { algorithm } = parseDigest(digest);
    let upload = await this.get(repo, id);
    if (body && (opts.expectedLength === undefined || opts.expectedLength > 0)) {
      upload = await this.appendChunk(repo, upload.id, body, opts, true);
    }
    const actual = await this.digestOf(upload, algorithm);
    if (actual !== digest) {
      await this.cancel(repo, upload.id);
      throw new RegistryError('DigestMismatch', `digest mismatch: computed ${actual}`, { digest });
    }
    await this.encryption.commit(repo, upload.id, digest, upload.size);
    this.hashes.delete(upload.id);
    return { digest, size: upload.size };
  }

  async cancel(repo: Repository, id: string): Promise<void> {
    const upload = await this.get(repo, id);
    // The bytes go first: on a full disk the metadata database may not be able to write, and the
    // space must come back anyway (garbage collection removes a row whose file is gone).
    this.hashes.delete(upload.id);
    await this.encryption.uploads.cancel(upload.id);
    await this.meta.deleteUpload(upload.id);
  }

  /** One-request upload: the whole blob with its digest. */
  async whole(repo: Repository, digest: string, body: AsyncIterable<Buffer>, expectedLength?: number): Promise<{ digest: string; size: number }> {
    parseDigest(digest);
    const upload = await this.start(repo);
    try {
      return await this.complete(repo, upload.id, digest, body, { expectedLength });
    } catch (e) {
      await this.cancel(repo, upload.id).catch(() => undefined);
      throw e;
    }
  }

  /** Refuses, before a byte is read, a chunk the blob limit or the free space cannot take. */
  private async assertRoom(upload: Upload, length: number): Promise<void> {
    if (upload.size + length > this.maxBlobBytes) {
      throw new RegistryError('UploadTooLarge', `a blob may be at most ${this.maxBlobBytes} bytes`, { size: upload.size });
    }
    const free = await this.blobs.freeBytes?.();
    if (free !== undefined && length > free) {
      throw new RegistryError('UploadTooLarge', `not enough free space for ${length} bytes`, { size: upload.size });
    }
  }

  /**
   * The running hash to continue at the upload's end, or undefined when none can be had without
   * reading the stored bytes (the digest is then computed from them at the end).
   */
  private async hashAt(upload: Upload, last: boolean): Promise<RunningHash | undefined> {
    const held = this.hashes.get(upload.id);
    if (held && held.offset === upload.size) return held.hash;
    if (upload.size === 0) return newRunningSha256({ saveable: this.hashesLive === 'saved' && !last });
    if (upload.hashState) return resumable(upload.hashState);
    return undefined;
  }

  private async digestOf(upload: Upload, algorithm: DigestAlgorithm): Promise<string> {
    const state = this.hashes.get(upload.id);
    if (algorithm === 'sha256' && state && state.offset === upload.size) return 'sha256:' + state.hash.hex();
    if (algorithm === 'sha256' && upload.hashState) {
      const saved = await resumable(upload.hashState);
      if (saved) return 'sha256:' + saved.hex();
    }
    // No hash was kept (the process restarted, or another digest algorithm): hash what was stored.
    const hash = newHasher(algorithm);
    for await (const chunk of this.encryption.uploads.read(upload.id, upload.size)) hash.update(chunk);
    return `${algorithm}:` + hash.digest('hex');
  }
}

function outOfOrder(upload: Upload): RegistryError {
  return new RegistryError('UploadOutOfOrder', 'chunk does not start at the end of the upload', { size: upload.size, uploadId: upload.id });
}

/**
 * The body without its `return()`: a write that fails midway (a full disk) stops reading, but must
 * not destroy the request, so the door can drain it and answer instead of resetting the connection.
 */
function keepOpen(body: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  return {
    [Symbol.asyncIterator]() {
      const it = body[Symbol.asyncIterator]();
      return { next: () => it.next() };
    },
  };
}
