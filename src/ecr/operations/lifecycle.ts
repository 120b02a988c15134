import { previewResult, type LifecyclePolicyPreviewResult } from '../../lifecycle/evaluate.js';
import { planLifecycle } from '../../lifecycle/plan.js';
import { checkLifecyclePolicyTextLength, LifecyclePolicyValidationError, parseLifecyclePolicy, type LifecyclePolicy } from '../../lifecycle/policy.js';
import { loadPreview, savePreview } from '../../lifecycle/preview-store.js';
import { LAST_EVALUATED_KEY, POLICY_TEXT_KEY, storedPolicyText } from '../../lifecycle/runner.js';
import type { RepositoryRow } from '../../store/meta/metadata-store.js';
import { EcrError, invalidParameter } from '../errors.js';
import type { EcrContext, EcrInput, EcrOperations } from '../operation.js';

const REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
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
  if (!REPOSITORY_NAME.test(name)) {
    throw constraint('repositoryName', `must satisfy regular expression '${REPOSITORY_NAME.source.slice(1, -1).replaceAll('\\/', '/')}'`);
  }
  return name;
}

function repoArn(ctx: EcrContext, name: string): string {
  return `arn:aws:ecr:${ctx.region}:${ctx.registryId}:repository/${name}`;
}

/** Validates the input, authorizes `action` on the repository, and loads it. */
async function targetRepository(input: EcrInput, ctx: EcrContext, action: string): Promise<RepositoryRow> {
  const name = repositoryName(input);
  await ctx.authorize(action, repoArn(ctx, name));
  const repo = await ctx.meta.getRepository(ctx.registryId, name);
  if (!repo) {
    throw new EcrError(
      'RepositoryNotFoundException',
      `The repository with name '${name}' does not exist in the registry with id '${ctx.registryId}'`,
    );
  }
  return repo;
}

function parsePolicyText(text: string): LifecyclePolicy {
  try {
    checkLifecyclePolicyTextLength(text);
    return parseLifecyclePolicy(text);
  } catch (err) {
    if (err instanceof LifecyclePolicyValidationError) throw invalidParameter(err.message);
    throw err;
  }
}

function policyNotFound(repo: RepositoryRow): EcrError {
  return new EcrError(
    'LifecyclePolicyNotFoundException',
    `Lifecycle policy does not exist for the repository with name '${repo.name}' in the registry with id '${repo.registryId}'`,
  );
}

function lastEvaluatedSeconds(repo: RepositoryRow): number {
  const at = repo.settings[LAST_EVALUATED_KEY];
  return typeof at === 'number' ? at / 1000 : 0;
}

/** Read-modify-write of the settings inside one transaction, so concurrent setting changes survive. */
async function updateSettings(ctx: EcrContext, repoId: string, change: (settings: Record<string, unknown>) => void): Promise<void> {
  await ctx.meta.transaction(async (tx) => {
    const current = await tx.getRepositoryById(repoId);
    if (!current) return;
    const settings = { ...current.settings };
    change(settings);
    await tx.updateRepositorySettings(repoId, settings);
  });
}

async function putLifecyclePolicy(input: EcrInput, ctx: EcrContext): Promise<Record<string, unknown>> {
  const repo = await targetRepository(input, ctx, 'ecr:PutLifecyclePolicy');
  const text = requiredString(input, 'lifecyclePolicyText');
  parsePolicyText(text);
  await updateSettings(ctx, repo.id, (s) => {
    s[POLICY_TEXT_KEY] = text;
  });
  return { registryId: repo.registryId, repositoryName: repo.name, lifecyclePolicyText: text };
}

async function getLifecyclePolicy(input: EcrInput, ctx: EcrContext): Promise<Record<string, unknown>> {
  const repo = await targetRepository(input, ctx, 'ecr:GetLifecyclePolicy');
  const text = storedPolicyText(repo);
  if (text === undefined) throw policyNotFound(repo);
  return { registryId: repo.registryId, repositoryName: repo.name, lifecyclePolicyText: text, lastEvaluatedAt: lastEvaluatedSeconds(repo) };
}

async function deleteLifecyclePolicy(input: EcrInput, ctx: EcrContext): Promise<Record<string, unknown>> {
  const repo = await targetRepository(input, ctx, 'ecr:DeleteLifecyclePolicy');
  const text = storedPolicyText(repo);
  if (text === undefined) throw policyNotFound(repo);
  await updateSettings(ctx, repo.id, (s) => {
    delete s[POLICY_TEXT_KEY];
    delete s[LAST_EVALUATED_KEY];
  });
  return { registryId: repo.registryId, repositoryName: repo.name, lifecyclePolicyText: text, lastEvaluatedAt: lastEvaluatedSeconds(repo) };
}

async function startLifecyclePolicyPreview(input: EcrInput, ctx: EcrContext): Promise<Record<string, unknown>> {
  const repo = await targetRepository(input, ctx, 'ecr:StartLifecyclePolicyPreview');
  const draft = optionalString(input, 'lifecyclePolicyText');
  const text = draft ?? storedPolicyText(repo);
  if (text === undefined) throw policyNotFound(repo);
  const policy = parsePolicyText(text);
  const existing = await loadPreview(ctx.meta, repo.id);
  if (existing?.status === 'IN_PROGRESS') {
    throw new EcrError(
      'LifecyclePolicyPreviewInProgressException',
      `Lifecycle policy preview for the repository with name '${repo.name}' in the registry with id '${repo.registryId}' is in progress`,
    );
  }
  const startedAt = Date.now();
  await savePreview(ctx.meta, repo.id, { policyText: text, status: 'IN_PROGRESS', results: [], startedAt, completedAt: null });
  // Evaluation is quick and purely metadata, so it completes before answering; clients still see
  // ECR's first answer (IN_PROGRESS) and then COMPLETE on their next GetLifecyclePolicyPreview.
  try {
    const { previewResults } = previewResult(await planLifecycle(ctx.meta, repo, policy, new Date(startedAt)));
    await savePreview(ctx.meta, repo.id, { policyText: text, status: 'COMPLETE', results: previewResults, startedAt, completedAt: Date.now() });
  } catch (err) {
    await savePreview(ctx.meta, repo.id, { policyText: text, status: 'FAILED', results: [], startedAt, completedAt: Date.now() });
    throw err;
  }
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
  const preview = await loadPreview(ctx.meta, repo.id);
  if (!preview) {
    throw new EcrError(
      'LifecyclePolicyPreviewNotFoundException',
      `There is no lifecycle policy preview for the repository with name '${repo.name}' in the registry with id '${repo.registryId}'`,
    );
  }
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
  out.previewResults = page.map((r) => ({ ...r, storageClass: 'STANDARD' }));
  if (!ids && offset + size < results.length) out.nextToken = encodeToken(offset + size);
  out.summary = { expiringImageTotalCount: results.length };
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
