import { EventEmitter } from 'node:events';
import type { Hash } from 'node:crypto';
import type { BlobReader, BlobStore, ByteRange } from '../store/blob/blob-store.js';
import type { ManifestRow, MetadataStore, RepositoryRow, TagRow, UploadRow } from '../store/meta/metadata-store.js';
import { digestOf, looksLikeDigest, newHasher, parseDigest, type DigestAlgorithm } from './digest.js';
import { RegistryError } from './errors.js';
import { parseManifest, type Descriptor, type ParsedManifest } from './manifest.js';
import { MediaType } from './media-types.js';
import { assertRepositoryName, assertTag, isValidTag } from './names.js';
import { isTagImmutable, type TagMutabilitySettings } from './tag-mutability.js';

export interface RegistryOptions {
  /** Whether a push to a missing repository creates it (ECR: off unless configured). */
  createOnPush(registryId: string): Promise<boolean>;
  /** Whether cross-repository blob mounts are allowed (ECR's BLOB_MOUNTING account setting). */
  blobMounting(registryId: string): Promise<boolean>;
}

export interface RepoRef {
  registryId: string;
  name: string;
}

export interface PutManifestResult {
  digest: string;
  subject?: string;
  created: boolean;
}

export interface RegistryEvents {
  'image.pushed': [{ repository: RepositoryRow; digest: string; tag?: string; mediaType: string }];
  'image.deleted': [{ repository: RepositoryRow; digest: string; tag?: string }];
  'image.pulled': [{ repository: RepositoryRow; digest: string }];
}

interface UploadHashState {
  offset: number;
  hash: Hash;
}

/**
 * The registry domain: repositories, blobs, uploads, manifests and tags. Doors (the /v2 API, the
 * ECR API) translate their protocols into these calls; authorization happens before them.
 */
export class Registry {
  readonly events = new EventEmitter<RegistryEvents>();
  private readonly uploadHashes = new Map<string, UploadHashState>();
  private readonly busyUploads = new Set<string>();

  constructor(
    readonly meta: MetadataStore,
    readonly blobs: BlobStore,
    private readonly options: RegistryOptions,
  ) {}

  // ---- repositories ---------------------------------------------------------------------------
  async repository(ref: RepoRef): Promise<RepositoryRow> {
    assertRepositoryName(ref.name);
    const repo = await this.meta.getRepository(ref.registryId, ref.name);
    if (!repo) throw repositoryUnknown(ref);
    return repo;
  }

  /** The repository a push goes to, created first when create-on-push is on. */
  async repositoryForPush(ref: RepoRef): Promise<RepositoryRow> {
    assertRepositoryName(ref.name);
    const repo = await this.meta.getRepository(ref.registryId, ref.name);
    if (repo) return repo;
    if (!(await this.options.createOnPush(ref.registryId))) throw repositoryUnknown(ref);
    return (
      (await this.meta.createRepository(ref.registryId, ref.name, { imageTagMutability: 'MUTABLE' })) ??
      (await this.repository(ref))
    );
  }

  async catalog(registryId: string, last: string | undefined, n: number): Promise<string[]> {
    return (await this.meta.listRepositories(registryId, last ?? '', n)).map((r) => r.name);
  }

  // ---- blobs ------------------------------------------------------------------------------
  async statBlob(repo: RepositoryRow, digest: string): Promise<number> {
    parseDigest(digest);
    const blob = await this.meta.getRepoBlob(repo.id, digest);
    if (blob) return blob.size;
    const manifest = await this.meta.getManifest(repo.id, digest);
    if (manifest) return manifest.size;
    throw new RegistryError('BLOB_UNKNOWN', undefined, { digest });
  }

  /** Opens a blob of the repository; manifests are readable as blobs too, as in Distribution. */
  async openBlob(repo: RepositoryRow, digest: string, range?: ByteRange): Promise<{ size: number; body: BlobReader | Buffer }> {
    parseDigest(digest);
    const blob = await this.meta.getRepoBlob(repo.id, digest);
    if (blob) {
      const reader = await this.blobs.openReader(digest, range);
      if (!reader) throw new RegistryError('BLOB_UNKNOWN', 'blob data missing', { digest });
      return { size: blob.size, body: reader };
    }
    const manifest = await this.meta.getManifest(repo.id, digest);
    if (manifest) {
      const body = range ? manifest.body.subarray(range.start, range.end + 1) : manifest.body;
      return { size: manifest.size, body };
    }
    throw new RegistryError('BLOB_UNKNOWN', undefined, { digest });
  }

