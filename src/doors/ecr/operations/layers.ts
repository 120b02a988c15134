import { completeLayerUpload, uploadLayerPart } from '../../ecr-shared/layer-uploads.js';
import { EcrError } from '../errors.js';
import { layerDownloadPath } from '../layer-download.js';
import type { EcrContext, EcrInput, EcrOperations } from '../operation.js';
import { authorizeDecrypt, authorizedRepository } from '../repositories.js';
import { checkRegistryId, parameterError, repositoryName, requiredInteger, requiredString, stringList } from '../validate.js';

/** ECR's advertised part size; berth accepts any part size, like ECR in practice for the last part. */
const PART_SIZE = 10 * 1024 * 1024;
const MAX_PART_BYTES = 20_971_520;
const UPLOAD_ID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const LAYER_DIGEST = /^[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+$/;

function layerDigestList(input: EcrInput): string[] {
  return stringList(input, 'layerDigests', 1, 100, true)!;
}

async function batchCheckLayerAvailability(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const name = repositoryName(input);
  const digests = layerDigestList(input);
  const repo = await authorizedRepository(ctx, 'ecr:BatchCheckLayerAvailability', name);
  const layers: Record<string, unknown>[] = [];
  const failures: Record<string, unknown>[] = [];
  for (const layer of await ctx.registry.blobs.availability(repo, digests)) {
    const layerDigest = layer.digest;
    if (layer.available) {
      layers.push({ layerDigest, layerAvailability: 'AVAILABLE', layerSize: layer.size, mediaType: layer.mediaType });
    } else if ('archived' in layer) {
      layers.push({ layerDigest, layerAvailability: 'ARCHIVED', layerSize: layer.size, mediaType: layer.mediaType });
    } else if (layer.failure === 'MissingLayerDigest') {
      failures.push({ layerDigest, failureCode: 'MissingLayerDigest', failureReason: 'Missing layer digest' });
    } else if (layer.failure === 'InvalidLayerDigest') {
      failures.push({ layerDigest, failureCode: 'InvalidLayerDigest', failureReason: 'Invalid layer digest' });
    } else {
      layers.push({ layerDigest, layerAvailability: 'UNAVAILABLE' });
    }
  }
  return { layers, failures };
}

async function initiateLayerUpload(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const name = repositoryName(input);
  const repo = await authorizedRepository(ctx, 'ecr:InitiateLayerUpload', name);
  const upload = await ctx.registry.uploads.start(repo);
  return { uploadId: upload.id, partSize: PART_SIZE };
}

function uploadIdOf(input: EcrInput): string {
  const id = requiredString(input, 'uploadId');
  if (!UPLOAD_ID.test(id)) throw parameterError('uploadId', "must satisfy regular expression '[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}'");
  return id;
}

async function uploadLayerPartOperation(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const name = repositoryName(input);
  const uploadId = uploadIdOf(input);
  const first = requiredInteger(input, 'partFirstByte', 0, Number.MAX_SAFE_INTEGER);
  const last = requiredInteger(input, 'partLastByte', 0, Number.MAX_SAFE_INTEGER);
  const encoded = requiredString(input, 'layerPartBlob');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded) || encoded.length % 4 !== 0) {
    throw new EcrError('SerializationException', "Member 'layerPartBlob' is not valid base64");
  }
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.length > MAX_PART_BYTES) throw parameterError('layerPartBlob', `must have length less than or equal to ${MAX_PART_BYTES}`);
  const repo = await authorizedRepository(ctx, 'ecr:UploadLayerPart', name);
  const lastByteReceived = await uploadLayerPart({ registry: ctx.registry, repo, registryId: ctx.registryId, repositoryName: name, uploadId }, { first, last, bytes }, EcrError);
  return { registryId: ctx.registryId, repositoryName: name, uploadId, lastByteReceived };
}

async function completeLayerUploadOperation(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const name = repositoryName(input);
  const uploadId = uploadIdOf(input);
  const digests = layerDigestList(input);
  for (const d of digests) {
    if (!LAYER_DIGEST.test(d)) throw parameterError('layerDigests', "must satisfy regular expression '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'");
  }
  const repo = await authorizedRepository(ctx, 'ecr:CompleteLayerUpload', name);
  const layerDigest = digests[0]!;
  await completeLayerUpload({ registry: ctx.registry, repo, registryId: ctx.registryId, repositoryName: name, uploadId }, layerDigest, EcrError);
  return { registryId: ctx.registryId, repositoryName: name, uploadId, layerDigest };
}

async function getDownloadUrlForLayer(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const name = repositoryName(input);
  const layerDigest = requiredString(input, 'layerDigest');
  if (!LAYER_DIGEST.test(layerDigest)) throw parameterError('layerDigest', "must satisfy regular expression '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'");
  const repo = await authorizedRepository(ctx, 'ecr:GetDownloadUrlForLayer', name);
  await authorizeDecrypt(ctx, repo);
  await ctx.registry.blobs.assertLayerInUse(repo, layerDigest);
  // The object store's own URL where downloads are redirected (the store encrypts at rest); otherwise
  // served through berth, decrypted, since the store holds ciphertext.
  const direct = await ctx.registry.blobs.redirectUrl(repo, layerDigest);
  return { downloadUrl: direct ?? ctx.baseUrl + layerDownloadPath(await ctx.registry.downloads.issue(repo, layerDigest)), layerDigest };
}

export const LAYER_OPERATIONS: EcrOperations = {
  BatchCheckLayerAvailability: batchCheckLayerAvailability,
  InitiateLayerUpload: initiateLayerUpload,
  UploadLayerPart: uploadLayerPartOperation,
  CompleteLayerUpload: completeLayerUploadOperation,
  GetDownloadUrlForLayer: getDownloadUrlForLayer,
};
