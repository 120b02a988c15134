import { summarizePreview, type LifecyclePolicyPreviewResult } from '../../../domain/lifecycle/evaluate.js';
import { isValidRepositoryName, REPOSITORY_NAME_PATTERN } from '../../../domain/registry/names.js';
import type { Repository } from '../../../domain/registry/model.js';
import { EcrError, invalidParameter } from '../errors.js';
import type { EcrContext, EcrInput, EcrOperations } from '../operation.js';
import { authorizedRepository } from '../repositories.js';

const PREVIEW_PAGE_MAX = 100;

function constraint(field: string, reason: string): EcrError {
  return invalidParameter(`Invalid parameter at '${field}' failed to satisfy constraint: '${reason}'`);
}

function optionalString(input: EcrInput, field: string): string | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new EcrError('SerializationException', `Expected a string for member '${field}'`);
  return v;
}

function requiredString(input: EcrInput, field: string): string {
  const v = optionalString(input, field);
  if (v === undefined) throw constraint(field, 'must not be null');
  return v;
}

function repositoryName(input: EcrInput): string {
  const name = requiredString(input, 'repositoryName');
  if (name.length < 2 || name.length > 256) throw constraint('repositoryName', 'must have length between 2 and 256');
  if (!isValidRepositoryName(name)) throw constraint('repositoryName', `must satisfy regular expression '${REPOSITORY_NAME_PATTERN}'`);
  return name;
}

/** Validates the input, authorizes `action` on the repository, and loads it. */
async function targetRepository(input: EcrInput, ctx: EcrContext, action: string): Promise<Repository> {
  return authorizedRepository(ctx, action, repositoryName(input));
}

function lastEvaluatedSeconds(at: number | undefined): number {
  return at === undefined ? 0 : at / 1000;
}

async function putLifecyclePolicy(input: EcrInput, ctx: EcrContext): Promise<Record<string, unknown>> {
  const repo = await targetRepository(input, ctx, 'ecr:PutLifecyclePolicy');
  const text = requiredString(input, 'lifecyclePolicyText');
  await ctx.lifecycle.put(repo, text);
  return { registryId: repo.registryId, repositoryName: repo.name, lifecyclePolicyText: text };
}

async function getLifecyclePolicy(input: EcrInput, ctx: EcrContext): Promise<Record<string, unknown>> {
  const repo = await targetRepository(input, ctx, 'ecr:GetLifecyclePolicy');
  const { text, lastEvaluatedAt } = ctx.lifecycle.get(repo);
  return { registryId: repo.registryId, repositoryName: repo.name, lifecyclePolicyText: text, lastEvaluatedAt: lastEvaluatedSeconds(lastEvaluatedAt) };
}

async function deleteLifecyclePolicy(input: EcrInput, ctx: EcrContext): Promise<Record<string, unknown>> {
  const repo = await targetRepository(input, ctx, 'ecr:DeleteLifecyclePolicy');
  const { text, lastEvaluatedAt } = await ctx.lifecycle.delete(repo);
  return { registryId: repo.registryId, repositoryName: repo.name, lifecyclePolicyText: text, lastEvaluatedAt: lastEvaluatedSeconds(lastEvaluatedAt) };
}

async function startLifecyclePolicyPreview(input: EcrInput, ctx: EcrContext): Promise<Record<string, unknown>> {
  const repo = await targetRepository(input, ctx, 'ecr:StartLifecyclePolicyPreview');
  const text = await ctx.lifecycle.startPreview(repo, optionalString(input, 'lifecyclePolicyText'));
  return { registryId: repo.registryId, repositoryName: repo.name, lifecyclePolicyText: text, status: 'IN_PROGRESS' };
}

interface ImageIdFilter {
  digests: Set<string>;
  tags: Set<string>;
}

