import type { MetadataStore } from '../../store/meta/metadata-store.js';
import type { BlobEncryption } from '../encryption/blob-encryption.js';
import type { Accounts } from './accounts.js';
import type { ServiceRoles } from '../roles/service-roles.js';
import { ECR_SERVICE, kmsRoleRequests, roleRequestsFor, settingsFromTemplate, usesKms, type CreationTemplate, type CreationTemplates } from './creation-templates.js';
import { RegistryError } from './errors.js';
import { toRepository, type Repository } from './model.js';
import { assertRepositoryName, publicNamespaceAccount, repositoryArn, type RepoRef } from './names.js';
import { assertResourcePolicy } from './resource-policy.js';
import { DEFAULT_SETTINGS, MAX_RESOURCE_TAGS, mergeResourceTags, readSettings, type RepositorySettings, type ResourceTag, type SettingsPatch } from './settings.js';


/** Repositories and their settings: every door creates, changes and deletes them here. */
export class Repositories {
  constructor(
    private readonly meta: MetadataStore,
    private readonly accounts: Accounts,
    private readonly templates: CreationTemplates,
    private readonly encryption: Pick<BlobEncryption, 'configurationFor'>,
    private readonly region: string,
    private readonly roles: ServiceRoles,
  ) {}

  async find(ref: RepoRef): Promise<Repository | undefined> {
    const row = await this.meta.getRepository(ref.registryId, ref.name);
    return row && toRepository(row);
  }

  async get(ref: RepoRef): Promise<Repository> {
    assertRepositoryName(ref.name);
    const repo = await this.find(ref);
    if (!repo) throw repositoryNotFound(ref);
    return repo;
  }

  async byId(id: string): Promise<Repository | undefined> {
    const row = await this.meta.getRepositoryById(id);
    return row && toRepository(row);
  }

  /**
   * The repository a push goes to. A missing one is created when a repository creation template
   * for CREATE_ON_PUSH applies to its name (with that template's settings, and only if
   * `mayCreate` lets the pusher create it), or when create-on-push is configured for the registry.
   */
  async forPush(ref: RepoRef, mayCreate?: () => Promise<void>): Promise<Repository> {
    assertRepositoryName(ref.name);
    const repo = await this.find(ref);
    if (repo) return repo;
    // ECR Public never creates a repository on push.
    if (publicNamespaceAccount(ref.registryId) !== undefined) throw repositoryNotFound(ref);
    const template = mayCreate && (await this.templates.forNewRepository(ref.registryId, ref.name, 'CREATE_ON_PUSH'));
    if (template) {
      await mayCreate();
      await this.assertTemplateRole(ref, template);
      const encryptionConfiguration = await this.templateEncryption(ref, template);
      const settings = { ...DEFAULT_SETTINGS, ...settingsFromTemplate(template, encryptionConfiguration) };
      const row = await this.insert(ref, settings, { createdOnPush: true, template: template.prefix });
      return row ? toRepository(row) : this.get(ref);
    }
    if (!(await this.accounts.createOnPush(ref.registryId))) throw repositoryNotFound(ref);
    const row = await this.insert(ref, { ...DEFAULT_SETTINGS, imageTagMutability: 'MUTABLE' }, { createdOnPush: true });
    return row ? toRepository(row) : this.get(ref);
  }

  /**
   * ECR assumes a template's custom role to create a repository from it: the repository is created
   * only if that role lets ecr.amazonaws.com do what creating it takes.
   */
  private async assertTemplateRole(ref: RepoRef, template: CreationTemplate): Promise<void> {
    if (!template.customRoleArn) return;
    const verdict = await this.roles.check(ECR_SERVICE, template.customRoleArn, roleRequestsFor(template, repositoryArn(this.region, ref)));
    if (!verdict.allowed) {
      throw new RegistryError('RoleDenied', `${cannotCreate(ref, template)}: ${verdict.reason}`, { name: ref.name });
    }
  }

  /**
   * The encryption of a repository created from the template. With KMS, the key must be usable and
   * the template's role allowed to use it through ECR (kms:DescribeKey, kms:CreateGrant); a role
   * that is not fails as KMS would fail ECR's call: a KMS error (AccessDeniedException).
   */
  private async templateEncryption(ref: RepoRef, template: CreationTemplate): Promise<RepositorySettings['encryptionConfiguration']> {
    const wanted = template.encryptionConfiguration;
    if (!usesKms(wanted.encryptionType)) return { encryptionType: wanted.encryptionType };
    const resolved = await this.encryption.configurationFor(ref.registryId, this.region, wanted.kmsKey ? wanted : { encryptionType: wanted.encryptionType });
    const verdict = template.customRoleArn
      ? await this.roles.check(ECR_SERVICE, template.customRoleArn, kmsRoleRequests(resolved.kmsKey!, ref.registryId, this.region))
      : { allowed: false as const, reason: 'the template has no custom role to use its KMS key with' };
    if (!verdict.allowed) {
      throw new RegistryError('Kms', `${cannotCreate(ref, template)}: ${verdict.reason}`, { name: ref.name, kmsError: 'AccessDeniedException' });
    }
    return resolved;
  }

