import type { EcrContext } from './operation.js';

/** Account settings ECR knows, with berth's default for each. */
export const ACCOUNT_SETTINGS: Record<string, { values: string[]; default: string }> = {
  BASIC_SCAN_TYPE_VERSION: { values: ['AWS_NATIVE', 'CLAIR'], default: 'AWS_NATIVE' },
  REGISTRY_POLICY_SCOPE: { values: ['V1', 'V2'], default: 'V2' },
  BLOB_MOUNTING: { values: ['ENABLED', 'DISABLED'], default: 'ENABLED' },
};

export function accountKey(ctx: EcrContext, name: string): string {
  return `account:${ctx.registryId}:${name}`;
}
