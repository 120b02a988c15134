import type { ImageId } from '../../domain/registry/image-ids.js';
import type { Manifest, Repository } from '../../domain/registry/model.js';
import { imageNotFound, parseImageIds } from './image-ids.js';
import { invalidParameter } from './errors.js';
import type { EcrContext, EcrInput } from './operation.js';
import { requiredObject } from './validate.js';

/** The required `imageId` member of an operation about one image. */
export function requiredImageId(input: EcrInput, field = 'imageId'): ImageId {
  return parseImageIds([requiredObject(input, field)], field)[0]!;
}

/** The image `id` names in the repository, or ECR's error for why there is none. */
export async function findImage(ctx: EcrContext, repo: Repository, id: ImageId): Promise<Manifest> {
  const found = await ctx.registry.images.resolve(repo, id);
  if ('manifest' in found) return found.manifest;
  const { failureCode, failureReason } = found.failure;
  if (failureCode === 'MissingDigestAndTag' || failureCode === 'InvalidImageDigest') throw invalidParameter(failureReason);
  throw imageNotFound(repo, id);
}
