import { isRegistryError } from '../../../domain/registry/errors.js';
import type { EcrPublicContext, EcrPublicInput, EcrPublicOperation } from '../context.js';
import { EcrPublicError } from '../errors.js';
import { addressedAccount, authorizedRepository } from '../repositories.js';

/** The part size ECR Public advertises; berth accepts any part size. */
const PART_SIZE = 10 * 1024 * 1024;
const LAYER_MEDIA_TYPE = 'application/vnd.docker.container.image.rootfs.diff.tar.gzip';

async function batchCheckLayerAvailability(input: EcrPublicInput, ctx: EcrPublicContext) {
  const accountId = await addressedAccount(input, ctx);
  const repo = await authorizedRepository(ctx, 'ecr-public:BatchCheckLayerAvailability', accountId, input.repositoryName as string);
  const layers: Record<string, unknown>[] = [];
  const failures: Record<string, unknown>[] = [];
  for (const layer of await ctx.registry.blobs.availability(repo, input.layerDigests as string[])) {
    const layerDigest = layer.digest;
    if (layer.available) layers.push({ layerDigest, layerAvailability: 'AVAILABLE', layerSize: layer.size, mediaType: LAYER_MEDIA_TYPE });
    else if (layer.failure === 'MissingLayerDigest') failures.push({ layerDigest, failureCode: 'MissingLayerDigest', failureReason: 'Missing layer digest' });
    else if (layer.failure === 'InvalidLayerDigest') failures.push({ layerDigest, failureCode: 'InvalidLayerDigest', failureReason: 'Invalid layer digest' });
    else layers.push({ layerDigest, layerAvailability: 'UNAVAILABLE' });
  }
  return { layers, failures };
}

async function initiateLayerUpload(input: EcrPublicInput, ctx: EcrPublicContext) {
  const accountId = await addressedAccount(input, ctx);
  const repo = await authorizedRepository(ctx, 'ecr-public:InitiateLayerUpload', accountId, input.repositoryName as string);
  const upload = await ctx.registry.uploads.start(repo);
  return { uploadId: upload.id, partSize: PART_SIZE };
}

async function uploadLayerPart(input: EcrPublicInput, ctx: EcrPublicContext) {
  const accountId = await addressedAccount(input, ctx);
  const name = input.repositoryName as string;
  const uploadId = input.uploadId as string;
  const first = input.partFirstByte as number;
  const last = input.partLastByte as number;
  const bytes = Buffer.from(input.layerPartBlob as string, 'base64');
  const repo = await authorizedRepository(ctx, 'ecr-public:UploadLayerPart', accountId, name);
  const upload = await ctx.registry.uploads.get(repo, uploadId);
  const invalidPart = (message: string) =>
    new EcrPublicError('InvalidLayerPartException', message, 400, { registryId: accountId, repositoryName: name, uploadId, lastValidByteReceived: upload.size - 1 });
  if (first !== upload.size) throw invalidPart(`The part first byte '${first}' is not contiguous with the last byte received '${upload.size - 1}'`);
  if (last < first || last - first + 1 !== bytes.length) throw invalidPart(`The part byte range ${first}-${last} does not match the part size ${bytes.length}`);
  try {
    const updated = await ctx.registry.uploads.append(repo, upload.id, (async function* () {
      yield bytes;
    })(), { range: { start: first, end: last }, expectedLength: bytes.length });
    return { registryId: accountId, repositoryName: name, uploadId, lastByteReceived: updated.size - 1 };
  } catch (err) {
    if (isRegistryError(err, 'UploadOutOfOrder')) throw invalidPart('The part was not contiguous with the upload');
    throw err;
  }
}

async function completeLayerUpload(input: EcrPublicInput, ctx: EcrPublicContext) {
  const accountId = await addressedAccount(input, ctx);
  const name = input.repositoryName as string;
  const uploadId = input.uploadId as string;
  const layerDigest = (input.layerDigests as string[])[0]!;
  const repo = await authorizedRepository(ctx, 'ecr-public:CompleteLayerUpload', accountId, name);
  const upload = await ctx.registry.uploads.get(repo, uploadId);
  if (upload.size === 0) throw new EcrPublicError('EmptyUploadException', `The upload with id '${uploadId}' does not contain any layer parts`);
  if (await ctx.registry.blobs.has(repo, layerDigest)) {
    await ctx.registry.uploads.cancel(repo, upload.id).catch(() => undefined);
    throw new EcrPublicError(
      'LayerAlreadyExistsException',
      `The layer with digest '${layerDigest}' already exists in the repository with name '${name}' in the registry with id '${accountId}'`,
    );
  }
  try {
    await ctx.registry.uploads.complete(repo, upload.id, layerDigest);
  } catch (err) {
    if (isRegistryError(err, 'DigestMismatch') || isRegistryError(err, 'InvalidDigest')) {
      throw new EcrPublicError('InvalidLayerException', `The layer digest '${layerDigest}' does not match the uploaded content`);
    }
    throw err;
  }
  return { registryId: accountId, repositoryName: name, uploadId, layerDigest };
}

export const LAYER_OPERATIONS: Record<string, EcrPublicOperation> = {
  BatchCheckLayerAvailability: batchCheckLayerAvailability,
  InitiateLayerUpload: initiateLayerUpload,
  UploadLayerPart: uploadLayerPart,
  CompleteLayerUpload: completeLayerUpload,
};