  /** Removes the blob from the repository; its bytes go when garbage collection finds them unused. */
  async deleteBlob(repo: RepositoryRow, digest: string): Promise<void> {
    parseDigest(digest);
    if (!(await this.meta.unlinkBlob(repo.id, digest))) throw new RegistryError('BLOB_UNKNOWN', undefined, { digest });
  }

  mountingEnabled(registryId: string): Promise<boolean> {
    return this.options.blobMounting(registryId);
  }

  /** Links a blob of another repository into this one; false when the source does not have it. */
  async mountBlob(target: RepositoryRow, digest: string, source: RepositoryRow): Promise<number | undefined> {
    parseDigest(digest);
    const blob = await this.meta.getRepoBlob(source.id, digest);
    if (!blob || (await this.blobs.stat(digest)) === undefined) return undefined;
    await this.meta.linkBlob(target.id, digest);
    return blob.size;
  }

  // ---- uploads ----------------------------------------------------------------------------
  async startUpload(repo: RepositoryRow): Promise<UploadRow> {
    return this.meta.createUpload(repo.id);
  }

  async upload(repo: RepositoryRow, id: string): Promise<UploadRow> {
    const upload = /^[a-f0-9-]{36}$/.test(id) ? await this.meta.getUpload(id) : undefined;
    if (!upload || upload.repoId !== repo.id) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', undefined, { uploadId: id });
    return upload;
  }

  /**
   * Appends a chunk at the upload's current end. `range` (from Content-Range) must start there;
   * `expectedLength` (from Content-Length) must match what arrived, or nothing is committed.
   */
  async appendUpload(
    repo: RepositoryRow,
    id: string,
    body: AsyncIterable<Buffer>,
    opts: { range?: ByteRange; expectedLength?: number } = {},
  ): Promise<UploadRow> {
    const upload = await this.upload(repo, id);
    const { range, expectedLength } = opts;
    if (range && range.start !== upload.size) throw rangeError(upload);
    if (range && expectedLength !== undefined && range.end - range.start + 1 !== expectedLength) {
      throw new RegistryError('BLOB_UPLOAD_INVALID', 'Content-Range does not match Content-Length', undefined, 416);
    }
    if (this.busyUploads.has(id)) throw rangeError(upload);
    this.busyUploads.add(id);
    try {
      const state = this.hashStateAt(id, upload.size);
      this.uploadHashes.delete(id);
      const written = await this.blobs.writeUpload(id, upload.size, hashing(body, state?.hash));
      const wanted = expectedLength ?? (range ? range.end - range.start + 1 : undefined);
      if (wanted !== undefined && written !== wanted) {
        throw new RegistryError('SIZE_INVALID', `received ${written} bytes, expected ${wanted}`);
      }
      const size = upload.size + written;
      if (!(await this.meta.advanceUpload(id, upload.size, size))) throw rangeError(upload);
      if (state) this.uploadHashes.set(id, { offset: size, hash: state.hash });
      return { ...upload, size, updatedAt: Date.now() };
    } finally {
      this.busyUploads.delete(id);
    }
  }

  /** Finishes an upload: appends the final chunk if any, verifies the digest, makes the blob visible. */
  async completeUpload(
    repo: RepositoryRow,
    id: string,
    digest: string,
    body?: AsyncIterable<Buffer>,
    opts: { range?: ByteRange; expectedLength?: number } = {},
  ): Promise<{ digest: string; size: number }> {
    const { algorithm } = parseDigest(digest);
    let upload = await this.upload(repo, id);
    if (body && (opts.expectedLength === undefined || opts.expectedLength > 0)) {
      upload = await this.appendUpload(repo, id, body, opts);
    }
    const actual = await this.uploadDigest(upload, algorithm);
    if (actual !== digest) {
      await this.cancelUpload(repo, id);
      throw new RegistryError('DIGEST_INVALID', `digest mismatch: computed ${actual}`, { digest });
    }
    await this.blobs.commitUpload(id, digest, upload.size);
    await this.meta.transaction(async (tx) => {
      await tx.commitBlob(repo.id, digest, upload.size);
      await tx.deleteUpload(id);
    });
    this.uploadHashes.delete(id);
    return { digest, size: upload.size };
  }

  async cancelUpload(repo: RepositoryRow, id: string): Promise<void> {
    await this.upload(repo, id);
    await this.meta.deleteUpload(id);
    this.uploadHashes.delete(id);
    await this.blobs.deleteUpload(id);
  }

  /** One-request upload: POST with ?digest= and the whole blob as body. */
  async uploadWhole(repo: RepositoryRow, digest: string, body: AsyncIterable<Buffer>, expectedLength?: number): Promise<{ digest: string; size: number }> {
    parseDigest(digest);
    const upload = await this.startUpload(repo);
    try {
      return await this.completeUpload(repo, upload.id, digest, body, { expectedLength });
    } catch (e) {
      await this.cancelUpload(repo, upload.id).catch(() => undefined);
      throw e;
    }
  }

