import type { MetadataStore } from '../../store/meta/metadata-store.js';
import type { CreationTemplateRow } from '../../store/meta/creation-template-store.js';
import { checkLifecyclePolicyTextLength, LifecyclePolicyValidationError, parseLifecyclePolicy } from '../lifecycle/policy.js';
import { RegistryError } from './errors.js';
import { assertResourcePolicy } from './resource-policy.js';
import type { EncryptionType, MutabilityExclusionFilter, RepositorySettings, ResourceTag, TagMutability } from './settings.js';
import { MAX_RESOURCE_TAGS } from './settings.js';
import type { ServiceRequest, ServiceRoles } from '../roles/service-roles.js';

/** The service principal ECR acts as when it assumes a template's custom role. */
export const ECR_SERVICE = 'ecr.amazonaws.com';

/** What a template is used for: repositories ECR creates on a push, a pull-through cache fetch or replication. */
export type TemplateUse = 'REPLICATION' | 'PULL_THROUGH_CACHE' | 'CREATE_ON_PUSH';
export const TEMPLATE_USES: readonly TemplateUse[] = ['REPLICATION', 'PULL_THROUGH_CACHE', 'CREATE_ON_PUSH'];

/** The prefix of the template that applies to repositories no other template matches. */
export const ROOT_PREFIX = 'ROOT';

export interface TemplateSettings {
  description?: string;
  encryptionConfiguration: { encryptionType: EncryptionType; kmsKey?: string };
  resourceTags: ResourceTag[];
  imageTagMutability: TagMutability;
  imageTagMutabilityExclusionFilters: MutabilityExclusionFilter[];
  repositoryPolicy?: string;
  lifecyclePolicy?: string;
  appliedFor: TemplateUse[];
  customRoleArn?: string;
}

export interface CreationTemplate extends TemplateSettings {
  /** The prefix as it was given (a trailing '/' is implied when absent), or ROOT. */
  prefix: string;
  createdAt: number;
  updatedAt: number;
}

/** A change to a template: settings left out stay as they are. */
export type TemplatePatch = Partial<TemplateSettings>;

const DEFAULTS: Omit<TemplateSettings, 'appliedFor'> = {
  encryptionConfiguration: { encryptionType: 'AES256' },
  resourceTags: [],
  imageTagMutability: 'MUTABLE',
  imageTagMutabilityExclusionFilters: [],
};

const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@/-]+$/;

/** The key a prefix is stored under: without its trailing '/', so `prod` and `prod/` are one template. */
export function templateKey(prefix: string): string {
  return prefix === ROOT_PREFIX ? prefix : prefix.replace(/\/$/, '');
}

function invalid(field: string, message: string): RegistryError {
  return new RegistryError('InvalidParameter', message, { field });
}

function templateNotFound(prefix: string, registryId: string): RegistryError {
  return new RegistryError('TemplateNotFound', `Repository creation template with prefix '${prefix}' does not exist in the registry with id '${registryId}'`);
}

/** A template's custom role: an IAM role of the registry's own account. */
export function assertCustomRoleArn(registryId: string, arn: string): void {
  const role = ROLE_ARN.exec(arn);
  if (!role) throw invalid('customRoleArn', 'Invalid role ARN');
  if (role[1] !== registryId) throw invalid('customRoleArn', `The role must be in the registry's account '${registryId}'`);
}

