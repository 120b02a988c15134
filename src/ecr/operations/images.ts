import { digestOf } from '../../registry/digest.js';
import { isIndexMediaType } from '../../registry/media-types.js';
import type { ManifestRow, RepositoryRow } from '../../store/meta/metadata-store.js';
import { EcrError } from '../errors.js';
import { imageNotFound, parseImageIds, resolveImageId, type ImageFailure, type ImageId } from '../image-ids.js';
import type { EcrContext, EcrInput, EcrOperations } from '../operation.js';
import { page } from '../pagination.js';
import { toEcrError } from '../registry-errors.js';
import { authorizedRepository, epochSeconds, repositoryArn } from '../repositories.js';
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

type ManifestWithTags = ManifestRow & { tags: string[] };
const TAG_STATUS = ['TAGGED', 'UNTAGGED', 'ANY'] as const;
const IMAGE_STATUS = ['ACTIVE', 'ARCHIVED', 'ACTIVATING', 'ANY'] as const;

function tagStatusFilter(input: EcrInput): (typeof TAG_STATUS)[number] {
  const filter = optionalObject(input, 'filter');
  if (!filter) return 'ANY';
  optionalEnum(filter, 'imageStatus', IMAGE_STATUS);
  return optionalEnum(filter, 'tagStatus', TAG_STATUS) ?? 'ANY';
}

function matchesTagStatus(m: ManifestWithTags, status: (typeof TAG_STATUS)[number]): boolean {
  return status === 'ANY' || (status === 'TAGGED') === m.tags.length > 0;
}

function paging(input: EcrInput) {
  return { maxResults: optionalInteger(input, 'maxResults', 1, 1000), nextToken: optionalString(input, 'nextToken') };
}

async function listImages(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const name = repositoryName(input);
  const { maxResults, nextToken } = paging(input);
  const status = tagStatusFilter(input);
  const repo = await authorizedRepository(ctx, 'ecr:ListImages', name);
  const ids: ImageId[] = [];
  for (const m of await ctx.meta.listManifests(repo.id)) {
    if (!matchesTagStatus(m, status)) continue;
    if (m.tags.length === 0) ids.push({ imageDigest: m.digest });
    for (const tag of m.tags) ids.push({ imageDigest: m.digest, imageTag: tag });
  }
  const { items, nextToken: next } = page(ids, nextToken, maxResults, `images:${repo.id}:${status}`);
  return { imageIds: items, ...(next ? { nextToken: next } : {}) };
}

/** Sizes as ECR reports them: the layers of an image; for an index, its largest child. */
async function imageSizes(ctx: EcrContext, repo: RepositoryRow, manifests: ManifestWithTags[]): Promise<Map<string, number>> {
  const sizes = new Map(manifests.map((m) => [m.digest, m.layersSize]));
  if (!manifests.some((m) => isIndexMediaType(m.mediaType))) return sizes;
  const refs = await ctx.meta.query<{ digest: string; child: string }>(
    "SELECT r.digest, r.child FROM manifest_refs r WHERE r.repo_id = ? AND r.kind = 'manifest'",
    [repo.id],
  );
  const all = new Map((await ctx.meta.listManifests(repo.id)).map((m) => [m.digest, m.layersSize]));
  for (const r of refs) {
    if (!sizes.has(r.digest)) continue;
    sizes.set(r.digest, Math.max(sizes.get(r.digest) ?? 0, all.get(r.child) ?? 0));
  }
  return sizes;
}

function imageDetail(ctx: EcrContext, repo: RepositoryRow, m: ManifestWithTags, size: number): Record<string, unknown> {
  const out: Record<string, unknown> = { registryId: repo.registryId, repositoryName: repo.name, imageDigest: m.digest };
  if (m.tags.length > 0) out.imageTags = m.tags;
  out.imageSizeInBytes = size;
  out.imagePushedAt = epochSeconds(m.pushedAt);
  out.imageManifestMediaType = m.mediaType;
  if (m.configMediaType) out.artifactMediaType = m.configMediaType;
  if (m.lastPulledAt !== null) out.lastRecordedPullTime = epochSeconds(m.lastPulledAt);
  if (m.subject) out.subjectManifestDigest = m.subject;
  out.imageStatus = 'ACTIVE';
  return out;
}

async function describeImages(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const name = repositoryName(input);
  const rawIds = input.imageIds === undefined ? undefined : requiredList(input, 'imageIds', 1, 100);
  const { maxResults, nextToken } = paging(input);
  const status = tagStatusFilter(input);
  if (rawIds && (maxResults !== undefined || nextToken !== undefined)) {
    throw parameterError('maxResults', 'maxResults and nextToken cannot be used with imageIds');
  }
  const repo = await authorizedRepository(ctx, 'ecr:DescribeImages', name);
  const all = await ctx.meta.listManifests(repo.id);
  let selected: ManifestWithTags[];
  let next: string | undefined;
  if (rawIds) {
    const byDigest = new Map(all.map((m) => [m.digest, m]));
    const seen = new Set<string>();
    selected = [];
    for (const id of parseImageIds(rawIds)) {
      const found = await resolveImageId(ctx.meta, repo, id);
      if ('failure' in found) {
        if (found.failure.failureCode === 'ImageNotFound' || found.failure.failureCode === 'ImageTagDoesNotMatchDigest') throw imageNotFound(ctx, repo, id);
        throw parameterError('imageIds', found.failure.failureReason);
      }
      if (seen.has(found.manifest.digest)) continue;
      seen.add(found.manifest.digest);
      selected.push(byDigest.get(found.manifest.digest) ?? { ...found.manifest, tags: [] });
    }
  } else {
    const result = page(all.filter((m) => matchesTagStatus(m, status)), nextToken, maxResults, `describe:${repo.id}:${status}`);
    selected = result.items;
    next = result.nextToken;
  }
  const sizes = await imageSizes(ctx, repo, selected);
  const imageDetails = selected.map((m) => imageDetail(ctx, repo, m, sizes.get(m.digest) ?? m.layersSize));
  return { imageDetails, ...(next ? { nextToken: next } : {}) };
}