  async create(ref: RepoRef, settings: Partial<RepositorySettings>): Promise<Repository> {
    assertRepositoryName(ref.name);
    const encryptionConfiguration = await this.encryption.configurationFor(ref.registryId, this.region, settings.encryptionConfiguration ?? DEFAULT_SETTINGS.encryptionConfiguration);
    const row = await this.insert(ref, { ...DEFAULT_SETTINGS, ...settings, encryptionConfiguration }, {});
    if (!row) {
      throw new RegistryError(
        'RepositoryAlreadyExists',
        `The repository with name '${ref.name}' already exists in the registry with id '${ref.registryId}'`,
        { name: ref.name },
      );
    }
    return toRepository(row);
  }

  private insert(ref: RepoRef, settings: RepositorySettings, detail: Record<string, unknown>) {
    return this.meta.transaction(async (tx) => {
      const row = await tx.createRepository(ref.registryId, ref.name, { ...settings });
      if (row) await tx.events.append({ type: 'repository.created', registryId: ref.registryId, repositoryName: ref.name, detail });
      return row;
    });
  }

  /** Repositories in name order, after `after`, at most `limit`. */
  async list(registryId: string, after = '', limit = 1000): Promise<Repository[]> {
    return (await this.meta.listRepositories(registryId, after, limit)).map(toRepository);
  }

  async listAll(): Promise<Repository[]> {
    return (await this.meta.listAllRepositories()).map(toRepository);
  }

  /** Deletes the repository; unless `force`, only when it holds no images. */
  async delete(ref: RepoRef, force: boolean): Promise<Repository> {
    const repo = await this.get(ref);
    await this.meta.transaction(async (tx) => {
      if (!force && (await tx.countImages(repo.id)) > 0) {
        throw new RegistryError(
          'RepositoryNotEmpty',
          `The repository with name '${ref.name}' in registry with id '${ref.registryId}' cannot be deleted because it still contains images`,
        );
      }
      await tx.deleteRepository(repo.id);
      await tx.events.append({ type: 'repository.deleted', registryId: ref.registryId, repositoryName: ref.name, detail: { force } });
    });
    return repo;
  }

  /** Applies `patch` atomically; settings not named in it are left as they are. */
  async changeSettings(repo: Repository, patch: SettingsPatch): Promise<RepositorySettings> {
    return this.updateSettings(repo, () => patch);
  }

  /**
   * Computes a change from the settings as stored at that moment (inside the store's write
   * transaction) and applies it: no change made meanwhile by anyone else is lost.
   */
  async updateSettings(repo: Repository, change: (current: RepositorySettings) => SettingsPatch): Promise<RepositorySettings> {
    const stored = await this.meta.updateRepositorySettings(repo.id, (raw) => change(readSettings(raw)));
    if (!stored) throw repositoryNotFound(repo);
    return readSettings(stored);
  }

  async setPolicy(repo: Repository, policyText: string): Promise<void> {
    assertResourcePolicy(policyText, 'repository');
    await this.changeSettings(repo, { policyText });
  }

  /** Removes the repository policy and returns it; RepositoryPolicyNotFound when there is none. */
  async deletePolicy(repo: Repository): Promise<string> {
    let removed: string | undefined;
    await this.updateSettings(repo, (s) => {
      removed = s.policyText;
      return { policyText: undefined };
    });
    if (removed === undefined) throw repositoryPolicyNotFound(repo);
    return removed;
  }

  policy(repo: Repository): string {
    if (repo.settings.policyText === undefined) throw repositoryPolicyNotFound(repo);
    return repo.settings.policyText;
  }

  async tag(repo: Repository, added: ResourceTag[]): Promise<void> {
    await this.updateSettings(repo, (s) => {
      const tags = mergeResourceTags(s.tags, added);
      if (tags.length > MAX_RESOURCE_TAGS) throw new RegistryError('TooManyResourceTags', `A repository can have at most ${MAX_RESOURCE_TAGS} tags`);
      return { tags };
    });
  }

  async untag(repo: Repository, keys: string[]): Promise<void> {
    const remove = new Set(keys);
    await this.updateSettings(repo, (s) => ({ tags: s.tags.filter((t) => !remove.has(t.Key)) }));
  }

  async setPublic(repo: Repository, isPublic: boolean): Promise<void> {
    await this.changeSettings(repo, { public: isPublic });
  }
}

function cannotCreate(ref: RepoRef, template: CreationTemplate): string {
  return `The repository '${ref.name}' cannot be created from the repository creation template '${template.prefix}'`;
}

export function repositoryNotFound(ref: RepoRef): RegistryError {
  return new RegistryError(
    'RepositoryNotFound',
    `The repository with name '${ref.name}' does not exist in the registry with id '${ref.registryId}'`,
    { name: ref.name },
  );
}

function repositoryPolicyNotFound(repo: Repository): RegistryError {
  return new RegistryError(
    'RepositoryPolicyNotFound',
    `Repository policy does not exist for the repository with name '${repo.name}' in the registry with id '${repo.registryId}'`,
  );
}
