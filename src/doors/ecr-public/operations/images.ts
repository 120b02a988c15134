import type { ImageId } from '../../../domain/registry/image-ids.js';
import type { Manifest, ManifestWithTags, Repository } from '../../../domain/registry/model.js';
import { page } from '../../../domain/registry/paging.js';
import { publicRepositoryArn } from '../../../domain/registry/public-registries.js';
import type { EcrPublicContext, EcrPublicInput, EcrPublicOperation } from '../context.js';
import { EcrPublicError, invalidParameter } from '../errors.js';
import { accountOf, addressedAccount, authorizedRepository, epochSeconds } from '../repositories.js';

function imageIds(raw: unknown): ImageId[] {
  return (raw as Array<{ imageDigest?: string; imageTag?: string }>).map(({ imageDigest, imageTag }) => {
    const id: ImageId = {};
    if (typeof imageDigest === 'string') id.imageDigest = imageDigest;
    if (typeof imageTag === 'string') id.imageTag = imageTag;
    return id;
  });
}

function imageNotFound(repo: Repository, id: ImageId): EcrPublicError {
  return new EcrPublicError(
    'ImageNotFoundException',
    `The image with imageId {imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'} does not exist within the repository with name '${repo.name}' in the registry with id '${accountOf(repo)}'`,
  );
}

/** The fields ImageDetail and ReferencedImageDetail share. */
function referencedDetail(m: Manifest, size: number): Record<string, unknown> {
  const out: Record<string, unknown> = { imageDigest: m.digest, imageSizeInBytes: size, imagePushedAt: epochSeconds(m.pushedAt), imageManifestMediaType: m.mediaType };
  if (m.configMediaType) out.artifactMediaType = m.configMediaType;
  return out;
}

function imageDetail(repo: Repository, m: ManifestWithTags, size: number): Record<string, unknown> {
  const { imageDigest, ...rest } = referencedDetail(m, size);
  return { registryId: accountOf(repo), repositoryName: repo.name, imageDigest, ...(m.tags.length > 0 ? { imageTags: m.tags } : {}), ...rest };
}

async function describeImages(input: EcrPublicInput, ctx: EcrPublicContext) {
  const accountId = await addressedAccount(input, ctx);
  const maxResults = input.maxResults as number | undefined;
  const nextToken = input.nextToken as string | undefined;
  if (input.imageIds !== undefined && (maxResults !== undefined || nextToken !== undefined)) {
    throw invalidParameter('maxResults', 'maxResults and nextToken cannot be used with imageIds');
  }
  const repo = await authorizedRepository(ctx, 'ecr-public:DescribeImages', accountId, input.repositoryName as string);
  const all = await ctx.registry.images.list(repo);
  let selected: ManifestWithTags[];
  let next: string | undefined;
  if (input.imageIds !== undefined) {
    const byDigest = new Map(all.map((m) => [m.digest, m]));
    const seen = new Set<string>();
    selected = [];
    for (const id of imageIds(input.imageIds)) {
      const found = await ctx.registry.images.resolve(repo, id);
      if ('failure' in found) {
        if (found.failure.failureCode === 'ImageNotFound' || found.failure.failureCode === 'ImageTagDoesNotMatchDigest') throw imageNotFound(repo, id);
        throw new EcrPublicError('InvalidParameterException', found.failure.failureReason);
      }
      if (seen.has(found.manifest.digest)) continue;
      seen.add(found.manifest.digest);
      selected.push(byDigest.get(found.manifest.digest) ?? { ...found.manifest, tags: [] });
    }
  } else {
    ({ items: selected, nextToken: next } = page(all, nextToken, maxResults, `public-images:${repo.id}`));
  }
  const sizes = await ctx.registry.images.sizes(repo, selected);
  return { imageDetails: selected.map((m) => imageDetail(repo, m, sizes.get(m.digest) ?? m.layersSize)), ...(next ? { nextToken: next } : {}) };
}

async function describeImageTags(input: EcrPublicInput, ctx: EcrPublicContext) {
  const accountId = await addressedAccount(input, ctx);
  const repo = await authorizedRepository(ctx, 'ecr-public:DescribeImageTags', accountId, input.repositoryName as string);
  const tags = await ctx.registry.images.listTags(repo, undefined, undefined);
  const { items, nextToken } = page(tags, input.nextToken as string | undefined, input.maxResults as number | undefined, `public-tags:${repo.id}`);
  const manifests = new Map((await ctx.registry.images.list(repo)).map((m) => [m.digest, m]));
  const shown = items.map((t) => manifests.get(t.digest)).filter((m): m is ManifestWithTags => m !== undefined);
  const sizes = await ctx.registry.images.sizes(repo, shown);
  const imageTagDetails = items.flatMap((t) => {
    const m = manifests.get(t.digest);
    return m ? [{ imageTag: t.name, createdAt: epochSeconds(t.updatedAt), imageDetail: referencedDetail(m, sizes.get(m.digest) ?? m.layersSize) }] : [];
  });
  return { imageTagDetails, ...(nextToken ? { nextToken } : {}) };
}

async function putImage(input: EcrPublicInput, ctx: EcrPublicContext) {
  const accountId = await addressedAccount(input, ctx);
  const name = input.repositoryName as string;
  await ctx.authorize('ecr-public:PutImage', publicRepositoryArn(accountId, name));
  const tag = input.imageTag as string | undefined;
  const { repository, manifest } = await ctx.registry.images.putImage(
    ctx.registry.publicRegistries.ref(accountId, name),
    Buffer.from(input.imageManifest as string, 'utf8'),
    { mediaType: input.imageManifestMediaType as string | undefined, tag, digest: input.imageDigest as string | undefined },
  );
  return {
    image: {
      registryId: accountId,
      repositoryName: repository.name,
      imageId: tag === undefined ? { imageDigest: manifest.digest } : { imageDigest: manifest.digest, imageTag: tag },
      imageManifest: manifest.body.toString('utf8'),
      imageManifestMediaType: manifest.mediaType,
    },
  };
}

async function batchDeleteImage(input: EcrPublicInput, ctx: EcrPublicContext) {
  const accountId = await addressedAccount(input, ctx);
  const repo = await authorizedRepository(ctx, 'ecr-public:BatchDeleteImage', accountId, input.repositoryName as string);
  const { deleted, failures } = await ctx.registry.images.batchDelete(repo, imageIds(input.imageIds));
  return { imageIds: deleted, failures };
}

export const IMAGE_OPERATIONS: Record<string, EcrPublicOperation> = {
  DescribeImages: describeImages,
  DescribeImageTags: describeImageTags,
  PutImage: putImage,
  BatchDeleteImage: batchDeleteImage,
};
