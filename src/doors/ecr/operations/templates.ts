import { assertCustomRoleArn, ROOT_PREFIX, TEMPLATE_USES, templateKey, type CreationTemplate, type TemplatePatch, type TemplateUse } from '../../../domain/registry/creation-templates.js';
import { page } from '../../../domain/registry/paging.js';
import type { EncryptionType, MutabilityExclusionFilter, TagMutability } from '../../../domain/registry/settings.js';
import { EcrError } from '../errors.js';
import type { EcrContext, EcrInput, EcrOperations } from '../operation.js';
import { ACCOUNT_RESOURCE, epochSeconds, repositoryArn } from '../repositories.js';
import { parseTags } from '../tags.js';
import {
  checkPattern,
  optionalEnum,
  optionalInteger,
  optionalList,
  optionalObject,
  optionalString,
  parameterError,
  requiredEnum,
  requiredString,
  stringList,
} from '../validate.js';

// Constraints from botocore's ECR model (shapes Prefix, KmsKeyForRepositoryCreationTemplate, …).
const PREFIX_PATTERN = '^([a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(\\/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*\\/?|ROOT)$';
const KMS_KEY_PATTERN = '^$|arn:aws[a-z0-9-]*:kms:[a-z0-9-]+:[0-9]{12}:key\\/[a-z0-9-]+';
const EXCLUSION_FILTER_PATTERN = '^[0-9a-zA-Z._*-]{1,128}$';
const TAG_MUTABILITY = ['MUTABLE', 'IMMUTABLE', 'IMMUTABLE_WITH_EXCLUSION', 'MUTABLE_WITH_EXCLUSION'] as const;
const ENCRYPTION_TYPES = ['AES256', 'KMS', 'KMS_DSSE'] as const;

function checkPrefix(prefix: string, field: string): string {
  if (prefix.length < 1 || prefix.length > 256) throw parameterError(field, 'Member must have length between 1 and 256');
  return checkPattern(prefix, field, PREFIX_PATTERN);
}

function prefixOf(input: EcrInput): string {
  return checkPrefix(requiredString(input, 'prefix'), 'prefix');
}

function encryption(input: EcrInput): TemplatePatch['encryptionConfiguration'] {
  const cfg = optionalObject(input, 'encryptionConfiguration');
  if (!cfg) return undefined;
  const encryptionType = requiredEnum(cfg, 'encryptionType', ENCRYPTION_TYPES) as EncryptionType;
  const kmsKey = optionalString(cfg, 'kmsKey', { max: 2048 });
  if (kmsKey !== undefined) checkPattern(kmsKey, 'encryptionConfiguration.kmsKey', KMS_KEY_PATTERN);
  return kmsKey === undefined || kmsKey === '' ? { encryptionType } : { encryptionType, kmsKey };
}

function exclusionFilters(input: EcrInput): MutabilityExclusionFilter[] | undefined {
  const raw = optionalList(input, 'imageTagMutabilityExclusionFilters', 1, 5);
  return raw?.map((f, i) => {
    const field = `imageTagMutabilityExclusionFilters.${i + 1}`;
    if (typeof f !== 'object' || f === null || Array.isArray(f)) throw new EcrError('SerializationException', `Expected an object for member '${field}'`);
    const filterType = requiredEnum(f as EcrInput, 'filterType', ['WILDCARD'] as const);
    const filter = checkPattern(requiredString(f as EcrInput, 'filter', { min: 1, max: 128 }), `${field}.filter`, EXCLUSION_FILTER_PATTERN);
    return { filterType, filter };
  });
}

function appliedFor(input: EcrInput, required: boolean): TemplateUse[] | undefined {
  const list = stringList(input, 'appliedFor', 0, 100, required);
  if (list === undefined) return undefined;
  for (const use of list) {
    if (!(TEMPLATE_USES as readonly string[]).includes(use)) {
      throw parameterError('appliedFor', `Member must satisfy enum value set: [${TEMPLATE_USES.join(', ')}]`);
    }
  }
  return [...new Set(list)] as TemplateUse[];
}

/** The template settings named in the input, each checked against the model. */
function templateInput(input: EcrInput, create: boolean): TemplatePatch {
  const patch: TemplatePatch = {
    description: optionalString(input, 'description', { max: 256 }),
    encryptionConfiguration: encryption(input),
    resourceTags: parseTags(input, 'resourceTags', false),
    imageTagMutability: optionalEnum(input, 'imageTagMutability', TAG_MUTABILITY) as TagMutability | undefined,
    imageTagMutabilityExclusionFilters: exclusionFilters(input),
    repositoryPolicy: optionalString(input, 'repositoryPolicy', { max: 10240 }),
    lifecyclePolicy: optionalString(input, 'lifecyclePolicy', { max: 30720 }),
    appliedFor: appliedFor(input, create),
    customRoleArn: optionalString(input, 'customRoleArn', { max: 2048 }),
  };
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as TemplatePatch;
}