/** The rules ECR applies to a template as a whole, after each member passed its own. */
function checkTemplate(registryId: string, t: TemplateSettings): void {
  if (t.appliedFor.length === 0) throw invalid('appliedFor', 'must contain at least one of [REPLICATION, PULL_THROUGH_CACHE, CREATE_ON_PUSH]');
  const { encryptionType, kmsKey } = t.encryptionConfiguration;
  if (kmsKey !== undefined && kmsKey !== '' && encryptionType === 'AES256') {
    throw invalid('encryptionConfiguration', 'KMS key can only be specified for KMS encryption types');
  }
  const withExclusion = t.imageTagMutability === 'IMMUTABLE_WITH_EXCLUSION' || t.imageTagMutability === 'MUTABLE_WITH_EXCLUSION';
  if (withExclusion && t.imageTagMutabilityExclusionFilters.length === 0) {
    throw invalid('imageTagMutabilityExclusionFilters', `must be provided when imageTagMutability is ${t.imageTagMutability}`);
  }
  if (!withExclusion && t.imageTagMutabilityExclusionFilters.length > 0) {
    throw invalid('imageTagMutabilityExclusionFilters', 'can only be used with IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION');
  }
  if (t.resourceTags.length > MAX_RESOURCE_TAGS) throw new RegistryError('TooManyResourceTags', `A repository can have at most ${MAX_RESOURCE_TAGS} tags`);
  if (t.customRoleArn !== undefined && t.customRoleArn !== '') {
    assertCustomRoleArn(registryId, t.customRoleArn);
  } else if (t.resourceTags.length > 0) {
    throw invalid('customRoleArn', 'A custom role is required when the template has resource tags');
  } else if (usesKms(encryptionType)) {
    // ECR uses the KMS key as the template's role: without one, nothing could say it may.
    throw invalid('customRoleArn', 'A custom role is required when the template uses KMS encryption');
  }
  if (t.repositoryPolicy) assertResourcePolicy(t.repositoryPolicy, 'repository');
  if (t.lifecyclePolicy) {
    try {
      checkLifecyclePolicyTextLength(t.lifecyclePolicy);
      parseLifecyclePolicy(t.lifecyclePolicy);
    } catch (err) {
      if (err instanceof LifecyclePolicyValidationError) throw new RegistryError('InvalidLifecyclePolicy', err.message);
      throw err;
    }
  }
}

