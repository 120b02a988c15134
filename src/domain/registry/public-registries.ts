import { randomInt } from 'node:crypto';
import type { MetadataStore } from '../../store/meta/metadata-store.js';
import type { PublicRegistryRow } from '../../store/meta/public-registry-store.js';
import type { RepositoryCatalogData } from './catalog-data.js';
import type { Repository } from './model.js';
import { publicNamespace, type RepoRef } from './names.js';
import type { Repositories } from './repositories.js';
import type { ResourceTag } from './settings.js';

/**
 * ECR Public: each account's public registry (its alias and catalog data) and its public
 * repositories. A public repository is an ordinary repository of the registry domain (images,
 * blobs, uploads, policies, tags all work the same) kept in the account's *public namespace*, a
 * registry id no account id can equal: so a private and a public repository may share a name and
 * never meet, and nothing that lists an account's repositories sees the other kind.
 *
 * On /v2 a public repository is `<host>/ecr--public/<alias>/<name>`: `--` cannot occur in an ECR
 * repository name (its grammar allows one separator between alphanumerics), so that path is never
 * a private repository's, while container clients accept it as a repository path.
 */
export const PUBLIC_PATH_PREFIX = 'ecr--public';

const PUBLIC_REPOSITORY_ARN = /^arn:(aws[a-z-]*):ecr-public::(\d{12}):repository\/(.+)$/;
const ALIAS = /^[a-z][a-z0-9]+(?:[._-][a-z0-9]+)*$/;

export function publicRepositoryArn(accountId: string, name: string): string {
  return `arn:aws:ecr-public::${accountId}:repository/${name}`;
}

export function publicRegistryArn(accountId: string): string {
  return `arn:aws:ecr-public::${accountId}:registry/${accountId}`;
}

/** The repository an ECR Public repository ARN names, as the domain keeps it. */
export function parsePublicRepositoryArn(arn: string): (RepoRef & { accountId: string }) | undefined {
  const m = PUBLIC_REPOSITORY_ARN.exec(arn);
  return m ? { accountId: m[2]!, registryId: publicNamespace(m[2]!), name: m[3]! } : undefined;
}

export function isValidAlias(alias: string): boolean {
  return alias.length >= 2 && alias.length <= 50 && ALIAS.test(alias);
}

/** `<alias>/<name>` of a /v2 repository path under `ecr--public/`; undefined for any other path. */
export function parsePublicPath(path: string): { alias: string; name: string } | undefined {
  if (!path.startsWith(`${PUBLIC_PATH_PREFIX}/`)) return undefined;
  const rest = path.slice(PUBLIC_PATH_PREFIX.length + 1);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  return { alias: rest.slice(0, slash), name: rest.slice(slash + 1) };
}

export type PublicRegistry = PublicRegistryRow;

/** A default alias in the form ECR Public gives them: letter and digit, four times (e.g. `k3v0q7d2`). */
function newDefaultAlias(): string {
  let alias = '';
  for (let i = 0; i < 4; i++) alias += String.fromCharCode(97 + randomInt(26)) + String(randomInt(10));
  return alias;
}

export class PublicRegistries {
  constructor(
    private readonly meta: MetadataStore,
    private readonly repositories: Repositories,
  ) {}

  /** The account's public registry, if it has one yet. */
  find(accountId: string): Promise<PublicRegistry | undefined> {
    return this.meta.publicRegistries.get(accountId);
  }

  /** The account's public registry, created with a default alias on first use. */
  async ensure(accountId: string): Promise<PublicRegistry> {
    for (;;) {
      const registry = await this.meta.publicRegistries.ensure(accountId, newDefaultAlias());
      if (registry) return registry;
    }
  }

  /** The account an alias belongs to. */
  async accountOf(alias: string): Promise<string | undefined> {
    if (!isValidAlias(alias)) return undefined;
    return (await this.meta.publicRegistries.byAlias(alias))?.accountId;
  }

  async setDisplayName(accountId: string, displayName: string): Promise<PublicRegistry> {
    const registry = await this.ensure(accountId);
    await this.meta.publicRegistries.setDisplayName(accountId, displayName);
    return { ...registry, displayName };
  }

  /** Where the domain keeps the account's public repository `name`. */
  ref(accountId: string, name: string): RepoRef {
    return { registryId: publicNamespace(accountId), name };
  }

  /** Creates a public repository: anonymously pullable, with its catalog data and resource tags. */
  async createRepository(accountId: string, name: string, catalogData: RepositoryCatalogData, tags: ResourceTag[]): Promise<Repository> {
    await this.ensure(accountId);
    return this.repositories.create(this.ref(accountId, name), { public: true, catalogData, tags });
  }

  /** The account's public repositories in name order. */
  listRepositories(accountId: string): Promise<Repository[]> {
    return this.repositories.list(publicNamespace(accountId), '', 1_000_000);
  }

  async putCatalogData(repo: Repository, catalogData: RepositoryCatalogData): Promise<RepositoryCatalogData> {
    const settings = await this.repositories.changeSettings(repo, { catalogData });
    return settings.catalogData ?? {};
  }
}
