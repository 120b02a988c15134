import { registryPolicyNotFound } from '../../../domain/registry/accounts.js';
import type { EcrContext, EcrInput, EcrOperations } from '../operation.js';
import { ACCOUNT_RESOURCE, authorizedRepository } from '../repositories.js';
import { checkRegistryId, optionalBoolean, repositoryName, requiredString } from '../validate.js';

const MAX_POLICY_LENGTH = 10240;

function policyText(input: EcrInput): string {
  return requiredString(input, 'policyText', { min: 0, max: MAX_POLICY_LENGTH });
}

async function setRepositoryPolicy(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const name = repositoryName(input);
  const text = policyText(input);
  optionalBoolean(input, 'force');
  const repo = await authorizedRepository(ctx, 'ecr:SetRepositoryPolicy', name);
  await ctx.registry.repositories.setPolicy(repo, text);
  return { registryId: ctx.registryId, repositoryName: name, policyText: text };
}

async function targetRepository(input: EcrInput, ctx: EcrContext, action: string) {
  checkRegistryId(input);
  return authorizedRepository(ctx, action, repositoryName(input));
}

async function getRepositoryPolicy(input: EcrInput, ctx: EcrContext) {
  const repo = await targetRepository(input, ctx, 'ecr:GetRepositoryPolicy');
  return { registryId: ctx.registryId, repositoryName: repo.name, policyText: ctx.registry.repositories.policy(repo) };
}

async function deleteRepositoryPolicy(input: EcrInput, ctx: EcrContext) {
  const repo = await targetRepository(input, ctx, 'ecr:DeleteRepositoryPolicy');
  const text = await ctx.registry.repositories.deletePolicy(repo);
  return { registryId: ctx.registryId, repositoryName: repo.name, policyText: text };
}

async function putRegistryPolicy(input: EcrInput, ctx: EcrContext) {
  const text = requiredString(input, 'policyText', { min: 0, max: MAX_POLICY_LENGTH });
  await ctx.authorize('ecr:PutRegistryPolicy', ACCOUNT_RESOURCE);
  await ctx.registry.accounts.putRegistryPolicy(ctx.registryId, text);
  return { registryId: ctx.registryId, policyText: text };
}

async function getRegistryPolicy(_input: EcrInput, ctx: EcrContext) {
  await ctx.authorize('ecr:GetRegistryPolicy', ACCOUNT_RESOURCE);
  const text = await ctx.registry.accounts.registryPolicy(ctx.registryId);
  if (text === undefined) throw registryPolicyNotFound(ctx.registryId);
  return { registryId: ctx.registryId, policyText: text };
}

async function deleteRegistryPolicy(_input: EcrInput, ctx: EcrContext) {
  await ctx.authorize('ecr:DeleteRegistryPolicy', ACCOUNT_RESOURCE);
  return { registryId: ctx.registryId, policyText: await ctx.registry.accounts.deleteRegistryPolicy(ctx.registryId) };
}

export const POLICY_OPERATIONS: EcrOperations = {
  SetRepositoryPolicy: setRepositoryPolicy,
  GetRepositoryPolicy: getRepositoryPolicy,
  DeleteRepositoryPolicy: deleteRepositoryPolicy,
  PutRegistryPolicy: putRegistryPolicy,
  GetRegistryPolicy: getRegistryPolicy,
  DeleteRegistryPolicy: deleteRegistryPolicy,
};
