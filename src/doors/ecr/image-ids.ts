import type { ImageId } from '../../domain/registry/image-ids.js';
import type { Repository } from '../../domain/registry/model.js';
import { EcrError } from './errors.js';
import { parameterError } from './validate.js';

export type { ImageId } from '../../domain/registry/image-ids.js';

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

export function imageNotFound(repo: Repository, id: ImageId): EcrError {
  return new EcrError(
    'ImageNotFoundException',
    `The image with imageId {imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'} does not exist within the repository with name '${repo.name}' in the registry with id '${repo.registryId}'`,
  );
}
