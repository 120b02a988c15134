import { ACCOUNT_SETTINGS, accountKey } from '../account-settings.js';
import { EcrError } from '../errors.js';
import type { EcrContext, EcrInput, EcrOperations } from '../operation.js';
import { ACCOUNT_RESOURCE, findRepository, repositoryArn } from '../repositories.js';
import { mergeTags, MAX_TAGS, parseTags, type ResourceTag } from '../tags.js';
import { checkRegistryId, checkRepositoryName, parameterError, requiredString, stringList } from '../validate.js';

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
  const value = (await ctx.meta.getSetting(accountKey(ctx, name))) ?? ACCOUNT_SETTINGS[name]!.default;
  return { name, value };
}

async function putAccountSetting(input: EcrInput, ctx: EcrContext) {
  const name = settingName(input);
  const value = requiredString(input, 'value', { min: 1, max: 64 });
  await ctx.authorize('ecr:PutAccountSetting', ACCOUNT_RESOURCE, { 'ecr:AccountSetting': name });
  const allowed = ACCOUNT_SETTINGS[name]!.values;
  if (!allowed.includes(value)) throw parameterError('value', `Member must satisfy enum value set: [${allowed.join(', ')}]`);
  await ctx.meta.setSetting(accountKey(ctx, name), value);
  return { name, value };
}

const REPOSITORY_ARN = /^arn:aws[a-z-]*:ecr:([0-9a-z-]+):([0-9]{12}):repository\/(.+)$/;

/** The repository a tagging ARN names; only repositories are taggable. */
async function taggedRepository(input: EcrInput, ctx: EcrContext, action: string) {
  const arn = requiredString(input, 'resourceArn', { min: 1, max: 1011 });
  const m = REPOSITORY_ARN.exec(arn);
  if (!m || m[1] !== ctx.region) throw new EcrError('InvalidParameterException', `Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN'`);
  const name = checkRepositoryName(m[3]!, 'resourceArn');
  const scoped = { ...ctx, registryId: m[2]! };
  await ctx.authorize(action, repositoryArn(scoped, name));
  return findRepository(scoped, name);
}

function tagsOf(settings: Record<string, unknown>): ResourceTag[] {
  return (settings.tags as ResourceTag[] | undefined) ?? [];
}

async function tagResource(input: EcrInput, ctx: EcrContext) {
  const repo = await taggedRepository(input, ctx, 'ecr:TagResource');
  const added = parseTags(input, 'tags', true)!;
  const tags = mergeTags(tagsOf(repo.settings), added);
  if (tags.length > MAX_TAGS) throw new EcrError('TooManyTagsException', `A repository can have at most ${MAX_TAGS} tags`);
  await ctx.meta.updateRepositorySettings(repo.id, { ...repo.settings, tags });
  return {};
}

async function untagResource(input: EcrInput, ctx: EcrContext) {
  const repo = await taggedRepository(input, ctx, 'ecr:UntagResource');
  const keys = new Set(stringList(input, 'tagKeys', 0, 200, true));
  const tags = tagsOf(repo.settings).filter((t) => !keys.has(t.Key));
  await ctx.meta.updateRepositorySettings(repo.id, { ...repo.settings, tags });
  return {};
}

async function listTagsForResource(input: EcrInput, ctx: EcrContext) {
  const repo = await taggedRepository(input, ctx, 'ecr:ListTagsForResource');
  return { tags: tagsOf(repo.settings) };
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