  private hashStateAt(id: string, offset: number): UploadHashState | undefined {
    const state = this.uploadHashes.get(id);
    if (state && state.offset === offset) return state;
    if (offset === 0) return { offset: 0, hash: newHasher('sha256') };
    return undefined;
  }

  private async uploadDigest(upload: UploadRow, algorithm: DigestAlgorithm): Promise<string> {
    const state = this.uploadHashes.get(upload.id);
    if (algorithm === 'sha256' && state && state.offset === upload.size) return 'sha256:' + state.hash.copy().digest('hex');
    // Another process took earlier chunks, or the process restarted: hash what is on disk.
    const hash = newHasher(algorithm);
    if (upload.size > 0) {
      let remaining = upload.size;
      for await (const chunk of this.blobs.readUpload(upload.id)) {
        const buf = chunk as Buffer;
        const part = buf.length > remaining ? buf.subarray(0, remaining) : buf;
        hash.update(part);
        remaining -= part.length;
        if (remaining <= 0) break;
      }
    }
    return `${algorithm}:` + hash.digest('hex');
  }

  // ---- manifests --------------------------------------------------------------------------
  /** Validates a manifest push without touching state: reference, digest, body. */
  checkManifestPush(reference: string, bytes: Buffer, contentType: string | undefined): { digest: string; tag?: string; manifest: ParsedManifest } {
    const byDigest = looksLikeDigest(reference);
    let digest: string;
    if (byDigest) {
      const parsed = parseDigest(reference);
      digest = digestOf(parsed.algorithm, bytes);
      if (digest !== reference) throw new RegistryError('DIGEST_INVALID', 'manifest digest does not match its content', { digest: reference });
    } else {
      assertTag(reference);
      digest = digestOf('sha256', bytes);
    }
    return { digest, tag: byDigest ? undefined : reference, manifest: parseManifest(bytes, contentType) };
  }

  /** A push over /v2: the repository is only created (on push) once the manifest has been checked. */
  async pushManifest(ref: RepoRef, reference: string, bytes: Buffer, contentType: string | undefined): Promise<PutManifestResult> {
    assertRepositoryName(ref.name);
    this.checkManifestPush(reference, bytes, contentType);
    return this.putManifest(await this.repositoryForPush(ref), reference, bytes, contentType);
  }

  async putManifest(repo: RepositoryRow, reference: string, bytes: Buffer, contentType: string | undefined): Promise<PutManifestResult> {
    const { digest, tag, manifest } = this.checkManifestPush(reference, bytes, contentType);
    const missingBlobs = await this.meta.missingBlobs(repo.id, manifest.blobs);
    if (missingBlobs.length > 0) {
      throw new RegistryError('MANIFEST_BLOB_UNKNOWN', `blob unknown to registry: ${missingBlobs[0]}`, { digest: missingBlobs[0] });
    }
    const missingManifests = await this.meta.missingManifests(repo.id, manifest.manifests);
    if (missingManifests.length > 0) {
      throw new RegistryError('MANIFEST_UNKNOWN', `manifest unknown to registry: ${missingManifests[0]}`, { digest: missingManifests[0] }, 400);
    }
    const row: ManifestRow = {
      repoId: repo.id,
      digest,
      mediaType: manifest.mediaType,
      artifactType: manifest.artifactType ?? null,
      configMediaType: manifest.configMediaType ?? null,
      subject: manifest.subject?.digest ?? null,
      annotations: manifest.annotations ?? null,
      size: bytes.length,
      layersSize: manifest.layersSize,
      body: bytes,
      pushedAt: Date.now(),
      lastPulledAt: null,
    };
    const refs = [
      ...manifest.blobs.map((child) => ({ child, kind: 'blob' as const })),
      ...manifest.manifests.map((child) => ({ child, kind: 'manifest' as const })),
    ];
    const created = await this.meta.transaction(async (tx) => {
      const fresh = await tx.insertManifest(row, refs);
      if (tag) {
        const current = await tx.getTag(repo.id, tag);
        if (current && current.digest !== digest && isTagImmutable(repo.settings as TagMutabilitySettings, tag)) {
          throw new RegistryError(
            'TAG_INVALID',
            `The image tag '${tag}' already exists in the '${repo.name}' repository and cannot be overwritten because the tag is immutable.`,
          );
        }
        if (current?.digest !== digest) await tx.putTag(repo.id, tag, digest);
      }
      return fresh;
    });
    this.events.emit('image.pushed', { repository: repo, digest, tag, mediaType: manifest.mediaType });
    return { digest, subject: manifest.subject?.digest, created };
  }

