import type { MetadataStore } from './metadata-store.js';

export interface RepositoryAccess {
  policyText?: string;
  public: boolean;
  tags: Array<{ Key: string; Value: string }>;
}

type Tag = { Key: string; Value: string };
const isTag = (t: unknown): t is Tag => typeof (t as Tag)?.Key === 'string' && typeof (t as Tag)?.Value === 'string';

/** Repository and registry policies as the authorizer reads them, from repository settings and account settings. */
export function metadataResourcePolicies(meta: MetadataStore) {
  return {
    async repository(registryId: string, name: string): Promise<RepositoryAccess | undefined> {
      const row = await meta.getRepository(registryId, name);
      if (!row) return undefined;
      const s = row.settings;
      return {
        ...(typeof s.policyText === 'string' ? { policyText: s.policyText } : {}),
        public: s.public === true,
        tags: Array.isArray(s.tags) ? s.tags.filter(isTag) : [],
      };
    },
    registryPolicy(accountId: string): Promise<string | undefined> {
      return meta.getSetting(`account:${accountId}:registryPolicy`);
    },
  };
}
