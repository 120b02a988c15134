import { requestTagContext } from '../../../iam/identity.js';
import { page } from '../../../domain/registry/paging.js';
import { publicRepositoryArn } from '../../../domain/registry/public-registries.js';
import type { EcrPublicContext, EcrPublicInput, EcrPublicOperation } from '../context.js';
import { invalidParameter } from '../errors.js';
import { addressedAccount, aliasOf, authorizedRepository, catalogDataInput, catalogDataShape, repositoryShape } from '../repositories.js';
import { resourceTags } from '../tags.js';

async function createRepository(input: EcrPublicInput, ctx: EcrPublicContext) {
  const name = input.repositoryName as string;
  const accountId = ctx.principal.account;
  const tags = resourceTags(input.tags);
  await ctx.authorize('ecr-public:CreateRepository', publicRepositoryArn(accountId, name), requestTagContext(tags));
  const repo = await ctx.registry.publicRegistries.createRepository(accountId, name, catalogDataInput(input.catalogData), tags);
  const alias = await aliasOf(ctx, accountId);
  return { repository: repositoryShape(ctx, repo, alias), catalogData: catalogDataShape(ctx, repo, alias) };
}

async function describeRepositories(input: EcrPublicInput, ctx: EcrPublicContext) {
  const accountId = await addressedAccount(input, ctx);
  const names = input.repositoryNames as string[] | undefined;
  const maxResults = input.maxResults as number | undefined;
  const nextToken = input.nextToken as string | undefined;
  if (names) {
    if (maxResults !== undefined || nextToken !== undefined) {
      throw invalidParameter('maxResults', 'maxResults and nextToken cannot be used with repositoryNames');
    }
    const repos = [];
    for (const name of names) repos.push(await authorizedRepository(ctx, 'ecr-public:DescribeRepositories', accountId, name));
    const alias = await aliasOf(ctx, accountId);
    return { repositories: repos.map((r) => repositoryShape(ctx, r, alias)) };
  }
  await ctx.authorize('ecr-public:DescribeRepositories', publicRepositoryArn(accountId, '*'));
  const all = await ctx.registry.publicRegistries.listRepositories(accountId);
  const { items, nextToken: next } = page(all, nextToken, maxResults, `public-repos:${accountId}`);
  const alias = items.length > 0 ? await aliasOf(ctx, accountId) : '';
  return { repositories: items.map((r) => repositoryShape(ctx, r, alias)), ...(next ? { nextToken: next } : {}) };
}

async function deleteRepository(input: EcrPublicInput, ctx: EcrPublicContext) {
  const accountId = await addressedAccount(input, ctx);
  const name = input.repositoryName as string;
  await ctx.authorize('ecr-public:DeleteRepository', publicRepositoryArn(accountId, name));
  const repo = await ctx.registry.repositories.delete(ctx.registry.publicRegistries.ref(accountId, name), input.force === true);
  return { repository: repositoryShape(ctx, repo, await aliasOf(ctx, accountId)) };
}

async function getRepositoryCatalogData(input: EcrPublicInput, ctx: EcrPublicContext) {
  const accountId = await addressedAccount(input, ctx);
  const repo = await authorizedRepository(ctx, 'ecr-public:GetRepositoryCatalogData', accountId, input.repositoryName as string);
  return { catalogData: catalogDataShape(ctx, repo, await aliasOf(ctx, accountId)) };
}

async function putRepositoryCatalogData(input: EcrPublicInput, ctx: EcrPublicContext) {
  const accountId = await addressedAccount(input, ctx);
  const repo = await authorizedRepository(ctx, 'ecr-public:PutRepositoryCatalogData', accountId, input.repositoryName as string);
  const catalogData = await ctx.registry.publicRegistries.putCatalogData(repo, catalogDataInput(input.catalogData));
  const updated = { ...repo, settings: { ...repo.settings, catalogData } };
  return { catalogData: catalogDataShape(ctx, updated, await aliasOf(ctx, accountId)) };
}

export const REPOSITORY_OPERATIONS: Record<string, EcrPublicOperation> = {
  CreateRepository: createRepository,
  DescribeRepositories: describeRepositories,
  DeleteRepository: deleteRepository,
  GetRepositoryCatalogData: getRepositoryCatalogData,
  PutRepositoryCatalogData: putRepositoryCatalogData,
};
