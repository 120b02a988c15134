import type { Manifest, ManifestWithTags, Repository } from '../../../domain/registry/model.js';
import { page } from '../../../domain/registry/paging.js';
import type { ImageScanRow } from '../../../store/meta/scan-store.js';
import { findingsSummary, statusShape } from './scanning.js';
import { imageNotFound, parseImageIds, type ImageId } from '../image-ids.js';
import type { EcrContext, EcrInput, EcrOperations } from '../operation.js';
import { authorizeDecrypt, authorizedRepository, epochSeconds, repositoryArn } from '../repositories.js';
import {
  checkRegistryId,
  optionalEnum,
  optionalInteger,
  optionalObject,
  optionalString,
  parameterError,
  repositoryName,
  requiredList,
  requiredString,
  stringList,
} from '../validate.js';

const TAG_STATUS = ['TAGGED', 'UNTAGGED', 'ANY'] as const;
const IMAGE_STATUS = ['ACTIVE', 'ARCHIVED', 'ACTIVATING', 'ANY'] as const;

interface ListFilter {
  tagStatus: (typeof TAG_STATUS)[number];
  /** ECR lists only ACTIVE images unless asked for another status (or ANY). */
  imageStatus: (typeof IMAGE_STATUS)[number];
}

function listFilter(input: EcrInput): ListFilter {
  const filter = optionalObject(input, 'filter');
  const imageStatus = (filter && optionalEnum(filter, 'imageStatus', IMAGE_STATUS)) ?? 'ACTIVE';
  const tagStatus = (filter && optionalEnum(filter, 'tagStatus', TAG_STATUS)) ?? 'ANY';
  return { tagStatus, imageStatus };
}

function paging(input: EcrInput) {
  return { maxResults: optionalInteger(input, 'maxResults', 1, 1000), nextToken: optionalString(input, 'nextToken') };
}

async function listImages(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const name = repositoryName(input);
  const { maxResults, nextToken } = paging(input);
  const { tagStatus: status, imageStatus } = listFilter(input);
  const repo = await authorizedRepository(ctx, 'ecr:ListImages', name);
  const ids: ImageId[] = [];
  for (const m of await ctx.registry.images.list(repo, status, imageStatus)) {
    if (m.tags.length === 0) ids.push({ imageDigest: m.digest });
    for (const tag of m.tags) ids.push({ imageDigest: m.digest, imageTag: tag });
  }
  const { items, nextToken: next } = page(ids, nextToken, maxResults, `images:${repo.id}:${status}:${imageStatus}`);
  return { imageIds: items, ...(next ? { nextToken: next } : {}) };
}

function imageDetail(repo: Repository, m: ManifestWithTags, size: number, scan: ImageScanRow | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { registryId: repo.registryId, repositoryName: repo.name, imageDigest: m.digest };
  if (m.tags.length > 0) out.imageTags = m.tags;
  out.imageSizeInBytes = size;
  out.imagePushedAt = epochSeconds(m.pushedAt);
  out.imageManifestMediaType = m.mediaType;
  // Only an image with a config has an artifact media type: ECR reports none for an index.
  if (m.configMediaType) out.artifactMediaType = m.configMediaType;
  if (m.lastPulledAt !== null) out.lastRecordedPullTime = epochSeconds(m.lastPulledAt);
  if (m.subject) out.subjectManifestDigest = m.subject;
  out.imageStatus = m.imageStatus;
  if (m.lastArchivedAt !== null) out.lastArchivedAt = epochSeconds(m.lastArchivedAt);
  if (m.lastActivatedAt !== null) out.lastActivatedAt = epochSeconds(m.lastActivatedAt);
  if (scan) {
    out.imageScanStatus = statusShape(scan);
    const summary = findingsSummary(scan);
    if (summary) out.imageScanFindingsSummary = summary;
  }
  return out;
}

