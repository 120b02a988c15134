import { RegistryError, type RegistryErrorKind } from '../../domain/registry/errors.js';
import { EcrPublicError, invalidParameter } from './errors.js';

const NAMESPACE = /ecr-public:(\d{12})/g;
const error = (type: string) => (e: RegistryError) => new EcrPublicError(type, e.message);
const parameter = (field: string) => (e: RegistryError) => invalidParameter(e.detail.field ?? field, e.message);
/** What private ECR has and ECR Public does not: not reachable through this door, answered as unsupported. */
const unsupported = (e: RegistryError) => new EcrPublicError('UnsupportedCommandException', e.message);

/** How each domain failure reads on the ECR Public API (its model's exception names). */
const TO_ECR_PUBLIC: Record<RegistryErrorKind, (err: RegistryError) => EcrPublicError> = {
  RepositoryNotFound: error('RepositoryNotFoundException'),
  RepositoryAlreadyExists: error('RepositoryAlreadyExistsException'),
  RepositoryNotEmpty: error('RepositoryNotEmptyException'),
  InvalidRepositoryName: parameter('repositoryName'),
  InvalidTag: parameter('imageTag'),
  InvalidDigest: parameter('imageDigest'),
  DigestMismatch: error('ImageDigestDoesNotMatchException'),
  ManifestInvalid: parameter('imageManifest'),
  ManifestTooLarge: parameter('imageManifest'),
  ManifestNotFound: error('ImageNotFoundException'),
  ManifestBlobsMissing: error('LayersNotFoundException'),
  ReferencedManifestsMissing: error('ReferencedImagesNotFoundException'),
  TagImmutable: error('ImageTagAlreadyExistsException'),
  ImageAlreadyExists: error('ImageAlreadyExistsException'),
  BlobNotFound: error('LayersNotFoundException'),
  LayerAlreadyExists: error('LayerAlreadyExistsException'),
  LayerNotReferenced: error('LayersNotFoundException'),
  UploadNotFound: error('UploadNotFoundException'),
  UploadOutOfOrder: error('InvalidLayerPartException'),
  UploadSizeMismatch: error('InvalidLayerPartException'),
  UploadTooLarge: error('LimitExceededException'),
  StorageFull: (e) => new EcrPublicError('ServerException', e.message, 500),
  EmptyUpload: error('EmptyUploadException'),
  RepositoryPolicyNotFound: error('RepositoryPolicyNotFoundException'),
  RegistryPolicyNotFound: unsupported,
  InvalidPolicy: parameter('policyText'),
  LifecyclePolicyNotFound: unsupported,
  InvalidLifecyclePolicy: unsupported,
  LifecyclePreviewNotFound: unsupported,
  LifecyclePreviewInProgress: unsupported,
  TooManyResourceTags: error('TooManyTagsException'),
  InvalidResourceTag: error('InvalidTagParameterException'),
  InvalidPageToken: () => invalidParameter('nextToken', 'Invalid pagination token'),
  TemplateAlreadyExists: unsupported,
  TemplateNotFound: unsupported,
  ExclusionAlreadyExists: unsupported,
  ExclusionNotFound: unsupported,
  SigningConfigurationNotFound: unsupported,
  LimitExceeded: error('LimitExceededException'),
  // ECR Public has no archive storage class: an archived image is simply not there.
  ImageArchived: error('ImageNotFoundException'),
  StorageClassUpdateNotSupported: unsupported,
  FeatureNotAvailable: unsupported,
  Kms: unsupported,
  RoleDenied: unsupported,
  InvalidParameter: (e) => (e.detail.field ? invalidParameter(e.detail.field, e.message) : new EcrPublicError('InvalidParameterException', e.message)),
};

/** A domain failure as ECR Public reports it; the public namespace reads as the account it belongs to. */
export function toEcrPublicError(err: RegistryError): EcrPublicError {
  const rendered = TO_ECR_PUBLIC[err.kind](err);
  rendered.message = rendered.message.replace(NAMESPACE, '$1');
  return rendered;
}
