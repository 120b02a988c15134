import type { RepositoryRow, ManifestRow, MetadataStore } from '../store/meta/metadata-store.js';
import { isValidDigest } from '../registry/digest.js';
import { EcrError } from './errors.js';
import type { EcrContext } from './operation.js';
import { parameterError } from './validate.js';

export interface ImageId {
  imageDigest?: string;
  imageTag?: string;
}

export interface ImageFailure {
  imageId: ImageId;
  failureCode: string;
  failureReason: string;
}

/** Validates the shape of an `imageIds` list (1..100 ImageId objects). */
export function parseImageIds(raw: unknown[], field = 'imageIds'): ImageId[] {
  return raw.map((v, i) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new EcrError('SerializationException', `Expected an object for member '${field}'`);
    const { imageDigest, imageTag } = v as Record<string, unknown>;
    if (imageDigest !== undefined && imageDigest !== null && typeof imageDigest !== 'string') throw new EcrError('SerializationException', `Expected a string for member '${field}.${i + 1}.imageDigest'`);
    if (imageTag !== undefined && imageTag !== null && typeof imageTag !== 'string') throw new EcrError('SerializationException', `Expected a string for member '${field}.${i + 1}.imageTag'`);
    if (typeof imageTag === 'string' && (imageTag.length < 1 || imageTag.length > 300)) {
      throw parameterError(`${field}.${i + 1}.member.imageTag`, 'must have length between 1 and 300');
    }
    const id: ImageId = {};
    if (typeof imageDigest === 'string') id.imageDigest = imageDigest;
    if (typeof imageTag === 'string') id.imageTag = imageTag;
    return id;
  });
}

export function imageNotFound(ctx: EcrContext, repo: RepositoryRow, id: ImageId): EcrError {
  return new EcrError(
    'ImageNotFoundException',
    `The image with imageId {imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'} does not exist within the repository with name '${repo.name}' in the registry with id '${ctx.registryId}'`,
  );
}

/** What an ImageId names in the repository, or the failure ECR reports for it. */
export async function resolveImageId(
  meta: MetadataStore,
  repo: RepositoryRow,
  id: ImageId,
): Promise<{ manifest: ManifestRow } | { failure: ImageFailure }> {
  const fail = (failureCode: string, failureReason: string) => ({ failure: { imageId: id, failureCode, failureReason } });
  if (id.imageDigest === undefined && id.imageTag === undefined) {
    return fail('MissingDigestAndTag', 'Invalid request parameters: both tag and digest cannot be null');
  }
  if (id.imageDigest !== undefined && !isValidDigest(id.imageDigest)) {
    return fail('InvalidImageDigest', "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'");
  }
  const manifest =
    id.imageTag !== undefined ? await meta.getTaggedManifest(repo.id, id.imageTag) : await meta.getManifest(repo.id, id.imageDigest!);
  if (!manifest) {
    if (id.imageTag !== undefined && id.imageDigest !== undefined && (await meta.getManifest(repo.id, id.imageDigest))) {
      return fail('ImageTagDoesNotMatchDigest', 'Invalid request parameters: given tag does not map to the given digest');
    }
    return fail('ImageNotFound', 'Requested image not found');
  }
  if (id.imageDigest !== undefined && manifest.digest !== id.imageDigest) {
    return fail('ImageTagDoesNotMatchDigest', 'Invalid request parameters: given tag does not map to the given digest');
  }
  return { manifest };
}
