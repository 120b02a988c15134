import type { AuthzContext } from '../../iam/identity.js';
import type { RepositoryCatalogData } from '../../domain/registry/catalog-data.js';
import type { Repository } from '../../domain/registry/model.js';
import { publicNamespaceAccount } from '../../domain/registry/names.js';
import { publicRepositoryArn } from '../../domain/registry/public-registries.js';
import type { EcrPublicContext, EcrPublicInput } from './context.js';
import { EcrPublicError } from './errors.js';
import { logoUrl } from './logos.js';

const ACCOUNT_ID = /^[0-9]{12}$/;

export function epochSeconds(ms: number): number {
  return ms / 1000;
}

/**
 * The account whose public registry the request addresses: `registryId` (an account id, or where
 * the model allows it, a registry alias), else the caller's.
 */
export async function addressedAccount(input: EcrPublicInput, ctx: EcrPublicContext): Promise<string> {
  const registryId = input.registryId as string | undefined;
  if (registryId === undefined || registryId === null) return ctx.principal.account;
  if (ACCOUNT_ID.test(registryId)) return registryId;
  const account = await ctx.registry.publicRegistries.accountOf(registryId);
  if (account === undefined) throw new EcrPublicError('RegistryNotFoundException', `The registry with id '${registryId}' does not exist`);
  return account;
}

/** Authorizes `action` on the public repository, then loads it. */
export async function authorizedRepository(ctx: EcrPublicContext, action: string, accountId: string, name: string, context?: AuthzContext): Promise<Repository> {
  await ctx.authorize(action, publicRepositoryArn(accountId, name), context);
  return ctx.registry.repositories.get(ctx.registry.publicRegistries.ref(accountId, name));
}

/** The account a public repository belongs to. */
export function accountOf(repo: Repository): string {
  return publicNamespaceAccount(repo.registryId)!;
}

/** The alias in the account's repository URIs (an account with a public repository has a registry). */
export async function aliasOf(ctx: EcrPublicContext, accountId: string): Promise<string> {
  const registry = (await ctx.registry.publicRegistries.find(accountId)) ?? (await ctx.registry.publicRegistries.ensure(accountId));
  return registry.alias;
}

/** The Repository shape. */
export function repositoryShape(ctx: EcrPublicContext, repo: Repository, alias: string): Record<string, unknown> {
  const accountId = accountOf(repo);
  return {
    repositoryArn: publicRepositoryArn(accountId, repo.name),
    registryId: accountId,
    repositoryName: repo.name,
    repositoryUri: `${ctx.publicRegistryRoot}/${alias}/${repo.name}`,
    createdAt: epochSeconds(repo.createdAt),
  };
}

/** The RepositoryCatalogData shape: what was set, the logo as a URL. */
export function catalogDataShape(ctx: EcrPublicContext, repo: Repository, alias: string): Record<string, unknown> {
  const data = repo.settings.catalogData ?? {};
  const out: Record<string, unknown> = {};
  if (data.description !== undefined) out.description = data.description;
  if (data.architectures !== undefined) out.architectures = data.architectures;
  if (data.operatingSystems !== undefined) out.operatingSystems = data.operatingSystems;
  const logo = logoUrl(ctx.baseUrl, alias, repo);
  if (logo !== undefined) out.logoUrl = logo;
  if (data.aboutText !== undefined) out.aboutText = data.aboutText;
  if (data.usageText !== undefined) out.usageText = data.usageText;
  return out;
}

/** RepositoryCatalogDataInput (already checked against the model) as the domain keeps it. */
export function catalogDataInput(raw: unknown): RepositoryCatalogData {
  const input = (raw ?? {}) as Record<string, unknown>;
  const data: RepositoryCatalogData = {};
  if (typeof input.description === 'string') data.description = input.description;
  if (Array.isArray(input.architectures)) data.architectures = input.architectures as string[];
  if (Array.isArray(input.operatingSystems)) data.operatingSystems = input.operatingSystems as string[];
  if (typeof input.logoImageBlob === 'string' && input.logoImageBlob.length > 0) data.logoImageBase64 = input.logoImageBlob;
  if (typeof input.aboutText === 'string') data.aboutText = input.aboutText;
  if (typeof input.usageText === 'string') data.usageText = input.usageText;
  return data;
}
