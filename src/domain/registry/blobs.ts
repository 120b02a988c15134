import type { BlobReader, BlobStore, ByteRange } from '../../store/blob/blob-store.js';
import type { MetadataStore } from '../../store/meta/metadata-store.js';
import type { BlobEncryption } from '../encryption/blob-encryption.js';
import type { Accounts } from './accounts.js';
import { isValidDigest, parseDigest } from './digest.js';
import { RegistryError } from './errors.js';
import type { Repository } from './model.js';

/** What ECR reports for a layer no manifest of the repository lists yet. */
export const UNLISTED_LAYER_MEDIA_TYPE = 'application/vnd.docker.container.image.rootfs.diff.tar.gzip';

export type LayerAvailability =
  | { digest: string; available: true; size: number; mediaType: string }
  /** Only archived images of the repository use the layer (ECR's layerAvailability ARCHIVED). */
  | { digest: string; available: false; archived: true; size: number; mediaType: string; failure?: undefined }
  | { digest: string; available: false; failure?: 'MissingLayerDigest' | 'InvalidLayerDigest' };

const REDIRECT_URL_SECONDS = 20 * 60;

/** Blobs as a repository sees them: only through its links, never by knowing a digest. */
export class Blobs {
  constructor(
    private readonly meta: MetadataStore,
    private readonly store: BlobStore,
    private readonly accounts: Accounts,
    private readonly encryption: BlobEncryption,
    private readonly redirectDownloads = false,
  ) {}

  /**
   * Where a client should fetch a blob of the repository instead of through berth — a pre-signed
   * object-store URL, valid for 20 minutes as in Distribution — when downloads are redirected and
   * the store has such URLs; undefined otherwise (and for manifests read as blobs).
   */
  async redirectUrl(repo: Repository, digest: string): Promise<string | undefined> {
    if (!this.redirectDownloads || !this.store.directUrl) return undefined;
    if (await this.encryption.isEncrypted(digest)) return undefined;
    if (!(await this.meta.getRepoBlob(repo.id, digest))) return undefined;
    // The repository's KMS key must be usable now, as for a read through berth.
    await this.encryption.assertReadable(repo);
    return this.store.directUrl(digest, REDIRECT_URL_SECONDS);
  }

  async stat(repo: Repository, digest: string): Promise<number> {
    parseDigest(digest);
    await this.encryption.assertReadable(repo);
    const blob = await this.meta.getRepoBlob(repo.id, digest);
    if (blob) return blob.size;
    const manifest = await this.meta.getManifest(repo.id, digest);
    if (manifest) return manifest.size;
    throw blobNotFound(digest);
  }

  /** Opens a blob of the repository; manifests are readable as blobs too, as in Distribution. */
  async open(repo: Repository, digest: string, range?: ByteRange): Promise<{ size: number; body: BlobReader | Buffer }> {
    parseDigest(digest);
    const blob = await this.meta.getRepoBlob(repo.id, digest);
    if (blob) {
      const reader = await this.encryption.open(repo, digest, blob.size, range);
      if (!reader) throw new RegistryError('BlobNotFound', 'blob data missing', { digest });
      return { size: blob.size, body: reader };
    }
    const manifest = await this.meta.getManifest(repo.id, digest);
    if (manifest) {
      await this.encryption.assertReadable(repo);
      const body = range ? manifest.body.subarray(range.start, range.end + 1) : manifest.body;
      return { size: manifest.size, body };
    }
    throw blobNotFound(digest);
  }

  /** Removes the blob from the repository; its bytes go when garbage collection finds them unused. */
  async unlink(repo: Repository, digest: string): Promise<void> {
    parseDigest(digest);
    if (!(await this.meta.unlinkBlob(repo.id, digest))) throw blobNotFound(digest);
  }

  mountingEnabled(registryId: string): Promise<boolean> {
    return this.accounts.blobMounting(registryId);
  }

  /** Links a blob of another repository into this one; undefined when the source does not have it. */
  async mount(target: Repository, digest: string, source: Repository): Promise<number | undefined> {
    parseDigest(digest);
    const blob = await this.meta.getRepoBlob(source.id, digest);
    if (!blob || (await this.store.stat(digest)) === undefined) return undefined;
    await this.encryption.grant(target, digest);
    await this.meta.linkBlob(target.id, digest);
    return blob.size;
  }

  /** BatchCheckLayerAvailability: each digest's availability in the repository. */
  async availability(repo: Repository, digests: string[]): Promise<LayerAvailability[]> {
    const out: LayerAvailability[] = [];
    for (const digest of digests) {
      if (digest === '') out.push({ digest, available: false, failure: 'MissingLayerDigest' });
      else if (!isValidDigest(digest)) out.push({ digest, available: false, failure: 'InvalidLayerDigest' });
      else {
        const blob = await this.meta.getRepoBlob(repo.id, digest);
        if (!blob) out.push({ digest, available: false });
        else {
          const found = { digest, size: blob.size, mediaType: await this.mediaTypeOf(repo, digest) };
          out.push((await this.meta.isBlobOnlyInArchivedImages(repo.id, digest)) ? { ...found, available: false, archived: true } : { ...found, available: true });
        }
      }
    }
    return out;
  }

  /** The media type a manifest of the repository gives the blob (config or layer), as ECR reports it. */
  private async mediaTypeOf(repo: Repository, digest: string): Promise<string> {
    const body = await this.meta.manifestListingBlob(repo.id, digest);
    if (!body) return UNLISTED_LAYER_MEDIA_TYPE;
    try {
      const doc = JSON.parse(body.toString('utf8')) as { config?: { digest?: unknown; mediaType?: unknown }; layers?: Array<{ digest?: unknown; mediaType?: unknown }> };
      const found = [doc.config, ...(Array.isArray(doc.layers) ? doc.layers : [])].find((d) => d?.digest === digest);
      return typeof found?.mediaType === 'string' ? found.mediaType : UNLISTED_LAYER_MEDIA_TYPE;
    } catch {
      return UNLISTED_LAYER_MEDIA_TYPE;
    }
  }

  async has(repo: Repository, digest: string): Promise<boolean> {
    return (await this.meta.getRepoBlob(repo.id, digest)) !== undefined;
  }

  /** A layer an image of the repository uses: what GetDownloadUrlForLayer may hand out. */
  async assertLayerInUse(repo: Repository, digest: string): Promise<void> {
    if (!(await this.has(repo, digest))) {
      throw new RegistryError(
        'BlobNotFound',
        `The layer with digest ${digest} does not exist within the repository with name '${repo.name}' in the registry with id '${repo.registryId}'`,
        { digest },
      );
    }
    if (!(await this.meta.isBlobReferenced(repo.id, digest))) {
      throw new RegistryError(
        'LayerNotReferenced',
        `The layer with digest ${digest} is not referenced by any image in the repository with name '${repo.name}' in the registry with id '${repo.registryId}'`,
        { digest },
      );
    }
    if (await this.meta.isBlobOnlyInArchivedImages(repo.id, digest)) {
      throw new RegistryError(
        'LayerNotReferenced',
        `The layer with digest ${digest} is only used by archived images in the repository with name '${repo.name}' in the registry with id '${repo.registryId}'; restore one of them to download it`,
        { digest },
      );
    }
  }
}

export function blobNotFound(digest: string): RegistryError {
  return new RegistryError('BlobNotFound', 'blob unknown to registry', { digest });
}
