import { RegistryError, type RegistryErrorKind } from '../../domain/registry/errors.js';
import { EcrError, invalidParameter } from './errors.js';

interface Where {
  repositoryName: string;
  registryId: string;
}

const constraint = (field: string, message: string) => invalidParameter(`Invalid parameter at '${field}' failed to satisfy constraint: '${message}'`);

/** How each domain failure reads on the ECR API. */
const TO_ECR: Record<RegistryErrorKind, (err: RegistryError, where: Where) => EcrError> = {
  RepositoryNotFound: (e) => new EcrError('RepositoryNotFoundException', e.message),
  RepositoryAlreadyExists: (e) => new EcrError('RepositoryAlreadyExistsException', e.message),
  RepositoryNotEmpty: (e) => new EcrError('RepositoryNotEmptyException', e.message),
  InvalidRepositoryName: (e) => constraint('repositoryName', e.message),
  InvalidTag: (e) => constraint('imageTag', e.message),
  InvalidDigest: (e) => constraint('imageDigest', e.message),
  DigestMismatch: (e) => new EcrError('ImageDigestDoesNotMatchException', e.message),
  // ECR words every manifest it cannot read the same way.
  ManifestInvalid: () => constraint('ImageManifest', 'Invalid JSON syntax'),
  ManifestTooLarge: (e) => constraint('ImageManifest', e.message),
  ManifestNotFound: (e) => new EcrError('ImageNotFoundException', e.message),
  ManifestBlobsMissing: (e, w) =>
    new EcrError(
      'LayersNotFoundException',
      `Layers with digests '[${digestsOf(e)}]' required for pushing image into repository with name '${w.repositoryName}' in the registry with id '${w.registryId}' do not exist`,
    ),
  ReferencedManifestsMissing: (e, w) =>
    new EcrError(
      'ReferencedImagesNotFoundException',
      `Some of the referenced images '[${digestsOf(e)}]' do not exist in the repository with name '${w.repositoryName}' in the registry with id '${w.registryId}'`,
    ),
  TagImmutable: (e) => new EcrError('ImageTagAlreadyExistsException', e.message),
  ImageAlreadyExists: (e) => new EcrError('ImageAlreadyExistsException', e.message),
  BlobNotFound: (e) => new EcrError('LayersNotFoundException', e.message),
  LayerAlreadyExists: (e) => new EcrError('LayerAlreadyExistsException', e.message),
  LayerNotReferenced: (e) => new EcrError('LayerInaccessibleException', e.message),
  UploadNotFound: (e) => new EcrError('UploadNotFoundException', e.message),
  UploadOutOfOrder: (e) => new EcrError('InvalidLayerPartException', e.message),
  UploadSizeMismatch: (e) => new EcrError('InvalidLayerPartException', e.message),
  UploadTooLarge: (e) => new EcrError('LayerPartTooLargeException', e.message),
  StorageFull: (e) => new EcrError('ServerException', e.message, 500),
  Kms: (e) => new EcrError('KmsException', e.message, 400, e.detail.kmsError ? { kmsError: e.detail.kmsError } : {}),
  EmptyUpload: (e) => new EcrError('EmptyUploadException', e.message),
  RepositoryPolicyNotFound: (e) => new EcrError('RepositoryPolicyNotFoundException', e.message),
  RegistryPolicyNotFound: (e) => new EcrError('RegistryPolicyNotFoundException', e.message),
  InvalidPolicy: (e) => constraint(e.detail.field ?? 'policyText', e.message),
  LifecyclePolicyNotFound: (e) => new EcrError('LifecyclePolicyNotFoundException', e.message),
  InvalidLifecyclePolicy: (e) => invalidParameter(e.message),
  LifecyclePreviewNotFound: (e) => new EcrError('LifecyclePolicyPreviewNotFoundException', e.message),
  LifecyclePreviewInProgress: (e) => new EcrError('LifecyclePolicyPreviewInProgressException', e.message),
  TooManyResourceTags: (e) => new EcrError('TooManyTagsException', e.message),
  InvalidResourceTag: (e) => new EcrError('InvalidTagParameterException', e.message),
  InvalidPageToken: () => constraint('nextToken', 'Invalid pagination token'),
  InvalidParameter: (e) => (e.detail.field ? constraint(e.detail.field, e.message) : invalidParameter(e.message)),
  TemplateAlreadyExists: (e) => new EcrError('TemplateAlreadyExistsException', e.message),
  TemplateNotFound: (e) => new EcrError('TemplateNotFoundException', e.message),
  ExclusionAlreadyExists: (e) => new EcrError('ExclusionAlreadyExistsException', e.message),
  ExclusionNotFound: (e) => new EcrError('ExclusionNotFoundException', e.message),
  SigningConfigurationNotFound: (e) => new EcrError('SigningConfigurationNotFoundException', e.message),
  LimitExceeded: (e) => new EcrError('LimitExceededException', e.message),
  ImageArchived: (e) => new EcrError('ImageArchivedException', e.message),
  StorageClassUpdateNotSupported: (e) => new EcrError('ImageStorageClassUpdateNotSupportedException', e.message),
  FeatureNotAvailable: (e) => new EcrError('ValidationException', e.message),
  RoleDenied: (e) => new EcrError('AccessDeniedException', e.message),
};

/** Renders a domain failure as the ECR exception a client of the API expects; other errors pass. */
export function toEcrError(err: unknown, where: Where): unknown {
  return err instanceof RegistryError ? TO_ECR[err.kind](err, where) : err;
}

function digestsOf(err: RegistryError): string {
  return (err.detail.digests ?? (err.detail.digest ? [err.detail.digest] : [])).join(', ');
}
