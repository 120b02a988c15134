import type { MetadataStore } from '../../store/meta/metadata-store.js';
import { RegistryError } from './errors.js';

export interface SigningRule {
  signingProfileArn: string;
  repositoryFilters?: Array<{ filter: string; filterType: 'WILDCARD_MATCH' }>;
}

export interface SigningConfiguration {
  rules: SigningRule[];
}

const key = (registryId: string) => `account:${registryId}:signingConfiguration`;

/**
 * The registry's managed-signing configuration. berth has no signing service, so it keeps only a
 * configuration it honours: one without rules (sign nothing). A rule is refused, never stored.
 */
export class SigningConfigurations {
  constructor(private readonly meta: MetadataStore) {}

  async get(registryId: string): Promise<SigningConfiguration> {
    const text = await this.meta.getSetting(key(registryId));
    if (text === undefined) throw notFound(registryId);
    return JSON.parse(text) as SigningConfiguration;
  }

  async put(registryId: string, config: SigningConfiguration): Promise<SigningConfiguration> {
    if (config.rules.length > 0) {
      throw new RegistryError(
        'FeatureNotAvailable',
        'Managed signing is not available in this registry: it has no signing service, so a signing configuration cannot have rules',
      );
    }
    await this.meta.setSetting(key(registryId), JSON.stringify(config));
    return config;
  }

  async delete(registryId: string): Promise<SigningConfiguration> {
    const removed = await this.meta.transaction(async (tx) => {
      const text = await tx.getSetting(key(registryId));
      if (text !== undefined) await tx.deleteSetting(key(registryId));
      return text;
    });
    if (removed === undefined) throw notFound(registryId);
    return JSON.parse(removed) as SigningConfiguration;
  }
}

function notFound(registryId: string): RegistryError {
  return new RegistryError('SigningConfigurationNotFound', `Signing configuration does not exist in the registry with id '${registryId}'`);
}