function imageShape(repo: RepositoryRow, m: ManifestRow, tag: string | undefined): Record<string, unknown> {
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
  const images: Record<string, unknown>[] = [];
  const failures: ImageFailure[] = [];
  for (const id of ids) {
    const found = await resolveImageId(ctx.meta, repo, id);
    if ('failure' in found) {
      failures.push(found.failure);
      continue;
    }
    if (accepted && !accepted.includes(found.manifest.mediaType)) {
      failures.push({ imageId: id, failureCode: 'ImageNotFound', failureReason: 'Requested image not found in any of the accepted media types' });
      continue;
    }
    images.push(imageShape(repo, found.manifest, id.imageTag));
    ctx.registry.events.emit('image.pulled', { repository: repo, digest: found.manifest.digest });
  }
  return { images, failures };
}

async function putImage(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const name = repositoryName(input);
  const manifestText = requiredString(input, 'imageManifest', { min: 1, max: 4_194_304 });
  const mediaType = optionalString(input, 'imageManifestMediaType');
  const tag = optionalString(input, 'imageTag', { min: 1, max: 300 });
  const givenDigest = optionalString(input, 'imageDigest');
  await ctx.authorize('ecr:PutImage', repositoryArn(ctx, name));
  const where = { repositoryName: name, registryId: ctx.registryId };
  try {
    const repo = await ctx.registry.repositoryForPush({ registryId: ctx.registryId, name });
    const bytes = Buffer.from(manifestText, 'utf8');
    const digest = digestOf('sha256', bytes);
    if (givenDigest !== undefined && givenDigest !== digest) {
      throw new EcrError('ImageDigestDoesNotMatchException', `Provided digest '${givenDigest}' does not match digest of the manifest '${digest}'`);
    }
    const existing = await ctx.meta.getManifest(repo.id, digest);
    const alreadyTagged = tag === undefined ? existing !== undefined : existing !== undefined && (await ctx.meta.getTag(repo.id, tag))?.digest === digest;
    if (alreadyTagged) {
      throw new EcrError(
        'ImageAlreadyExistsException',
        `Image with digest '${digest}' and tag '${tag ?? 'null'}' already exists in the repository with name '${name}' in the registry with id '${ctx.registryId}'`,
      );
    }
    await ctx.registry.putManifest(repo, tag ?? digest, bytes, mediaType);
    const stored = (await ctx.meta.getManifest(repo.id, digest))!;
    return { image: imageShape(repo, stored, tag) };
  } catch (err) {
    throw toEcrError(err, where);
  }
}

async function batchDeleteImage(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const name = repositoryName(input);
  const ids = parseImageIds(requiredList(input, 'imageIds', 1, 100));
  const repo = await authorizedRepository(ctx, 'ecr:BatchDeleteImage', name);
  const deleted: ImageId[] = [];
  const failures: ImageFailure[] = [];
  for (const id of ids) {
    const found = await resolveImageId(ctx.meta, repo, id);
    if ('failure' in found) {
      failures.push(found.failure);
      continue;
    }
    const { digest } = found.manifest;
    const tags = await ctx.meta.tagsOf(repo.id, digest);
    const lastTag = id.imageTag !== undefined && tags.length === 1;
    const removesImage = id.imageTag === undefined || lastTag;
    if (removesImage && (await ctx.meta.isReferencedManifest(repo.id, digest))) {
      failures.push({ imageId: id, failureCode: 'ImageReferencedByManifestList', failureReason: 'Requested image referenced by a manifest list' });
      continue;
    }
    if (id.imageTag !== undefined) {
      await ctx.registry.deleteManifest(repo, id.imageTag);
      if (lastTag) await ctx.registry.deleteManifest(repo, digest);
      deleted.push({ imageDigest: digest, imageTag: id.imageTag });
    } else {
      await ctx.registry.deleteManifest(repo, digest);
      if (tags.length === 0) deleted.push({ imageDigest: digest });
      for (const t of tags) deleted.push({ imageDigest: digest, imageTag: t });
    }
  }
  return { imageIds: deleted, failures };
}

export const IMAGE_OPERATIONS: EcrOperations = {
  ListImages: listImages,
  DescribeImages: describeImages,
  BatchGetImage: batchGetImage,
  PutImage: putImage,
  BatchDeleteImage: batchDeleteImage,
};
