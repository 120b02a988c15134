import { completeLayerUpload, uploadLayerPart } from '../../ecr-shared/layer-uploads.js';
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

async function uploadLayerPartOperation(input: EcrPublicInput, ctx: EcrPublicContext) {
  const accountId = await addressedAccount(input, ctx);
  const name = input.repositoryName as string;
  const uploadId = input.uploadId as string;
  const first = input.partFirstByte as number;
  const last = input.partLastByte as number;
  const bytes = Buffer.from(input.layerPartBlob as string, 'base64');
  const repo = await authorizedRepository(ctx, 'ecr-public:UploadLayerPart', accountId, name);
  const lastByteReceived = await uploadLayerPart({ registry: ctx.registry, repo, registryId: accountId, repositoryName: name, uploadId }, { first, last, bytes }, EcrPublicError);
  return { registryId: accountId, repositoryName: name, uploadId, lastByteReceived };
}

async function completeLayerUploadOperation(input: EcrPublicInput, ctx: EcrPublicContext) {
  const accountId = await addressedAccount(input, ctx);
  const name = input.repositoryName as string;
  const uploadId = input.uploadId as string;
  const layerDigest = (input.layerDigests as string[])[0]!;
  const repo = await authorizedRepository(ctx, 'ecr-public:CompleteLayerUpload', accountId, name);
  await completeLayerUpload({ registry: ctx.registry, repo, registryId: accountId, repositoryName: name, uploadId }, layerDigest, EcrPublicError);
  return { registryId: accountId, repositoryName: name, uploadId, layerDigest };
}

export const LAYER_OPERATIONS: Record<string, EcrPublicOperation> = {
  BatchCheckLayerAvailability: batchCheckLayerAvailability,
  InitiateLayerUpload: initiateLayerUpload,
  UploadLayerPart: uploadLayerPartOperation,
  CompleteLayerUpload: completeLayerUploadOperation,
};
