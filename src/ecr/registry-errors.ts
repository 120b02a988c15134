import { RegistryError } from '../registry/errors.js';
import { EcrError, invalidParameter } from './errors.js';

/** Renders a domain failure as the ECR exception a client of the API expects. */
export function toEcrError(err: unknown, where: { repositoryName: string; registryId: string }): unknown {
  if (!(err instanceof RegistryError)) return err;
  const { repositoryName, registryId } = where;
  switch (err.code) {
    case 'NAME_UNKNOWN':
      return new EcrError('RepositoryNotFoundException', `The repository with name '${repositoryName}' does not exist in the registry with id '${registryId}'`);
    case 'MANIFEST_BLOB_UNKNOWN':
      return new EcrError(
        'LayersNotFoundException',
        `Layers with digests '[${digestOf(err)}]' required for pushing image into repository with name '${repositoryName}' in the registry with id '${registryId}' do not exist`,
      );
    case 'MANIFEST_UNKNOWN':
      return new EcrError(
        'ReferencedImagesNotFoundException',
        `Some of the referenced images '[${digestOf(err)}]' do not exist in the repository with name '${repositoryName}' in the registry with id '${registryId}'`,
      );
    case 'TAG_INVALID':
      if (/immutable/.test(err.message)) return new EcrError('ImageTagAlreadyExistsException', err.message);
      return invalidParameter(`Invalid parameter at 'imageTag' failed to satisfy constraint: '${err.message}'`);
    case 'MANIFEST_INVALID':
      return invalidParameter(`Invalid parameter at 'ImageManifest' failed to satisfy constraint: '${err.message}'`);
    case 'DIGEST_INVALID':
      return invalidParameter(`Invalid parameter at 'imageDigest' failed to satisfy constraint: '${err.message}'`);
    case 'NAME_INVALID':
      return invalidParameter(`Invalid parameter at 'repositoryName' failed to satisfy constraint: '${err.message}'`);
    default:
      return invalidParameter(err.message);
  }
}

function digestOf(err: RegistryError): string {
  const d = err.detail as { digest?: string } | undefined;
  return d?.digest ?? '';
}
