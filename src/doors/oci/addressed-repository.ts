import { parsePublicPath } from '../../domain/registry/public-registries.js';
import { publicNamespace, type RepoRef } from '../../domain/registry/names.js';
import type { Registry } from '../../domain/registry/registry.js';
import type { OciCaller } from './access.js';
import { OciError } from './errors.js';

/** The repository a /v2 path names, and for an ECR Public path, the alias it was addressed by. */
export interface AddressedRepository {
  repo: RepoRef;
  alias?: string;
}

/**
 * `ecr--public/<alias>/<name>` is the public repository `<name>` of the account with that alias;
 * any other name is a repository of the registry (account) the caller addresses.
 */
export async function addressedRepository(registry: Registry, caller: OciCaller, pathName: string): Promise<AddressedRepository> {
  const path = parsePublicPath(pathName);
  if (!path) return { repo: { registryId: caller.registryId, name: pathName } };
  const accountId = await registry.publicRegistries.accountOf(path.alias);
  if (accountId === undefined) {
    throw new OciError('NAME_UNKNOWN', `The repository with name '${path.name}' does not exist in the registry with id '${path.alias}'`);
  }
  return { repo: { registryId: publicNamespace(accountId), name: path.name }, alias: path.alias };
}
