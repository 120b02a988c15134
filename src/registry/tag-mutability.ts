/** ECR's tag mutability settings, shared by the /v2 door and PutImage. */
export type TagMutability = 'MUTABLE' | 'IMMUTABLE' | 'IMMUTABLE_WITH_EXCLUSION' | 'MUTABLE_WITH_EXCLUSION';

export interface MutabilityExclusionFilter {
  filterType: 'WILDCARD';
  filter: string;
}

export interface TagMutabilitySettings {
  imageTagMutability?: TagMutability;
  imageTagMutabilityExclusionFilters?: MutabilityExclusionFilter[];
}

export function wildcardToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

function matchesAny(tag: string, filters: MutabilityExclusionFilter[] | undefined): boolean {
  return (filters ?? []).some((f) => wildcardToRegExp(f.filter).test(tag));
}

/** Whether an existing tag may not be moved to another image. */
export function isTagImmutable(settings: TagMutabilitySettings, tag: string): boolean {
  switch (settings.imageTagMutability ?? 'MUTABLE') {
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
