import type { ServerResponse } from 'node:http';
import { BodyTooLargeError } from '../http/io.js';
import { asRegistryError, type RegistryErrorKind } from '../../domain/registry/errors.js';

/** OCI Distribution error codes, their HTTP statuses and default messages: errors as data. */
export const OCI_ERRORS = {
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, message: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: 'blob upload unknown to registry' },
  DIGEST_INVALID: { status: 400, message: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { status: 400, message: 'manifest references a manifest or blob unknown to registry' },
  MANIFEST_INVALID: { status: 400, message: 'manifest invalid' },
  MANIFEST_UNKNOWN: { status: 404, message: 'manifest unknown to registry' },
  NAME_INVALID: { status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { status: 404, message: 'repository name not known to registry' },
  SIZE_INVALID: { status: 400, message: 'provided length did not match content length' },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  DENIED: { status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 415, message: 'the operation is unsupported' },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests' },
  // Not in the spec's table but used by Distribution and understood by clients.
  TAG_INVALID: { status: 400, message: 'manifest tag did not match URI' },
  RANGE_INVALID: { status: 416, message: 'invalid content range' },
  PAGINATION_NUMBER_INVALID: { status: 400, message: 'invalid number of results requested' },
  UNKNOWN: { status: 500, message: 'unknown error' },
} as const;

export type OciErrorCode = keyof typeof OCI_ERRORS;

/** An error in the /v2 protocol: an OCI code, a status, and extra headers to send with it. */
export class OciError extends Error {
  readonly status: number;
  headers?: Record<string, string>;
  constructor(
    readonly code: OciErrorCode,
    message?: string,
    readonly detail?: unknown,
    status?: number,
  ) {
    super(message ?? OCI_ERRORS[code].message);
    this.status = status ?? OCI_ERRORS[code].status;
  }
}

/** How each domain failure reads on /v2. */
const FROM_DOMAIN: Record<RegistryErrorKind, { code: OciErrorCode; status?: number }> = {
  RepositoryNotFound: { code: 'NAME_UNKNOWN' },
  RepositoryAlreadyExists: { code: 'DENIED' },
  RepositoryNotEmpty: { code: 'DENIED' },
  InvalidRepositoryName: { code: 'NAME_INVALID' },
  InvalidTag: { code: 'TAG_INVALID' },
  InvalidDigest: { code: 'DIGEST_INVALID' },
  DigestMismatch: { code: 'DIGEST_INVALID' },
  ManifestInvalid: { code: 'MANIFEST_INVALID' },
  ManifestTooLarge: { code: 'MANIFEST_INVALID', status: 413 },
  ManifestNotFound: { code: 'MANIFEST_UNKNOWN' },
  ManifestBlobsMissing: { code: 'MANIFEST_BLOB_UNKNOWN' },
  ReferencedManifestsMissing: { code: 'MANIFEST_UNKNOWN', status: 400 },
  TagImmutable: { code: 'TAG_INVALID' },
  ImageAlreadyExists: { code: 'MANIFEST_INVALID' },
  BlobNotFound: { code: 'BLOB_UNKNOWN' },
  LayerAlreadyExists: { code: 'BLOB_UPLOAD_INVALID' },
  LayerNotReferenced: { code: 'BLOB_UNKNOWN' },
  UploadNotFound: { code: 'BLOB_UPLOAD_UNKNOWN' },
  UploadOutOfOrder: { code: 'BLOB_UPLOAD_INVALID', status: 416 },
  UploadSizeMismatch: { code: 'SIZE_INVALID' },
  UploadTooLarge: { code: 'SIZE_INVALID', status: 413 },
  StorageFull: { code: 'UNKNOWN', status: 507 },
  Kms: { code: 'DENIED', status: 403 },
  RoleDenied: { code: 'DENIED', status: 403 },
  EmptyUpload: { code: 'BLOB_UPLOAD_INVALID' },
  RepositoryPolicyNotFound: { code: 'UNSUPPORTED', status: 404 },
  RegistryPolicyNotFound: { code: 'UNSUPPORTED', status: 404 },
  InvalidPolicy: { code: 'UNSUPPORTED', status: 400 },
  LifecyclePolicyNotFound: { code: 'UNSUPPORTED', status: 404 },
  InvalidLifecyclePolicy: { code: 'UNSUPPORTED', status: 400 },
  LifecyclePreviewNotFound: { code: 'UNSUPPORTED', status: 404 },
  LifecyclePreviewInProgress: { code: 'UNSUPPORTED', status: 409 },
  TooManyResourceTags: { code: 'UNSUPPORTED', status: 400 },
  InvalidResourceTag: { code: 'UNSUPPORTED', status: 400 },
  InvalidPageToken: { code: 'PAGINATION_NUMBER_INVALID' },
  InvalidParameter: { code: 'UNSUPPORTED', status: 400 },
  TemplateAlreadyExists: { code: 'UNSUPPORTED', status: 400 },
  TemplateNotFound: { code: 'UNSUPPORTED', status: 404 },
  ExclusionAlreadyExists: { code: 'UNSUPPORTED', status: 400 },
  ExclusionNotFound: { code: 'UNSUPPORTED', status: 404 },
  SigningConfigurationNotFound: { code: 'UNSUPPORTED', status: 404 },
  LimitExceeded: { code: 'TOOMANYREQUESTS' },
  // ECR answers a pull of an archived image with a 404.
  ImageArchived: { code: 'MANIFEST_UNKNOWN' },
  StorageClassUpdateNotSupported: { code: 'UNSUPPORTED', status: 400 },
  FeatureNotAvailable: { code: 'UNSUPPORTED', status: 400 },
};

/** Any failure as the /v2 door reports it; unexpected ones become UNKNOWN without internals. */
export function toOciError(err: unknown): OciError {
  if (err instanceof OciError) return err;
  const domainError = asRegistryError(err);
  if (domainError) {
    const { code, status } = FROM_DOMAIN[domainError.kind];
    return new OciError(code, domainError.message, domainError.detail, status);
  }
  if (err instanceof BodyTooLargeError) return new OciError('SIZE_INVALID', err.message, undefined, 413);
  return new OciError('UNKNOWN', 'internal error');
}

/** Renders any failure in the OCI error shape. */
export function sendOciError(res: ServerResponse, err: unknown, head: boolean, extraHeaders: Record<string, string> = {}): OciError {
  const e = toOciError(err);
  if (res.headersSent) {
    res.destroy();
    return e;
  }
  const body = JSON.stringify({ errors: [{ code: e.code, message: e.message, detail: e.detail ?? {} }] });
  res.writeHead(e.status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'Docker-Distribution-API-Version': 'registry/2.0',
    ...e.headers,
    ...extraHeaders,
  });
  res.end(head ? undefined : body);
  return e;
}