/** What managing a template needs: its own action, and what the repositories it creates will get. */
async function authorizeTemplate(ctx: EcrContext, action: string, prefix: string, patch: TemplatePatch): Promise<void> {
  await ctx.authorize(action, ACCOUNT_RESOURCE);
  const repositories = repositoryArn(ctx, prefix === ROOT_PREFIX ? '*' : `${templateKey(prefix)}/*`, ctx.principal.account);
  await ctx.authorize('ecr:CreateRepository', repositories);
  if (patch.lifecyclePolicy) await ctx.authorize('ecr:PutLifecyclePolicy', repositories);
  if (patch.repositoryPolicy) await ctx.authorize('ecr:SetRepositoryPolicy', repositories);
  if (patch.customRoleArn) {
    assertCustomRoleArn(ctx.principal.account, patch.customRoleArn);
    await ctx.authorize('iam:PassRole', patch.customRoleArn);
  }
}

/** The RepositoryCreationTemplate shape. */
function templateShape(t: CreationTemplate): Record<string, unknown> {
  const out: Record<string, unknown> = { prefix: t.prefix };
  if (t.description !== undefined) out.description = t.description;
  out.encryptionConfiguration = t.encryptionConfiguration;
  out.resourceTags = t.resourceTags;
  out.imageTagMutability = t.imageTagMutability;
  if (t.imageTagMutabilityExclusionFilters.length > 0) out.imageTagMutabilityExclusionFilters = t.imageTagMutabilityExclusionFilters;
  if (t.repositoryPolicy) out.repositoryPolicy = t.repositoryPolicy;
  if (t.lifecyclePolicy) out.lifecyclePolicy = t.lifecyclePolicy;
  out.appliedFor = t.appliedFor;
  if (t.customRoleArn) out.customRoleArn = t.customRoleArn;
  out.createdAt = epochSeconds(t.createdAt);
  out.updatedAt = epochSeconds(t.updatedAt);
  return out;
}

// Templates have no registryId member: they belong to the caller's registry.
async function createTemplate(input: EcrInput, ctx: EcrContext) {
  const prefix = prefixOf(input);
  const patch = templateInput(input, true);
  await authorizeTemplate(ctx, 'ecr:CreateRepositoryCreationTemplate', prefix, patch);
  const registryId = ctx.principal.account;
  const template = await ctx.registry.templates.create(registryId, prefix, { ...patch, appliedFor: patch.appliedFor! });
  return { registryId, repositoryCreationTemplate: templateShape(template) };
}

async function describeTemplates(input: EcrInput, ctx: EcrContext) {
  const prefixes = stringList(input, 'prefixes', 0, Number.MAX_SAFE_INTEGER, false);
  prefixes?.forEach((p, i) => checkPrefix(p, `prefixes.${i + 1}`));
  const maxResults = optionalInteger(input, 'maxResults', 1, 1000);
  const nextToken = optionalString(input, 'nextToken');
  await ctx.authorize('ecr:DescribeRepositoryCreationTemplates', ACCOUNT_RESOURCE);
  const registryId = ctx.principal.account;
  const all = await ctx.registry.templates.list(registryId, prefixes);
  const { items, nextToken: next } = page(all, nextToken, maxResults, `templates:${registryId}`);
  return { registryId, repositoryCreationTemplates: items.map(templateShape), ...(next ? { nextToken: next } : {}) };
}

async function updateTemplate(input: EcrInput, ctx: EcrContext) {
  const prefix = prefixOf(input);
  const patch = templateInput(input, false);
  await authorizeTemplate(ctx, 'ecr:UpdateRepositoryCreationTemplate', prefix, patch);
  const registryId = ctx.principal.account;
  const template = await ctx.registry.templates.update(registryId, prefix, patch);
  return { registryId, repositoryCreationTemplate: templateShape(template) };
}

async function deleteTemplate(input: EcrInput, ctx: EcrContext) {
  const prefix = prefixOf(input);
  await ctx.authorize('ecr:DeleteRepositoryCreationTemplate', ACCOUNT_RESOURCE);
  const registryId = ctx.principal.account;
  const template = await ctx.registry.templates.delete(registryId, prefix);
  return { registryId, repositoryCreationTemplate: templateShape(template) };
}

/** Repository creation templates, applied when berth creates a repository on a push. */
export const TEMPLATE_OPERATIONS: EcrOperations = {
  CreateRepositoryCreationTemplate: createTemplate,
  DescribeRepositoryCreationTemplates: describeTemplates,
  UpdateRepositoryCreationTemplate: updateTemplate,
  DeleteRepositoryCreationTemplate: deleteTemplate,
};
