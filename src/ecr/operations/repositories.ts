import { EcrError } from '../errors.js';
import type { EcrContext, EcrInput, EcrOperations } from '../operation.js';
import { page } from '../pagination.js';
import { authorizedRepository, repositoryArn, repositoryShape } from '../repositories.js';
import { parseTags } from '../tags.js';
import {
  checkRegistryId,
  checkRepositoryName,
  optionalBoolean,
  optionalEnum,
  optionalInteger,
  optionalList,
  optionalObject,
  optionalString,
  parameterError,
  repositoryName,
  requiredEnum,
  stringList,
} from '../validate.js';

const TAG_MUTABILITY = ['MUTABLE', 'IMMUTABLE', 'IMMUTABLE_WITH_EXCLUSION', 'MUTABLE_WITH_EXCLUSION'] as const;
const ENCRYPTION_TYPES = ['AES256', 'KMS', 'KMS_DSSE'] as const;
const EXCLUSION_FILTER = /^[0-9a-zA-Z._*-]{1,128}$/;

/** Validates imageTagMutability with its exclusion filters, which only the *_WITH_EXCLUSION modes take. */
function tagMutability(input: EcrInput, required: boolean): Record<string, unknown> {
  const mode = required ? requiredEnum(input, 'imageTagMutability', TAG_MUTABILITY) : optionalEnum(input, 'imageTagMutability', TAG_MUTABILITY);
  const raw = optionalList(input, 'imageTagMutabilityExclusionFilters', 1, 5);
  const filters = (raw ?? []).map((f, i) => {
    const field = `imageTagMutabilityExclusionFilters.${i + 1}`;
    if (typeof f !== 'object' || f === null || Array.isArray(f)) throw new EcrError('SerializationException', `Expected an object for member '${field}'`);
    const filterType = requiredEnum(f as EcrInput, 'filterType', ['WILDCARD'] as const);
    const filter = (f as EcrInput).filter;
    if (typeof filter !== 'string' || !EXCLUSION_FILTER.test(filter)) {
      throw parameterError(`${field}.filter`, "must satisfy regular expression '^[0-9a-zA-Z._*-]{1,128}$'");
    }
    return { filterType, filter };
  });
  const withExclusion = mode === 'IMMUTABLE_WITH_EXCLUSION' || mode === 'MUTABLE_WITH_EXCLUSION';
  if (withExclusion && filters.length === 0) {
    throw parameterError('imageTagMutabilityExclusionFilters', `must be provided when imageTagMutability is ${mode}`);
  }
  if (!withExclusion && filters.length > 0) {
    throw parameterError('imageTagMutabilityExclusionFilters', 'can only be used with IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION');
  }
  const out: Record<string, unknown> = { imageTagMutability: mode ?? 'MUTABLE' };
  if (withExclusion) out.imageTagMutabilityExclusionFilters = filters;
  return out;
}

function scanningConfiguration(input: EcrInput, required: boolean): { scanOnPush: boolean } {
  const cfg = optionalObject(input, 'imageScanningConfiguration');
  if (!cfg) {
    if (required) throw parameterError('imageScanningConfiguration', 'must not be null');
    return { scanOnPush: false };
  }
  return { scanOnPush: optionalBoolean(cfg, 'scanOnPush') ?? false };
}

function encryptionConfiguration(input: EcrInput): Record<string, unknown> {
  const cfg = optionalObject(input, 'encryptionConfiguration');
  if (!cfg) return { encryptionType: 'AES256' };
  const encryptionType = requiredEnum(cfg, 'encryptionType', ENCRYPTION_TYPES);
  const kmsKey = cfg.kmsKey;
  if (kmsKey !== undefined && (typeof kmsKey !== 'string' || kmsKey.length < 1 || kmsKey.length > 2048)) {
    throw parameterError('encryptionConfiguration.kmsKey', 'must have length between 1 and 2048');
  }
  if (kmsKey !== undefined && encryptionType === 'AES256') {
    throw parameterError('encryptionConfiguration', 'KMS key can only be specified for KMS encryption types');
  }
  return kmsKey === undefined ? { encryptionType } : { encryptionType, kmsKey };
}