async function describeImages(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const name = repositoryName(input);
  const rawIds = input.imageIds === undefined ? undefined : requiredList(input, 'imageIds', 1, 100);
  const { maxResults, nextToken } = paging(input);
  const { tagStatus: status, imageStatus } = listFilter(input);
  if (rawIds && (maxResults !== undefined || nextToken !== undefined)) {
    throw parameterError('maxResults', 'maxResults and nextToken cannot be used with imageIds');
  }
  const repo = await authorizedRepository(ctx, 'ecr:DescribeImages', name);
  let selected: ManifestWithTags[];
  let next: string | undefined;
  if (rawIds) {
    const byDigest = new Map((await ctx.registry.images.list(repo)).map((m) => [m.digest, m]));
    const seen = new Set<string>();
    selected = [];
    for (const id of parseImageIds(rawIds)) {
      const found = await ctx.registry.images.resolve(repo, id);
      if ('failure' in found) {
        if (found.failure.failureCode === 'ImageNotFound' || found.failure.failureCode === 'ImageTagDoesNotMatchDigest') throw imageNotFound(repo, id);
        throw parameterError('imageIds', found.failure.failureReason);
      }
      if (seen.has(found.manifest.digest)) continue;
      seen.add(found.manifest.digest);
      selected.push(byDigest.get(found.manifest.digest) ?? { ...found.manifest, tags: [] });
    }
  } else {
    const result = page(await ctx.registry.images.list(repo, status, imageStatus), nextToken, maxResults, `describe:${repo.id}:${status}:${imageStatus}`);
    selected = result.items;
    next = result.nextToken;
  }
  const sizes = await ctx.registry.images.sizes(repo, selected);
  const scans = await ctx.scanning.scansOf(repo, selected.map((m) => m.digest));
  const imageDetails = selected.map((m) => imageDetail(repo, m, sizes.get(m.digest) ?? 0, scans.get(m.digest)));
  return { imageDetails, ...(next ? { nextToken: next } : {}) };
}

function imageShape(repo: Repository, m: Manifest, tag: string | undefined): Record<string, unknown> {
  return {
    registryId: repo.registryId,
    repositoryName: repo.name,
    imageId: tag === undefined ? { imageDigest: m.digest } : { imageDigest: m.digest, imageTag: tag },
    imageManifest: m.body.toString('utf8'),
    imageManifestMediaType: m.mediaType,
  };
}

async function batchGetImage(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const name = repositoryName(input);
  const ids = parseImageIds(requiredList(input, 'imageIds', 1, 100));
  const accepted = stringList(input, 'acceptedMediaTypes', 1, 100, false);
  const repo = await authorizedRepository(ctx, 'ecr:BatchGetImage', name);
  await authorizeDecrypt(ctx, repo);
  const { images, failures } = await ctx.registry.images.batchGet(repo, ids, accepted, ctx.principal.arn);
  return { images: images.map((i) => imageShape(repo, i.manifest, i.id.imageTag)), failures };
}

async function putImage(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const name = repositoryName(input);
  const manifestText = requiredString(input, 'imageManifest', { min: 1, max: 4_194_304 });
  const mediaType = optionalString(input, 'imageManifestMediaType');
  const tag = optionalString(input, 'imageTag', { min: 1, max: 300 });
  const givenDigest = optionalString(input, 'imageDigest');
  await ctx.authorize('ecr:PutImage', repositoryArn(ctx, name));
  const { repository, manifest } = await ctx.registry.images.putImage({ registryId: ctx.registryId, name }, Buffer.from(manifestText, 'utf8'), {
    mediaType,
    tag,
    digest: givenDigest,
  });
  return { image: imageShape(repository, manifest, tag) };
}

async function batchDeleteImage(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const name = repositoryName(input);
  const ids = parseImageIds(requiredList(input, 'imageIds', 1, 100));
  const repo = await authorizedRepository(ctx, 'ecr:BatchDeleteImage', name);
  const { deleted, failures } = await ctx.registry.images.batchDelete(repo, ids);
  return { imageIds: deleted, failures };
}

export const IMAGE_OPERATIONS: EcrOperations = {
  ListImages: listImages,
  DescribeImages: describeImages,
  BatchGetImage: batchGetImage,
  PutImage: putImage,
  BatchDeleteImage: batchDeleteImage,
};
