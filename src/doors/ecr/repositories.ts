import { repositoryKmsKeyArn } from '../../domain/encryption/blob-encryption.js';
import type { Repository } from '../../domain/registry/model.js';
import { repositoryArn as arnOf } from '../../domain/registry/names.js';
import type { EcrContext } from './operation.js';

export function repositoryArn(ctx: EcrContext, name: string, registryId = ctx.registryId): string {
  return arnOf(ctx.region, { registryId, name });
}

/** The resource for account-level operations, which have no resource type in IAM. */
export const ACCOUNT_RESOURCE = '*';

export async function findRepository(ctx: EcrContext, name: string, registryId = ctx.registryId): Promise<Repository> {
  return ctx.registry.repositories.get({ registryId, name });
}

/** Authorizes `action` on the repository, then loads it. */
export async function authorizedRepository(ctx: EcrContext, action: string, name: string): Promise<Repository> {
  await ctx.authorize(action, repositoryArn(ctx, name));
  return findRepository(ctx, name);
}

/** Reading image contents from a repository encrypted with a KMS key needs kms:Decrypt on the key, as on ECR. */
export async function authorizeDecrypt(ctx: EcrContext, repo: Repository): Promise<void> {
  const keyArn = repositoryKmsKeyArn(repo);
  if (!keyArn) return;
  await ctx.authorize('kms:Decrypt', keyArn, { 'kms:ViaService': `ecr.${ctx.region}.amazonaws.com`, 'kms:CallerAccount': ctx.principal.account });
}

export function epochSeconds(ms: number): number {
  return ms / 1000;
}

/** The Repository shape. */
export function repositoryShape(ctx: EcrContext, repo: Repository): Record<string, unknown> {
  const s = repo.settings;
  const out: Record<string, unknown> = {
    repositoryArn: repositoryArn(ctx, repo.name, repo.registryId),
    registryId: repo.registryId,
    repositoryName: repo.name,
    repositoryUri: `${ctx.registryHost}/${repo.name}`,
    createdAt: epochSeconds(repo.createdAt),
    imageTagMutability: s.imageTagMutability,
  };
  if (s.imageTagMutabilityExclusionFilters.length > 0) out.imageTagMutabilityExclusionFilters = s.imageTagMutabilityExclusionFilters;
  out.imageScanningConfiguration = s.imageScanningConfiguration;
  out.encryptionConfiguration = s.encryptionConfiguration;
  return out;
}
