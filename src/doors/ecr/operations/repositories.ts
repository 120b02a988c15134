import { page } from '../../../domain/registry/paging.js';
import { requestTagContext } from '../../../iam/identity.js';
import type { EncryptionType, MutabilityExclusionFilter, RepositorySettings, TagMutability } from '../../../domain/registry/settings.js';
import { EcrError } from '../errors.js';
import type { EcrContext, EcrInput, EcrOperations } from '../operation.js';
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
function tagMutability(input: EcrInput, required: boolean): Pick<RepositorySettings, 'imageTagMutability' | 'imageTagMutabilityExclusionFilters'> {
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
    return { filterType, filter } as MutabilityExclusionFilter;
  });
  const withExclusion = mode === 'IMMUTABLE_WITH_EXCLUSION' || mode === 'MUTABLE_WITH_EXCLUSION';
  if (withExclusion && filters.length === 0) {
    throw parameterError('imageTagMutabilityExclusionFilters', `ImageTagMutabilityExclusionFilters can't be null when imageTagMutability is set as ${mode}`);
  }
  if (!withExclusion && filters.length > 0) {
    throw parameterError('imageTagMutabilityExclusionFilters', 'can only be used with IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION');
  }
  return { imageTagMutability: (mode ?? 'MUTABLE') as TagMutability, imageTagMutabilityExclusionFilters: withExclusion ? filters : [] };
}

function scanningConfiguration(input: EcrInput, required: boolean): { scanOnPush: boolean } {
  const cfg = optionalObject(input, 'imageScanningConfiguration');
  if (!cfg) {
    if (required) throw parameterError('imageScanningConfiguration', 'must not be null');
    return { scanOnPush: false };
  }
  return { scanOnPush: optionalBoolean(cfg, 'scanOnPush') ?? false };
}

function encryptionConfiguration(input: EcrInput): RepositorySettings['encryptionConfiguration'] {
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
  return kmsKey === undefined ? { encryptionType: encryptionType as EncryptionType } : { encryptionType: encryptionType as EncryptionType, kmsKey };
}

async function createRepository(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const name = repositoryName(input);
  const tags = parseTags(input, 'tags', false) ?? [];
  await ctx.authorize('ecr:CreateRepository', repositoryArn(ctx, name), requestTagContext(tags));
  const repo = await ctx.registry.repositories.create(
    { registryId: ctx.registryId, name },
    {
      ...tagMutability(input, false),
      imageScanningConfiguration: scanningConfiguration(input, false),
      encryptionConfiguration: encryptionConfiguration(input),
      tags,
    },
  );
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
  const all = await ctx.registry.repositories.list(ctx.registryId, '', 1_000_000);
  const { items, nextToken: next } = page(all, nextToken, maxResults, `repos:${ctx.registryId}`);
  return { repositories: items.map((r) => repositoryShape(ctx, r)), ...(next ? { nextToken: next } : {}) };
}

async function deleteRepository(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const name = repositoryName(input);
  const force = optionalBoolean(input, 'force') ?? false;
  await ctx.authorize('ecr:DeleteRepository', repositoryArn(ctx, name));
  const repo = await ctx.registry.repositories.delete({ registryId: ctx.registryId, name }, force);
  return { repository: repositoryShape(ctx, repo) };
}

async function putImageTagMutability(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const name = repositoryName(input);
  const mutability = tagMutability(input, true);
  const repo = await authorizedRepository(ctx, 'ecr:PutImageTagMutability', name);
  await ctx.registry.repositories.changeSettings(repo, mutability);
  const out: Record<string, unknown> = { registryId: ctx.registryId, repositoryName: name, imageTagMutability: mutability.imageTagMutability };
  if (mutability.imageTagMutabilityExclusionFilters.length > 0) out.imageTagMutabilityExclusionFilters = mutability.imageTagMutabilityExclusionFilters;
  return out;
}

async function putImageScanningConfiguration(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const name = repositoryName(input);
  const imageScanningConfiguration = scanningConfiguration(input, true);
  const repo = await authorizedRepository(ctx, 'ecr:PutImageScanningConfiguration', name);
  await ctx.registry.repositories.changeSettings(repo, { imageScanningConfiguration });
  return { registryId: ctx.registryId, repositoryName: name, imageScanningConfiguration };
}

export const REPOSITORY_OPERATIONS: EcrOperations = {
  CreateRepository: createRepository,
  DescribeRepositories: describeRepositories,
  DeleteRepository: deleteRepository,
  PutImageTagMutability: putImageTagMutability,
  PutImageScanningConfiguration: putImageScanningConfiguration,
};

