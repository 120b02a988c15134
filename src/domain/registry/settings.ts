import type { RepositoryCatalogData } from './catalog-data.js';

/** A repository's settings, typed, with ECR's defaults for what was never set. */
export type TagMutability = 'MUTABLE' | 'IMMUTABLE' | 'IMMUTABLE_WITH_EXCLUSION' | 'MUTABLE_WITH_EXCLUSION';
export type EncryptionType = 'AES256' | 'KMS' | 'KMS_DSSE';

export interface MutabilityExclusionFilter {
  filterType: 'WILDCARD';
  filter: string;
}

export interface ResourceTag {
  Key: string;
  Value: string;
}

export interface RepositorySettings {
  imageTagMutability: TagMutability;
  imageTagMutabilityExclusionFilters: MutabilityExclusionFilter[];
  imageScanningConfiguration: { scanOnPush: boolean };
  encryptionConfiguration: { encryptionType: EncryptionType; kmsKey?: string };
  /** Resource tags (TagResource), in the order they were added. */
  tags: ResourceTag[];
  /** The repository policy (SetRepositoryPolicy). */
  policyText?: string;
  /** Anyone may pull without credentials (berth admin repository set-public). */
  public: boolean;
  /** ECR Public catalog data (public repositories only). */
  catalogData?: RepositoryCatalogData;
  lifecyclePolicyText?: string;
  /** When the lifecycle policy was last evaluated, epoch ms. */
  lifecyclePolicyLastEvaluatedAt?: number;
}

/** A change of some settings; a key set to undefined removes that setting. */
export type SettingsPatch = { [K in keyof RepositorySettings]?: RepositorySettings[K] | undefined };

export const DEFAULT_SETTINGS: RepositorySettings = {
  imageTagMutability: 'MUTABLE',
  imageTagMutabilityExclusionFilters: [],
  imageScanningConfiguration: { scanOnPush: false },
  encryptionConfiguration: { encryptionType: 'AES256' },
  tags: [],
  public: false,
};

/** Typed settings from what the store holds, defaults filled in. */
export function readSettings(stored: Record<string, unknown>): RepositorySettings {
  return { ...DEFAULT_SETTINGS, ...(stored as Partial<RepositorySettings>) };
}

/** Merges resource tags, keys of `added` winning, order of first appearance kept. */
export function mergeResourceTags(current: ResourceTag[], added: ResourceTag[]): ResourceTag[] {
  const map = new Map(current.map((t) => [t.Key, t.Value]));
  for (const t of added) map.set(t.Key, t.Value);
  return [...map].map(([Key, Value]) => ({ Key, Value }));
}

function wildcardToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

function matchesAny(tag: string, filters: MutabilityExclusionFilter[]): boolean {
  return filters.some((f) => wildcardToRegExp(f.filter).test(tag));
}

/** Whether an existing tag may not be moved to another image. */
export function isTagImmutable(settings: RepositorySettings, tag: string): boolean {
  switch (settings.imageTagMutability) {
    case 'MUTABLE':
      return false;
    case 'IMMUTABLE':
      return true;
    case 'IMMUTABLE_WITH_EXCLUSION':
      return !matchesAny(tag, settings.imageTagMutabilityExclusionFilters);
    case 'MUTABLE_WITH_EXCLUSION':
      return matchesAny(tag, settings.imageTagMutabilityExclusionFilters);
  }
}

/** ECR's limit on a repository's resource tags. */
export const MAX_RESOURCE_TAGS = 50;