async function createRepository(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const name = repositoryName(input);
  await ctx.authorize('ecr:CreateRepository', repositoryArn(ctx, name));
  const tags = parseTags(input, 'tags', false) ?? [];
  const settings: Record<string, unknown> = {
    ...tagMutability(input, false),
    imageScanningConfiguration: scanningConfiguration(input, false),
    encryptionConfiguration: encryptionConfiguration(input),
  };
  if (tags.length > 0) settings.tags = tags;
  const repo = await ctx.meta.createRepository(ctx.registryId, name, settings);
  if (!repo) {
    throw new EcrError('RepositoryAlreadyExistsException', `The repository with name '${name}' already exists in the registry with id '${ctx.registryId}'`);
  }
  return { repository: repositoryShape(ctx, repo) };
}

async function describeRepositories(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const names = stringList(input, 'repositoryNames', 1, 100, false);
  const maxResults = optionalInteger(input, 'maxResults', 1, 1000);
  const nextToken = optionalString(input, 'nextToken');
  if (names) {
    if (maxResults !== undefined || nextToken !== undefined) {
      throw parameterError('maxResults', 'maxResults and nextToken cannot be used with repositoryNames');
    }
    const repos = [];
    for (const name of names) {
      checkRepositoryName(name, 'repositoryNames');
      repos.push(await authorizedRepository(ctx, 'ecr:DescribeRepositories', name));
    }
    return { repositories: repos.map((r) => repositoryShape(ctx, r)) };
  }
  await ctx.authorize('ecr:DescribeRepositories', repositoryArn(ctx, '*'));
  const all = await ctx.meta.listRepositories(ctx.registryId, '', 1_000_000);
  const { items, nextToken: next } = page(all, nextToken, maxResults, `repos:${ctx.registryId}`);
  return { repositories: items.map((r) => repositoryShape(ctx, r)), ...(next ? { nextToken: next } : {}) };
}

async function deleteRepository(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const name = repositoryName(input);
  const force = optionalBoolean(input, 'force') ?? false;
  const repo = await authorizedRepository(ctx, 'ecr:DeleteRepository', name);
  if (!force && (await ctx.meta.countImages(repo.id)) > 0) {
    throw new EcrError(
      'RepositoryNotEmptyException',
      `The repository with name '${name}' in registry with id '${ctx.registryId}' cannot be deleted because it still contains images`,
    );
  }
  const shape = repositoryShape(ctx, repo);
  await ctx.meta.transaction((tx) => tx.deleteRepository(repo.id));
  return { repository: shape };
}

async function putImageTagMutability(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const name = repositoryName(input);
  const mutability = tagMutability(input, true);
  const repo = await authorizedRepository(ctx, 'ecr:PutImageTagMutability', name);
  const settings = { ...repo.settings, ...mutability };
  if (!mutability.imageTagMutabilityExclusionFilters) delete settings.imageTagMutabilityExclusionFilters;
  await ctx.meta.updateRepositorySettings(repo.id, settings);
  return { registryId: ctx.registryId, repositoryName: name, ...mutability };
}

async function putImageScanningConfiguration(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const name = repositoryName(input);
  const imageScanningConfiguration = scanningConfiguration(input, true);
  const repo = await authorizedRepository(ctx, 'ecr:PutImageScanningConfiguration', name);
  await ctx.meta.updateRepositorySettings(repo.id, { ...repo.settings, imageScanningConfiguration });
  return { registryId: ctx.registryId, repositoryName: name, imageScanningConfiguration };
}

export const REPOSITORY_OPERATIONS: EcrOperations = {
  CreateRepository: createRepository,
  DescribeRepositories: describeRepositories,
  DeleteRepository: deleteRepository,
  PutImageTagMutability: putImageTagMutability,
  PutImageScanningConfiguration: putImageScanningConfiguration,
};

