import { imageNotFound } from '../image-ids.js';
import { invalidParameter } from '../errors.js';
import { requiredImageId } from '../one-image.js';
import type { EcrContext, EcrInput, EcrOperations } from '../operation.js';
import { authorizedRepository } from '../repositories.js';
import { checkRegistryId, repositoryName, requiredEnum } from '../validate.js';

/**
 * UpdateImageStorageClass: ARCHIVE moves an image into the archive storage class (not pullable,
 * still listed and described), STANDARD starts restoring it: the answer's imageStatus is ACTIVATING
 * and the image is pullable once the restore job has made it ACTIVE.
 */
async function updateImageStorageClass(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const name = repositoryName(input);
  const id = requiredImageId(input);
  const target = requiredEnum(input, 'targetStorageClass', ['STANDARD', 'ARCHIVE'] as const);
  const repo = await authorizedRepository(ctx, 'ecr:UpdateImageStorageClass', name);
  const result = await ctx.registry.images.updateStorageClass(repo, id, target);
  if ('failure' in result) {
    const { failureCode, failureReason } = result.failure;
    if (failureCode === 'MissingDigestAndTag' || failureCode === 'InvalidImageDigest') throw invalidParameter(failureReason);
    throw imageNotFound(repo, id);
  }
  return {
    registryId: repo.registryId,
    repositoryName: repo.name,
    imageId: { imageDigest: result.manifest.digest, ...(id.imageTag !== undefined ? { imageTag: id.imageTag } : {}) },
    imageStatus: result.imageStatus,
  };
}

export const STORAGE_CLASS_OPERATIONS: EcrOperations = {
  UpdateImageStorageClass: updateImageStorageClass,
};
