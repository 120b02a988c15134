import { parsePolicyDocument } from '../../iam/policy/index.js';
import { EcrError, invalidParameter } from '../errors.js';
import type { EcrContext, EcrInput, EcrOperations } from '../operation.js';
import { ACCOUNT_RESOURCE, authorizedRepository } from '../repositories.js';
import { checkRegistryId, optionalBoolean, repositoryName, requiredString } from '../validate.js';

const MAX_POLICY_LENGTH = 10240;

function validPolicy(text: string, what: 'repository' | 'registry'): string {
  try {
    parsePolicyDocument(text, 'resource');
  } catch {
    throw invalidParameter(`Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid ${what} policy provided'`);
  }
  return text;
}

function policyText(input: EcrInput): string {
  return requiredString(input, 'policyText', { min: 0, max: MAX_POLICY_LENGTH });
}

async function setRepositoryPolicy(input: EcrInput, ctx: EcrContext) {
  checkRegistryId(input);
  const name = repositoryName(input);
  const text = policyText(input);
  optionalBoolean(input, 'force');
  const repo = await authorizedRepository(ctx, 'ecr:SetRepositoryPolicy', name);
  validPolicy(text, 'repository');
  await ctx.meta.updateRepositorySettings(repo.id, { ...repo.settings, policyText: text });
  return { registryId: ctx.registryId, repositoryName: name, policyText: text };
}

async function repositoryPolicy(input: EcrInput, ctx: EcrContext, action: string) {
  checkRegistryId(input);
  const name = repositoryName(input);
  const repo = await authorizedRepository(ctx, action, name);
  const text = repo.settings.policyText;
  if (typeof text !== 'string') {
    throw new EcrError(
      'RepositoryPolicyNotFoundException',
      `Repository policy does not exist for the repository with name '${name}' in the registry with id '${ctx.registryId}'`,
    );
  }
  return { repo, text };
}

async function getRepositoryPolicy(input: EcrInput, ctx: EcrContext) {
  const { repo, text } = await repositoryPolicy(input, ctx, 'ecr:GetRepositoryPolicy');
  return { registryId: ctx.registryId, repositoryName: repo.name, policyText: text };
}

async function deleteRepositoryPolicy(input: EcrInput, ctx: EcrContext) {
  const { repo, text } = await repositoryPolicy(input, ctx, 'ecr:DeleteRepositoryPolicy');
  const { policyText: _removed, ...settings } = repo.settings;
  await ctx.meta.updateRepositorySettings(repo.id, settings);
  return { registryId: ctx.registryId, repositoryName: repo.name, policyText: text };
}

function registryPolicyKey(ctx: EcrContext): string {
  return `account:${ctx.registryId}:registryPolicy`;
}

async function putRegistryPolicy(input: EcrInput, ctx: EcrContext) {
  const text = requiredString(input, 'policyText', { min: 0, max: MAX_POLICY_LENGTH });
  await ctx.authorize('ecr:PutRegistryPolicy', ACCOUNT_RESOURCE);
  validPolicy(text, 'registry');
  await ctx.meta.setSetting(registryPolicyKey(ctx), text);
  return { registryId: ctx.registryId, policyText: text };
}

async function registryPolicy(ctx: EcrContext, action: string): Promise<string> {
  await ctx.authorize(action, ACCOUNT_RESOURCE);
  const text = await ctx.meta.getSetting(registryPolicyKey(ctx));
  if (text === undefined || text === '') {
    throw new EcrError('RegistryPolicyNotFoundException', `Registry policy does not exist in the registry with id '${ctx.registryId}'`);
  }
  return text;
}

async function getRegistryPolicy(_input: EcrInput, ctx: EcrContext) {
  return { registryId: ctx.registryId, policyText: await registryPolicy(ctx, 'ecr:GetRegistryPolicy') };
}

async function deleteRegistryPolicy(_input: EcrInput, ctx: EcrContext) {
  const text = await registryPolicy(ctx, 'ecr:DeleteRegistryPolicy');
  await ctx.meta.deleteSetting(registryPolicyKey(ctx));
  return { registryId: ctx.registryId, policyText: text };
}

export const POLICY_OPERATIONS: EcrOperations = {
  SetRepositoryPolicy: setRepositoryPolicy,
  GetRepositoryPolicy: getRepositoryPolicy,
  DeleteRepositoryPolicy: deleteRepositoryPolicy,
  PutRegistryPolicy: putRegistryPolicy,
  GetRegistryPolicy: getRegistryPolicy,
  DeleteRegistryPolicy: deleteRegistryPolicy,
};