function imageIdFilter(input: EcrInput): ImageIdFilter | undefined {
  const raw = input.imageIds;
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) throw new EcrError('SerializationException', "Expected a list for member 'imageIds'");
  if (raw.length < 1 || raw.length > 100) throw constraint('imageIds', 'Member must have length between 1 and 100');
  const filter: ImageIdFilter = { digests: new Set(), tags: new Set() };
  for (const id of raw as unknown[]) {
    if (typeof id !== 'object' || id === null || Array.isArray(id)) throw new EcrError('SerializationException', "Expected an object in 'imageIds'");
    const digest = optionalString(id as EcrInput, 'imageDigest');
    const tag = optionalString(id as EcrInput, 'imageTag');
    if (digest === undefined && tag === undefined) throw invalidParameter('Invalid request parameters: image ID must have either digest or tag');
    if (digest !== undefined) filter.digests.add(digest);
    if (tag !== undefined) filter.tags.add(tag);
  }
  return filter;
}

function tagStatusFilter(input: EcrInput): 'TAGGED' | 'UNTAGGED' | 'ANY' | undefined {
  const raw = input.filter;
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new EcrError('SerializationException', "Expected an object for member 'filter'");
  const status = optionalString(raw as EcrInput, 'tagStatus');
  if (status === undefined) return undefined;
  if (status !== 'TAGGED' && status !== 'UNTAGGED' && status !== 'ANY') {
    throw constraint('filter.tagStatus', 'Member must satisfy enum value set: [TAGGED, UNTAGGED, ANY]');
  }
  return status;
}

function maxResults(input: EcrInput): number | undefined {
  const raw = input.maxResults;
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'number' || !Number.isInteger(raw)) throw new EcrError('SerializationException', "Expected an integer for member 'maxResults'");
  if (raw < 1 || raw > PREVIEW_PAGE_MAX) throw constraint('maxResults', `Member must have value between 1 and ${PREVIEW_PAGE_MAX}`);
  return raw;
}

function decodeToken(token: string): number {
  const offset = Number(Buffer.from(token, 'base64url').toString('utf8').replace(/^preview:/, ''));
  if (!Buffer.from(token, 'base64url').toString('utf8').startsWith('preview:') || !Number.isInteger(offset) || offset < 0) {
    throw invalidParameter('Invalid parameter at nextToken: the token is not valid');
  }
  return offset;
}

function encodeToken(offset: number): string {
  return Buffer.from(`preview:${offset}`, 'utf8').toString('base64url');
}

async function getLifecyclePolicyPreview(input: EcrInput, ctx: EcrContext): Promise<Record<string, unknown>> {
  const repo = await targetRepository(input, ctx, 'ecr:GetLifecyclePolicyPreview');
  const ids = imageIdFilter(input);
  const status = tagStatusFilter(input);
  const limit = maxResults(input);
  const token = optionalString(input, 'nextToken');
  if (ids && (limit !== undefined || token !== undefined)) {
    throw invalidParameter('Invalid parameter: maxResults and nextToken cannot be used together with imageIds');
  }
  const preview = await ctx.lifecycle.preview(repo);
  let results: LifecyclePolicyPreviewResult[] = preview.results;
  if (status === 'TAGGED') results = results.filter((r) => r.imageTags.length > 0);
  if (status === 'UNTAGGED') results = results.filter((r) => r.imageTags.length === 0);
  if (ids) results = results.filter((r) => ids.digests.has(r.imageDigest) || r.imageTags.some((t) => ids.tags.has(t)));
  const out: Record<string, unknown> = {
    registryId: repo.registryId,
    repositoryName: repo.name,
    lifecyclePolicyText: preview.policyText,
    status: preview.status,
  };
  const offset = token === undefined ? 0 : decodeToken(token);
  const size = limit ?? PREVIEW_PAGE_MAX;
  const page = ids ? results : results.slice(offset, offset + size);
  // Previews stored before the archive storage class existed carry no storageClass: they were all STANDARD.
  out.previewResults = page.map((r) => ({ ...r, storageClass: r.storageClass ?? 'STANDARD' }));
  if (!ids && offset + size < results.length) out.nextToken = encodeToken(offset + size);
  out.summary = summarizePreview(results);
  return out;
}

/** Lifecycle policy operations and previews. */
export const LIFECYCLE_OPERATIONS: EcrOperations = {
  PutLifecyclePolicy: putLifecyclePolicy,
  GetLifecyclePolicy: getLifecyclePolicy,
  DeleteLifecyclePolicy: deleteLifecyclePolicy,
  StartLifecyclePolicyPreview: startLifecyclePolicyPreview,
  GetLifecyclePolicyPreview: getLifecyclePolicyPreview,
};
