import { randomInt } from 'node:crypto';
import type { MetadataStore } from '../../store/meta/metadata-store.js';
import { RegistryError } from './errors.js';
import { assertResourcePolicy } from './resource-policy.js';

/**
 * Account settings ECR knows, the values berth honours, and berth's default for each. ECR itself
 * no longer accepts CLAIR basic scanning or the V1 registry policy scope; neither would berth honour.
 * - BASIC_SCAN_TYPE_VERSION: basic scanning is berth's own (AWS_NATIVE's role).
 * - REGISTRY_POLICY_SCOPE: the registry policy applies to every ECR action (V2).
 * - BLOB_MOUNTING: cross-repository blob mounts on /v2 are allowed or not.
 */
export const ACCOUNT_SETTINGS: Record<string, { values: string[]; default: string }> = {
  BASIC_SCAN_TYPE_VERSION: { values: ['AWS_NATIVE'], default: 'AWS_NATIVE' },
  REGISTRY_POLICY_SCOPE: { values: ['V2'], default: 'V2' },
  BLOB_MOUNTING: { values: ['ENABLED', 'DISABLED'], default: 'ENABLED' },
};

const key = (registryId: string, name: string) => `account:${registryId}:${name}`;

/** Registry-wide (account) state: account settings and the registry policy. */
export class Accounts {
  constructor(
    private readonly meta: MetadataStore,
    private readonly options: { createOnPush: boolean },
  ) {}

  /**
   * The account the registry serves by default, created on first start (with a new id, unless
   * `accountId` gives it: another region of a deployment serves the home region's account).
   */
  ensureDefaultAccount(region: string, accountId?: string): Promise<string> {
    return this.meta.ensureDefaultAccount(() => accountId ?? String(randomInt(100_000, 999_999)) + String(randomInt(100_000, 999_999)), region);
  }

  async defaultAccountId(): Promise<string | undefined> {
    return this.meta.getSetting('default_account_id');
  }

  /** The setting's value; one stored before berth stopped honouring it reads as what berth does instead. */
  async setting(registryId: string, name: string): Promise<string> {
    const known = ACCOUNT_SETTINGS[name];
    const stored = await this.meta.getSetting(key(registryId, name));
    if (stored !== undefined && (!known || known.values.includes(stored))) return stored;
    return known?.default ?? '';
  }

  async putSetting(registryId: string, name: string, value: string): Promise<void> {
    const allowed = ACCOUNT_SETTINGS[name]?.values ?? [];
    if (!allowed.includes(value)) {
      throw new RegistryError('InvalidParameter', `Member must satisfy enum value set: [${allowed.join(', ')}]`, { field: 'value' });
    }
    await this.meta.setSetting(key(registryId, name), value);
  }

  /** Whether a push to a missing repository creates it (ECR: off unless configured). */
  async createOnPush(registryId: string): Promise<boolean> {
    return this.options.createOnPush || (await this.meta.getSetting(key(registryId, 'CREATE_ON_PUSH'))) === 'ENABLED';
  }

  /** Whether cross-repository blob mounts are allowed (ECR's BLOB_MOUNTING account setting). */
  async blobMounting(registryId: string): Promise<boolean> {
    return (await this.setting(registryId, 'BLOB_MOUNTING')) !== 'DISABLED';
  }

  async registryPolicy(registryId: string): Promise<string | undefined> {
    const text = await this.meta.getSetting(key(registryId, 'registryPolicy'));
    return text === '' ? undefined : text;
  }

  async putRegistryPolicy(registryId: string, text: string): Promise<void> {
    assertResourcePolicy(text, 'registry');
    await this.meta.setSetting(key(registryId, 'registryPolicy'), text);
  }

  /** Removes the registry policy and returns it; RegistryPolicyNotFound when there is none. */
  async deleteRegistryPolicy(registryId: string): Promise<string> {
    const text = await this.meta.transaction(async (tx) => {
      const current = await tx.getSetting(key(registryId, 'registryPolicy'));
      if (current) await tx.deleteSetting(key(registryId, 'registryPolicy'));
      return current;
    });
    if (!text) throw registryPolicyNotFound(registryId);
    return text;
  }
}

export function registryPolicyNotFound(registryId: string): RegistryError {
  return new RegistryError('RegistryPolicyNotFound', `Registry policy does not exist in the registry with id '${registryId}'`);
}
