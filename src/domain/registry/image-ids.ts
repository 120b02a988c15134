import type { MetadataStore } from '../../store/meta/metadata-store.js';
import { isValidDigest } from './digest.js';
import type { Manifest, Repository } from './model.js';

/** An image as ECR names it: by digest, by tag, or both. */
export interface ImageId {
  imageDigest?: string;
  imageTag?: string;
}

export type ImageFailureCode =
  | 'MissingDigestAndTag'
  | 'InvalidImageDigest'
  | 'ImageNotFound'
  | 'ImageTagDoesNotMatchDigest'
  | 'ImageReferencedByManifestList'
  | 'KmsError';

export interface ImageFailure {
  imageId: ImageId;
  failureCode: ImageFailureCode;
  failureReason: string;
}

export function imageFailure(imageId: ImageId, failureCode: ImageFailureCode, failureReason: string): ImageFailure {
  return { imageId, failureCode, failureReason };
}

/** What an ImageId names in the repository, or the failure ECR reports for it. */
export async function resolveImageId(meta: MetadataStore, repo: Repository, id: ImageId): Promise<{ manifest: Manifest } | { failure: ImageFailure }> {
  const fail = (code: ImageFailureCode, reason: string) => ({ failure: imageFailure(id, code, reason) });
  if (id.imageDigest === undefined && id.imageTag === undefined) {
    return fail('MissingDigestAndTag', 'Invalid request parameters: both tag and digest cannot be null');
  }
  if (id.imageDigest !== undefined && !isValidDigest(id.imageDigest)) {
    return fail('InvalidImageDigest', "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'");
  }
  // With both, the tag decides: a missing tag is not found, a tag on another image does not match.
  const manifest = id.imageTag !== undefined ? await meta.getTaggedManifest(repo.id, id.imageTag) : await meta.getManifest(repo.id, id.imageDigest!);
  if (!manifest) return fail('ImageNotFound', 'Requested image not found');
  if (id.imageDigest !== undefined && manifest.digest !== id.imageDigest) {
    return fail('ImageTagDoesNotMatchDigest', 'Invalid request parameters: given tag does not map to the given digest');
  }
  return { manifest };
}
