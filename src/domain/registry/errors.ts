import { MetadataFullError } from '../../store/meta/sql.js';

/**
 * What can go wrong in the registry domain, in its own words. Each door renders a kind in its
 * protocol: the /v2 door as an OCI error code and status, the ECR door as an AWS exception.
 */
export type RegistryErrorKind =
  | 'RepositoryNotFound'
  | 'RepositoryAlreadyExists'
  | 'RepositoryNotEmpty'
  | 'InvalidRepositoryName'
  | 'InvalidTag'
  | 'InvalidDigest'
  | 'DigestMismatch'
  | 'ManifestInvalid'
  | 'ManifestTooLarge'
  | 'ManifestNotFound'
  | 'ManifestBlobsMissing'
  | 'ReferencedManifestsMissing'
  | 'TagImmutable'
  | 'ImageAlreadyExists'
  | 'BlobNotFound'
  | 'LayerAlreadyExists'
  | 'LayerNotReferenced'
  | 'UploadNotFound'
  | 'UploadOutOfOrder'
  | 'UploadSizeMismatch'
  | 'UploadTooLarge'
  | 'StorageFull'
  | 'EmptyUpload'
  | 'RepositoryPolicyNotFound'
  | 'RegistryPolicyNotFound'
  | 'InvalidPolicy'
  | 'LifecyclePolicyNotFound'
  | 'InvalidLifecyclePolicy'
  | 'LifecyclePreviewNotFound'
  | 'LifecyclePreviewInProgress'
  | 'TooManyResourceTags'
  | 'InvalidResourceTag'
  | 'InvalidPageToken'
  | 'InvalidParameter'
  | 'TemplateAlreadyExists'
  | 'TemplateNotFound'
  | 'ExclusionAlreadyExists'
  | 'ExclusionNotFound'
  | 'SigningConfigurationNotFound'
  | 'LimitExceeded'
  /** The image is in the archive storage class: listed and described, not pulled until restored. */
  | 'ImageArchived'
  /** A storage class change the image cannot make (already there, or an active index lists it). */
  | 'StorageClassUpdateNotSupported'
  /** A setting or feature berth does not offer: refused rather than stored and ignored. */
  | 'FeatureNotAvailable'
  /** An IAM role the customer named (a template's custom role) does not let ECR do what it must. */
  | 'RoleDenied'
  /** The repository's KMS key cannot be used (disabled, pending deletion, gone, or not allowed). */
  | 'Kms';

/** A failure the domain reports to its callers. `detail` carries what a door may quote (digest, name…). */
export class RegistryError extends Error {
  constructor(
    readonly kind: RegistryErrorKind,
    message: string,
    readonly detail: { digest?: string; digests?: string[]; name?: string; reference?: string; uploadId?: string; size?: number; field?: string; kmsError?: string } = {},
  ) {
    super(message);
  }
}

export function isRegistryError(e: unknown, kind?: RegistryErrorKind): e is RegistryError {
  return e instanceof RegistryError && (kind === undefined || e.kind === kind);
}

/** The domain error a caller can act on, also when a store reports it (a metadata disk that is full). */
export function asRegistryError(err: unknown): RegistryError | undefined {
  if (err instanceof RegistryError) return err;
  if (err instanceof MetadataFullError) {
    return new RegistryError('StorageFull', 'no space left for the metadata database; delete uploads or images to free space');
  }
  return undefined;
}