  /** A manifest by tag or digest. Invalid tags are simply unknown, as the conformance suite expects. */
  async getManifest(repo: RepositoryRow, reference: string): Promise<ManifestRow> {
    let manifest: ManifestRow | undefined;
    if (looksLikeDigest(reference)) {
      parseDigest(reference);
      manifest = await this.meta.getManifest(repo.id, reference);
    } else if (isValidTag(reference)) {
      manifest = await this.meta.getTaggedManifest(repo.id, reference);
    }
    if (!manifest) throw new RegistryError('MANIFEST_UNKNOWN', undefined, { reference });
    return manifest;
  }

  /** A manifest with its repository, by tag (one query when found) or digest. */
  async findManifest(ref: RepoRef, reference: string): Promise<{ repository: RepositoryRow; manifest: ManifestRow }> {
    if (!looksLikeDigest(reference) && isValidTag(reference)) {
      assertRepositoryName(ref.name);
      const found = await this.meta.getTaggedManifestByName(ref.registryId, ref.name, reference);
      if (found) return found;
    }
    const repository = await this.repository(ref);
    return { repository, manifest: await this.getManifest(repository, reference) };
  }

  async deleteManifest(repo: RepositoryRow, reference: string): Promise<void> {
    if (looksLikeDigest(reference)) {
      parseDigest(reference);
      if (!(await this.meta.transaction((tx) => tx.deleteManifest(repo.id, reference)))) {
        throw new RegistryError('MANIFEST_UNKNOWN', undefined, { reference });
      }
      this.events.emit('image.deleted', { repository: repo, digest: reference });
      return;
    }
    const tag = isValidTag(reference) ? await this.meta.getTag(repo.id, reference) : undefined;
    if (!tag || !(await this.meta.deleteTag(repo.id, reference))) throw new RegistryError('MANIFEST_UNKNOWN', undefined, { reference });
    this.events.emit('image.deleted', { repository: repo, digest: tag.digest, tag: reference });
  }

  /**
   * Removes a tag as ECR does on /v2: when it was the image's last tag, the image goes too, unless
   * an index still lists it. `deleteManifest` by tag, by contrast, only ever removes the tag.
   */
  async untag(repo: RepositoryRow, reference: string): Promise<{ digest: string; imageDeleted: boolean }> {
    const unknown = () => new RegistryError('MANIFEST_UNKNOWN', undefined, { reference });
    if (!isValidTag(reference)) throw unknown();
    const result = await this.meta.transaction(async (tx) => {
      const tag = await tx.getTag(repo.id, reference);
      if (!tag || !(await tx.deleteTag(repo.id, reference))) throw unknown();
      const keep = (await tx.tagsOf(repo.id, tag.digest)).length > 0 || (await tx.isReferencedManifest(repo.id, tag.digest));
      return { digest: tag.digest, imageDeleted: !keep && (await tx.deleteManifest(repo.id, tag.digest)) };
    });
    this.events.emit('image.deleted', { repository: repo, digest: result.digest, tag: reference });
    return result;
  }

  async listTags(repo: RepositoryRow, last: string | undefined, n: number | undefined): Promise<TagRow[]> {
    return this.meta.listTags(repo.id, last ?? '', n ?? 100_000);
  }

  /** Manifests whose subject is `digest`, as descriptors for the referrers index. */
  async referrers(repo: RepositoryRow, digest: string, artifactType?: string): Promise<Descriptor[]> {
    parseDigest(digest);
    const rows = await this.meta.listReferrers(repo.id, digest);
    return rows
      .filter((m) => artifactType === undefined || m.artifactType === artifactType)
      .map((m) => {
        const d: Descriptor = { mediaType: m.mediaType, digest: m.digest, size: m.size };
        if (m.artifactType) d.artifactType = m.artifactType;
        if (m.annotations && Object.keys(m.annotations).length > 0) d.annotations = m.annotations;
        return d;
      });
  }
}

export const REFERRERS_MEDIA_TYPE = MediaType.ociIndex;

function repositoryUnknown(ref: RepoRef): RegistryError {
  return new RegistryError(
    'NAME_UNKNOWN',
    `The repository with name '${ref.name}' does not exist in the registry with id '${ref.registryId}'`,
    { name: ref.name },
  );
}

function rangeError(upload: UploadRow): RegistryError {
  return new RegistryError('BLOB_UPLOAD_INVALID', 'chunk does not start at the end of the upload', { size: upload.size }, 416);
}

async function* hashing(body: AsyncIterable<Buffer>, hash: Hash | undefined): AsyncIterable<Buffer> {
  for await (const chunk of body) {
    hash?.update(chunk);
    yield chunk;
  }
}
