import { isRegistryError } from '../../domain/registry/errors.js';
import type { Repository } from '../../domain/registry/model.js';
import type { Registry } from '../../domain/registry/registry.js';

/**
 * A door's AWS JSON exception class: ECR's and ECR Public's have the same shape, and their layer
 * operations the same exception names.
 */
export type AwsExceptionClass = new (type: string, message: string, status?: number, extra?: Record<string, unknown>) => Error;

/** The upload a layer operation addresses, resolved and authorized by the door. */
export interface LayerUpload {
  registry: Registry;
  repo: Repository;
  /** As the door's callers know them (ECR Public: the account, not the public namespace). */
  registryId: string;
  repositoryName: string;
  uploadId: string;
}

/**
 * UploadLayerPart, as ECR and ECR Public answer it: the part must start where the upload ends and
 * be as long as its byte range says. Returns `lastByteReceived`.
 */
export async function uploadLayerPart(to: LayerUpload, part: { first: number; last: number; bytes: Buffer }, Exception: AwsExceptionClass): Promise<number> {
  const { registry, repo, registryId, repositoryName, uploadId } = to;
  const { first, last, bytes } = part;
  const upload = await registry.uploads.get(repo, uploadId);
  const invalidPart = (message: string) => new Exception('InvalidLayerPartException', message, 400, { registryId, repositoryName, uploadId, lastValidByteReceived: upload.size - 1 });
  if (first !== upload.size) throw invalidPart(`The part first byte '${first}' is not contiguous with the last byte received '${upload.size - 1}'`);
  if (last < first || last - first + 1 !== bytes.length) throw invalidPart(`The part byte range ${first}-${last} does not match the part size ${bytes.length}`);
  try {
    const updated = await registry.uploads.append(repo, upload.id, (async function* () {
      yield bytes;
    })(), { range: { start: first, end: last }, expectedLength: bytes.length });
    return updated.size - 1;
  } catch (err) {
    if (isRegistryError(err, 'UploadOutOfOrder')) throw invalidPart('The part was not contiguous with the upload');
    throw err;
  }
}

/**
 * CompleteLayerUpload, as ECR and ECR Public answer it: an upload with no parts, a layer the
 * repository has already (the upload is dropped), and bytes that do not match the digest are refused.
 */
export async function completeLayerUpload(to: LayerUpload, layerDigest: string, Exception: AwsExceptionClass): Promise<void> {
  const { registry, repo, registryId, repositoryName, uploadId } = to;
  const upload = await registry.uploads.get(repo, uploadId);
  if (upload.size === 0) throw new Exception('EmptyUploadException', `The upload with id '${uploadId}' does not contain any layer parts`);
  if (await registry.blobs.has(repo, layerDigest)) {
    await registry.uploads.cancel(repo, upload.id).catch(() => undefined);
    throw new Exception(
      'LayerAlreadyExistsException',
      `The layer with digest '${layerDigest}' already exists in the repository with name '${repositoryName}' in the registry with id '${registryId}'`,
    );
  }
  try {
    await registry.uploads.complete(repo, upload.id, layerDigest);
  } catch (err) {
    if (isRegistryError(err, 'DigestMismatch') || isRegistryError(err, 'InvalidDigest')) {
      throw new Exception('InvalidLayerException', `The layer digest '${layerDigest}' does not match the uploaded content`);
    }
    throw err;
  }
}
