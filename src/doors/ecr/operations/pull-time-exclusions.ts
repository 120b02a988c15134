import { page } from '../../../domain/registry/paging.js';
import type { EcrContext, EcrInput, EcrOperations } from '../operation.js';
import { ACCOUNT_RESOURCE, epochSeconds } from '../repositories.js';
import { checkPattern, optionalInteger, optionalString, requiredString } from '../validate.js';

const PRINCIPAL_ARN_PATTERN = '^arn:aws(-[a-z]+)*:iam::[0-9]{12}:(role|user)/[\\w+=,.@-]+(/[\\w+=,.@-]+)*$';

function principalArn(input: EcrInput): string {
  return checkPattern(requiredString(input, 'principalArn', { max: 200 }), 'principalArn', PRINCIPAL_ARN_PATTERN);
}

// These operations have no registryId member: they act on the caller's registry.
async function registerExclusion(input: EcrInput, ctx: EcrContext) {
  const arn = principalArn(input);
  await ctx.authorize('ecr:RegisterPullTimeUpdateExclusion', ACCOUNT_RESOURCE);
  const { createdAt } = await ctx.registry.pullExclusions.register(ctx.principal.account, arn);
  return { principalArn: arn, createdAt: epochSeconds(createdAt) };
}

async function deregisterExclusion(input: EcrInput, ctx: EcrContext) {
  const arn = principalArn(input);
  await ctx.authorize('ecr:DeregisterPullTimeUpdateExclusion', ACCOUNT_RESOURCE);
  await ctx.registry.pullExclusions.deregister(ctx.principal.account, arn);
  return { principalArn: arn };
}

async function listExclusions(input: EcrInput, ctx: EcrContext) {
  const maxResults = optionalInteger(input, 'maxResults', 1, 1000);
  const nextToken = optionalString(input, 'nextToken');
  await ctx.authorize('ecr:ListPullTimeUpdateExclusions', ACCOUNT_RESOURCE);
  const all = await ctx.registry.pullExclusions.list(ctx.principal.account);
  const { items, nextToken: next } = page(all, nextToken, maxResults, `pull-exclusions:${ctx.principal.account}`);
  return { pullTimeUpdateExclusions: items, ...(next ? { nextToken: next } : {}) };
}

/** Principals whose pulls do not update lastRecordedPullTime. */
export const PULL_TIME_EXCLUSION_OPERATIONS: EcrOperations = {
  RegisterPullTimeUpdateExclusion: registerExclusion,
  DeregisterPullTimeUpdateExclusion: deregisterExclusion,
  ListPullTimeUpdateExclusions: listExclusions,
};
