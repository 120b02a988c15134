import { EcrError } from '../errors.js';
import type { EcrContext, EcrInput, EcrOperations } from '../operation.js';
import { ACCOUNT_RESOURCE } from '../repositories.js';
import { checkPattern, checkRegistryId, optionalEnum, optionalInteger, optionalString, parameterError, requiredString, stringList } from '../validate.js';

// Constraints from botocore's ECR model (PullThroughCacheRuleRepositoryPrefix, CredentialArn, UpstreamRegistry).
const PREFIX_PATTERN = '^([a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(\\/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*\\/?|ROOT)$';
const CREDENTIAL_ARN_PATTERN = '^arn:aws(-\\w+)*:secretsmanager:[a-zA-Z0-9-:]+:secret:ecr\\-pullthroughcache\\/[a-zA-Z0-9\\/_+=.@-]+$';
const UPSTREAM_REGISTRIES = [
  'ecr',
  'ecr-public',
  'quay',
  'k8s',
  'docker-hub',
  'github-container-registry',
  'azure-container-registry',
  'gitlab-container-registry',
  'chainguard',
] as const;

function checkPrefix(value: string, field: string): string {
  if (value.length < 2 || value.length > 30) throw parameterError(field, 'Member must have length between 2 and 30');
  return checkPattern(value, field, PREFIX_PATTERN);
}

function prefix(input: EcrInput, field = 'ecrRepositoryPrefix'): string {
  return checkPrefix(requiredString(input, field), field);
}

function optionalCredentialArn(input: EcrInput): void {
  const arn = optionalString(input, 'credentialArn', { min: 50, max: 612 });
  if (arn !== undefined) checkPattern(arn, 'credentialArn', CREDENTIAL_ARN_PATTERN);
  optionalString(input, 'customRoleArn', { max: 2048 });
}

/** berth has no pull-through cache yet, so no rule exists: the lookups answer what ECR says of a missing rule. */
function ruleNotFound(ecrRepositoryPrefix: string, registryId: string): EcrError {
  return new EcrError(
    'PullThroughCacheRuleNotFoundException',
    `The pull through cache rule with prefix '${ecrRepositoryPrefix}' does not exist in the registry with id '${registryId}'`,
  );
}

async function createRule(input: EcrInput, ctx: EcrContext): Promise<never> {
  checkRegistryId(input);
  prefix(input);
  const url = requiredString(input, 'upstreamRegistryUrl');
  const upstream = optionalEnum(input, 'upstreamRegistry', UPSTREAM_REGISTRIES);
  optionalCredentialArn(input);
  const upstreamPrefix = optionalString(input, 'upstreamRepositoryPrefix');
  if (upstreamPrefix !== undefined) checkPrefix(upstreamPrefix, 'upstreamRepositoryPrefix');
  await ctx.authorize('ecr:CreatePullThroughCacheRule', ACCOUNT_RESOURCE);
  // A rule berth cannot serve from is refused, never stored.
  throw new EcrError(
    'UnsupportedUpstreamRegistryException',
    `The upstream registry '${upstream ?? url}' is not supported: this registry has no pull through cache`,
  );
}

async function describeRules(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const prefixes = stringList(input, 'ecrRepositoryPrefixes', 1, 100, false);
  prefixes?.forEach((p, i) => checkPrefix(p, `ecrRepositoryPrefixes.${i + 1}`));
  optionalInteger(input, 'maxResults', 1, 1000);
  optionalString(input, 'nextToken');
  await ctx.authorize('ecr:DescribePullThroughCacheRules', ACCOUNT_RESOURCE);
  if (prefixes?.length) throw ruleNotFound(prefixes[0]!, ctx.registryId);
  return { pullThroughCacheRules: [] };
}

async function updateRule(input: EcrInput, ctx: EcrContext): Promise<never> {
  checkRegistryId(input);
  const p = prefix(input);
  optionalCredentialArn(input);
  await ctx.authorize('ecr:UpdatePullThroughCacheRule', ACCOUNT_RESOURCE);
  throw ruleNotFound(p, ctx.registryId);
}

async function deleteRule(input: EcrInput, ctx: EcrContext): Promise<never> {
  checkRegistryId(input);
  const p = prefix(input);
  await ctx.authorize('ecr:DeletePullThroughCacheRule', ACCOUNT_RESOURCE);
  throw ruleNotFound(p, ctx.registryId);
}

async function validateRule(input: EcrInput, ctx: EcrContext): Promise<never> {
  checkRegistryId(input);
  const p = prefix(input);
  await ctx.authorize('ecr:ValidatePullThroughCacheRule', ACCOUNT_RESOURCE);
  throw ruleNotFound(p, ctx.registryId);
}

/** The pull-through cache: not built yet; no rule can be created, so none is ever found. */
export const PULL_THROUGH_CACHE_OPERATIONS: EcrOperations = {
  CreatePullThroughCacheRule: createRule,
  DescribePullThroughCacheRules: describeRules,
  UpdatePullThroughCacheRule: updateRule,
  DeletePullThroughCacheRule: deleteRule,
  ValidatePullThroughCacheRule: validateRule,
};
