import type { RepositoryRow } from '../store/meta/metadata-store.js';
import { EcrError } from './errors.js';
import type { EcrContext } from './operation.js';

export function repositoryArn(ctx: EcrContext, name: string, registryId = ctx.registryId): string {
  return `arn:aws:ecr:${ctx.region}:${registryId}:repository/${name}`;
}

/** The resource for account-level operations, which have no resource type in IAM. */
export const ACCOUNT_RESOURCE = '*';

export function repositoryNotFound(name: string, registryId: string): EcrError {
  return new EcrError('RepositoryNotFoundException', `The repository with name '${name}' does not exist in the registry with id '${registryId}'`);
}

export async function findRepository(ctx: EcrContext, name: string): Promise<RepositoryRow> {
  const repo = await ctx.meta.getRepository(ctx.registryId, name);
  if (!repo) throw repositoryNotFound(name, ctx.registryId);
  return repo;
}

/** Authorizes `action` on the repository, then loads it. */
export async function authorizedRepository(ctx: EcrContext, action: string, name: string): Promise<RepositoryRow> {
  await ctx.authorize(action, repositoryArn(ctx, name));
  return findRepository(ctx, name);
}

export function epochSeconds(ms: number): number {
  return ms / 1000;
}

/** The Repository shape, with ECR's defaults for settings never set. */
export function repositoryShape(ctx: EcrContext, repo: RepositoryRow): Record<string, unknown> {
  const s = repo.settings;
  const out: Record<string, unknown> = {
    repositoryArn: repositoryArn(ctx, repo.name, repo.registryId),
    registryId: repo.registryId,
    repositoryName: repo.name,
    repositoryUri: `${ctx.registryHost}/${repo.name}`,
    createdAt: epochSeconds(repo.createdAt),
    imageTagMutability: s.imageTagMutability ?? 'MUTABLE',
  };
  const filters = s.imageTagMutabilityExclusionFilters as unknown[] | undefined;
  if (filters && filters.length > 0) out.imageTagMutabilityExclusionFilters = filters;
  out.imageScanningConfiguration = s.imageScanningConfiguration ?? { scanOnPush: false };
  out.encryptionConfiguration = s.encryptionConfiguration ?? { encryptionType: 'AES256' };
  return out;
}
