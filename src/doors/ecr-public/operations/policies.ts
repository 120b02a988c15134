import { requestTagContext, tagKeysContext, type AuthzContext } from '../../../iam/identity.js';
import { parsePublicRepositoryArn } from '../../../domain/registry/public-registries.js';
import type { EcrPublicContext, EcrPublicInput, EcrPublicOperation } from '../context.js';
import { invalidParameter } from '../errors.js';
import { addressedAccount, authorizedRepository } from '../repositories.js';
import { resourceTags } from '../tags.js';

async function setRepositoryPolicy(input: EcrPublicInput, ctx: EcrPublicContext) {
  const accountId = await addressedAccount(input, ctx);
  const repo = await authorizedRepository(ctx, 'ecr-public:SetRepositoryPolicy', accountId, input.repositoryName as string);
  const policyText = input.policyText as string;
  await ctx.registry.repositories.setPolicy(repo, policyText);
  return { registryId: accountId, repositoryName: repo.name, policyText };
}

async function getRepositoryPolicy(input: EcrPublicInput, ctx: EcrPublicContext) {
  const accountId = await addressedAccount(input, ctx);
  const repo = await authorizedRepository(ctx, 'ecr-public:GetRepositoryPolicy', accountId, input.repositoryName as string);
  return { registryId: accountId, repositoryName: repo.name, policyText: ctx.registry.repositories.policy(repo) };
}

async function deleteRepositoryPolicy(input: EcrPublicInput, ctx: EcrPublicContext) {
  const accountId = await addressedAccount(input, ctx);
  const repo = await authorizedRepository(ctx, 'ecr-public:DeleteRepositoryPolicy', accountId, input.repositoryName as string);
  const policyText = await ctx.registry.repositories.deletePolicy(repo);
  return { registryId: accountId, repositoryName: repo.name, policyText };
}

/** The public repository a resource ARN names; ECR Public tags nothing else. */
async function taggedRepository(ctx: EcrPublicContext, action: string, arn: string, context?: AuthzContext) {
  const ref = parsePublicRepositoryArn(arn);
  if (!ref) throw invalidParameter('resourceArn', `Invalid ARN '${arn}': it must name an ECR Public repository`);
  return authorizedRepository(ctx, action, ref.accountId, ref.name, context);
}

async function tagResource(input: EcrPublicInput, ctx: EcrPublicContext) {
  const tags = resourceTags(input.tags);
  const repo = await taggedRepository(ctx, 'ecr-public:TagResource', input.resourceArn as string, requestTagContext(tags));
  await ctx.registry.repositories.tag(repo, tags);
  return {};
}

async function untagResource(input: EcrPublicInput, ctx: EcrPublicContext) {
  const repo = await taggedRepository(ctx, 'ecr-public:UntagResource', input.resourceArn as string, tagKeysContext(input.tagKeys as string[]));
  await ctx.registry.repositories.untag(repo, input.tagKeys as string[]);
  return {};
}

async function listTagsForResource(input: EcrPublicInput, ctx: EcrPublicContext) {
  const repo = await taggedRepository(ctx, 'ecr-public:ListTagsForResource', input.resourceArn as string);
  return { tags: repo.settings.tags };
}

export const POLICY_OPERATIONS: Record<string, EcrPublicOperation> = {
  SetRepositoryPolicy: setRepositoryPolicy,
  GetRepositoryPolicy: getRepositoryPolicy,
  DeleteRepositoryPolicy: deleteRepositoryPolicy,
  TagResource: tagResource,
  UntagResource: untagResource,
  ListTagsForResource: listTagsForResource,
};
