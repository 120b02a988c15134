import { EcrError } from '../errors.js';
import { findImage, requiredImageId } from '../one-image.js';
import type { EcrContext, EcrInput, EcrOperations } from '../operation.js';
import { authorizedRepository } from '../repositories.js';
import { checkRegistryId, repositoryName, requiredEnum } from '../validate.js';

/**
 * UpdateImageStorageClass. berth has no archive storage class yet: every image is ACTIVE in
 * STANDARD, so archiving is refused (never recorded and ignored) and there is nothing to restore.
 */
async function updateImageStorageClass(input: EcrInput, ctx: EcrContext): Promise<never> {
  checkRegistryId(input);
  const name = repositoryName(input);
  const id = requiredImageId(input);
  const target = requiredEnum(input, 'targetStorageClass', ['STANDARD', 'ARCHIVE'] as const);
  const repo = await authorizedRepository(ctx, 'ecr:UpdateImageStorageClass', name);
  const manifest = await findImage(ctx, repo, id);
  throw new EcrError(
    'ImageStorageClassUpdateNotSupportedException',
    target === 'ARCHIVE'
      ? `The archive storage class is not available in this registry: image '${manifest.digest}' stays in STANDARD`
      : `Image '${manifest.digest}' is not archived: it is already in the STANDARD storage class`,
  );
}

export const STORAGE_CLASS_OPERATIONS: EcrOperations = {
  UpdateImageStorageClass: updateImageStorageClass,
};