function toTemplate(row: CreationTemplateRow): CreationTemplate {
  const stored = row.template as Partial<TemplateSettings> & { prefix?: string };
  return {
    ...DEFAULTS,
    appliedFor: [],
    ...stored,
    prefix: stored.prefix ?? row.prefix,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** Repository creation templates: the settings repositories get when berth creates them on a user's behalf. */
export class CreationTemplates {
  constructor(
    private readonly meta: MetadataStore,
    private readonly roles: ServiceRoles,
  ) {}

  /** ECR assumes a template's custom role to create repositories: one that does not exist is refused at once. */
  private async assertRoleExists(arn: string | undefined): Promise<void> {
    if (arn && !(await this.roles.exists(arn))) throw invalid('customRoleArn', `The role ${arn} does not exist`);
  }

  async create(registryId: string, prefix: string, settings: TemplatePatch & { appliedFor: TemplateUse[] }): Promise<CreationTemplate> {
    const template: TemplateSettings = { ...DEFAULTS, ...settings };
    checkTemplate(registryId, template);
    await this.assertRoleExists(template.customRoleArn);
    const created = await this.meta.creationTemplates.create(registryId, templateKey(prefix), { ...template, prefix }, Date.now());
    if (!created) {
      throw new RegistryError('TemplateAlreadyExists', `Repository creation template with prefix '${prefix}' already exists in the registry with id '${registryId}'`);
    }
    return this.get(registryId, prefix);
  }

  async get(registryId: string, prefix: string): Promise<CreationTemplate> {
    const row = await this.meta.creationTemplates.get(registryId, templateKey(prefix));
    if (!row) throw templateNotFound(prefix, registryId);
    return toTemplate(row);
  }

  /** The registry's templates in prefix order; only those named in `prefixes`, if given. */
  async list(registryId: string, prefixes?: string[]): Promise<CreationTemplate[]> {
    const rows = await this.meta.creationTemplates.list(registryId);
    const wanted = prefixes && new Set(prefixes.map(templateKey));
    return rows.filter((r) => !wanted || wanted.has(r.prefix)).map(toTemplate);
  }

  async update(registryId: string, prefix: string, patch: TemplatePatch): Promise<CreationTemplate> {
    if (patch.customRoleArn) assertCustomRoleArn(registryId, patch.customRoleArn);
    await this.assertRoleExists(patch.customRoleArn);
    const row = await this.meta.creationTemplates.update(
      registryId,
      templateKey(prefix),
      (current) => {
        const merged: TemplateSettings & { prefix?: string } = { ...DEFAULTS, appliedFor: [], ...(current as Partial<TemplateSettings>) };
        for (const [key, value] of Object.entries(patch)) {
          if (value !== undefined) (merged as unknown as Record<string, unknown>)[key] = value;
        }
        // A new mutability mode without filters clears the old mode's filters.
        if (patch.imageTagMutability !== undefined && patch.imageTagMutabilityExclusionFilters === undefined) merged.imageTagMutabilityExclusionFilters = [];
        checkTemplate(registryId, merged);
        return { ...merged };
      },
      Date.now(),
    );
    if (!row) throw templateNotFound(prefix, registryId);
    return toTemplate(row);
  }

  async delete(registryId: string, prefix: string): Promise<CreationTemplate> {
    const row = await this.meta.creationTemplates.delete(registryId, templateKey(prefix));
    if (!row) throw templateNotFound(prefix, registryId);
    return toTemplate(row);
  }

  /**
   * The template a repository created for `use` gets: among templates for that use, the one
   * with the longest prefix the name lies under, else the ROOT template; undefined when none applies.
   */
  async forNewRepository(registryId: string, name: string, use: TemplateUse): Promise<CreationTemplate | undefined> {
    const candidates = (await this.list(registryId)).filter((t) => t.appliedFor.includes(use));
    let best: CreationTemplate | undefined;
    for (const t of candidates) {
      const key = templateKey(t.prefix);
      if (key === ROOT_PREFIX || !name.startsWith(`${key}/`)) continue;
      if (!best || key.length > templateKey(best.prefix).length) best = t;
    }
    return best ?? candidates.find((t) => t.prefix === ROOT_PREFIX);
  }
}

export function usesKms(encryptionType: EncryptionType): boolean {
  return encryptionType !== 'AES256';
}

/**
 * What ECR does as the template's custom role when it creates a repository from the template:
 * create it, and tag it when the template has resource tags.
 */
export function roleRequestsFor(template: CreationTemplate, repositoryArn: string): ServiceRequest[] {
  const requests = [{ action: 'ecr:CreateRepository', resource: repositoryArn }];
  if (template.resourceTags.length > 0) requests.push({ action: 'ecr:TagResource', resource: repositoryArn });
  return requests;
}

/**
 * What ECR does as the template's custom role with the KMS key of a template with KMS encryption,
 * through ECR: look the key up and create the repository's grant on it. (ECR's documented role
 * policy also lists kms:RetireGrant, which ECR uses when the repository is deleted, not here.)
 */
export function kmsRoleRequests(keyArn: string, accountId: string, region: string): ServiceRequest[] {
  const context = { 'kms:ViaService': `ecr.${region}.amazonaws.com`, 'kms:CallerAccount': accountId, 'kms:GrantIsForAWSResource': 'true' };
  return ['kms:DescribeKey', 'kms:CreateGrant'].map((action) => ({ action, resource: keyArn, context }));
}

/** The settings a repository created from `template` starts with (its KMS key, if any, as `encryptionConfiguration`). */
export function settingsFromTemplate(template: CreationTemplate, encryptionConfiguration: RepositorySettings['encryptionConfiguration']): Partial<RepositorySettings> {
  const settings: Partial<RepositorySettings> = {
    imageTagMutability: template.imageTagMutability,
    imageTagMutabilityExclusionFilters: template.imageTagMutabilityExclusionFilters,
    encryptionConfiguration,
    tags: template.resourceTags,
  };
  if (template.repositoryPolicy) settings.policyText = template.repositoryPolicy;
  if (template.lifecyclePolicy) settings.lifecyclePolicyText = template.lifecyclePolicy;
  return settings;
}
