import { requestTagContext, tagKeysContext } from '../../../iam/identity.js';
import { ACCOUNT_SETTINGS } from '../../../domain/registry/accounts.js';
import type { EcrContext, EcrInput, EcrOperations } from '../operation.js';
import { ACCOUNT_RESOURCE } from '../repositories.js';
import { parseTags, taggedRepository } from '../tags.js';
import { checkRegistryId, parameterError, requiredString, stringList } from '../validate.js';

async function describeRegistry(_input: EcrInput, ctx: EcrContext) {
  await ctx.authorize('ecr:DescribeRegistry', ACCOUNT_RESOURCE);
  return { registryId: ctx.registryId, replicationConfiguration: { rules: [] } };
}

function settingName(input: EcrInput): string {
  const name = requiredString(input, 'name', { min: 1, max: 64 });
  if (!Object.hasOwn(ACCOUNT_SETTINGS, name)) {
    throw parameterError('name', `Member must satisfy enum value set: [${Object.keys(ACCOUNT_SETTINGS).join(', ')}]`);
  }
  return name;
}

async function getAccountSetting(input: EcrInput, ctx: EcrContext) {
  const name = settingName(input);
  await ctx.authorize('ecr:GetAccountSetting', ACCOUNT_RESOURCE, { 'ecr:AccountSetting': name });
  const value = await ctx.registry.accounts.setting(ctx.registryId, name);
  return { name, value };
}

async function putAccountSetting(input: EcrInput, ctx: EcrContext) {
  const name = settingName(input);
  const value = requiredString(input, 'value', { min: 1, max: 64 });
  await ctx.authorize('ecr:PutAccountSetting', ACCOUNT_RESOURCE, { 'ecr:AccountSetting': name });
  await ctx.registry.accounts.putSetting(ctx.registryId, name, value);
  return { name, value };
}

async function tagResource(input: EcrInput, ctx: EcrContext) {
  const tags = parseTags(input, 'tags', true)!;
  const repo = await taggedRepository(input, ctx, 'ecr:TagResource', requestTagContext(tags));
  await ctx.registry.repositories.tag(repo, tags);
  return {};
}

async function untagResource(input: EcrInput, ctx: EcrContext) {
  const keys = stringList(input, 'tagKeys', 0, 200, true)!;
  const repo = await taggedRepository(input, ctx, 'ecr:UntagResource', tagKeysContext(keys));
  await ctx.registry.repositories.untag(repo, keys);
  return {};
}

async function listTagsForResource(input: EcrInput, ctx: EcrContext) {
  const repo = await taggedRepository(input, ctx, 'ecr:ListTagsForResource');
  return { tags: repo.settings.tags };
}

async function getAuthorizationToken(input: EcrInput, ctx: EcrContext) {
  const ids = stringList(input, 'registryIds', 1, 10, false);
  for (const id of ids ?? []) checkRegistryId({ registryId: id });
  await ctx.authorize('ecr:GetAuthorizationToken', ACCOUNT_RESOURCE);
  const { authorizationToken, expiresAt } = await ctx.identity.issueAuthorizationToken(ctx.principal);
  const entry = { authorizationToken, expiresAt: expiresAt.getTime() / 1000, proxyEndpoint: ctx.baseUrl };
  return { authorizationData: (ids ?? [ctx.registryId]).map(() => entry) };
}

export const ACCOUNT_OPERATIONS: EcrOperations = {
  DescribeRegistry: describeRegistry,
  GetAccountSetting: getAccountSetting,
  PutAccountSetting: putAccountSetting,
  TagResource: tagResource,
  UntagResource: untagResource,
  ListTagsForResource: listTagsForResource,
  GetAuthorizationToken: getAuthorizationToken,
};
