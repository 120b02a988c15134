import { page } from '../../../domain/registry/paging.js';
import { publicRegistryArn, type PublicRegistry } from '../../../domain/registry/public-registries.js';
import type { EcrPublicContext, EcrPublicInput, EcrPublicOperation } from '../context.js';

/** IAM's resource for actions that have none. */
const ANY_RESOURCE = '*';

function registryShape(ctx: EcrPublicContext, registry: PublicRegistry): Record<string, unknown> {
  return {
    registryId: registry.accountId,
    registryArn: publicRegistryArn(registry.accountId),
    registryUri: `${ctx.publicRegistryRoot}/${registry.alias}`,
    verified: false,
    aliases: [{ name: registry.alias, status: 'ACTIVE', primaryRegistryAlias: true, defaultRegistryAlias: true }],
  };
}

/** The caller's public registry, once it has one (from its first public repository or catalog data). */
async function describeRegistries(input: EcrPublicInput, ctx: EcrPublicContext) {
  await ctx.authorize('ecr-public:DescribeRegistries', ANY_RESOURCE);
  const registry = await ctx.registry.publicRegistries.find(ctx.principal.account);
  const all = registry ? [registryShape(ctx, registry)] : [];
  const { items, nextToken } = page(all, input.nextToken as string | undefined, input.maxResults as number | undefined, `public-registries:${ctx.principal.account}`);
  return { registries: items, ...(nextToken ? { nextToken } : {}) };
}

async function getRegistryCatalogData(_input: EcrPublicInput, ctx: EcrPublicContext) {
  const accountId = ctx.principal.account;
  await ctx.authorize('ecr-public:GetRegistryCatalogData', publicRegistryArn(accountId));
  const registry = await ctx.registry.publicRegistries.find(accountId);
  return { registryCatalogData: registry?.displayName ? { displayName: registry.displayName } : {} };
}

async function putRegistryCatalogData(input: EcrPublicInput, ctx: EcrPublicContext) {
  const accountId = ctx.principal.account;
  await ctx.authorize('ecr-public:PutRegistryCatalogData', publicRegistryArn(accountId));
  const current = await ctx.registry.publicRegistries.ensure(accountId);
  const displayName = input.displayName === undefined || input.displayName === null ? current.displayName : (input.displayName as string);
  const registry = await ctx.registry.publicRegistries.setDisplayName(accountId, displayName);
  return { registryCatalogData: registry.displayName ? { displayName: registry.displayName } : {} };
}

/** A registry password for `podman login` / `docker login`, as for private ECR; ECR Public also requires sts:GetServiceBearerToken. */
async function getAuthorizationToken(_input: EcrPublicInput, ctx: EcrPublicContext) {
  await ctx.authorize('ecr-public:GetAuthorizationToken', ANY_RESOURCE);
  await ctx.authorize('sts:GetServiceBearerToken', ANY_RESOURCE);
  const { authorizationToken, expiresAt } = await ctx.identity.issueAuthorizationToken(ctx.principal);
  return { authorizationData: { authorizationToken, expiresAt: expiresAt.getTime() / 1000 } };
}

export const REGISTRY_OPERATIONS: Record<string, EcrPublicOperation> = {
  DescribeRegistries: describeRegistries,
  GetRegistryCatalogData: getRegistryCatalogData,
  PutRegistryCatalogData: putRegistryCatalogData,
  GetAuthorizationToken: getAuthorizationToken,
};
