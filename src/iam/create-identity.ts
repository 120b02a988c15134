import type { BerthConfig } from '../config.js';
import type { MetadataStore } from '../store/meta/metadata-store.js';
import { newTokenSecret, TOKEN_SECRET_SETTING, TokenIssuer } from './auth/tokens.js';
import { Authorizer, type ResourcePolicySource } from './authorizer.js';
import { BerthIdentity } from './berth-identity.js';
import type { Identity } from './identity.js';
import { bootstrapAdministrator } from './identity/bootstrap.js';
import type { IdentityDirectory } from './identity/directory.js';

export interface IdentityDeps {
  meta: MetadataStore;
  /** The directory of accounts, users, keys, groups and policies the domain wiring built. */
  directory: IdentityDirectory;
  /** Where repository and registry policies are read. */
  resources: ResourcePolicySource;
  config: BerthConfig;
  accountId: string;
  /** Whether to create the administrator if missing (the home region does; other regions share it). */
  bootstrap?: boolean;
}

/**
 * The identity layer over the metadata store: the administrator bootstrapped on first start. Each
 * region signs its registry tokens with a secret of its own (in its metadata), so a token a region
 * issued is accepted by that region's registry only.
 */
export async function createIdentity(deps: IdentityDeps): Promise<Identity> {
  const { directory } = deps;
  if (deps.bootstrap !== false) await bootstrapAdministrator(deps.meta, directory, deps.config.dataDir, deps.accountId, deps.config.region);
  const tokens = new TokenIssuer(Buffer.from(await deps.meta.getOrCreateSetting(TOKEN_SECRET_SETTING, newTokenSecret), 'hex'));
  return new BerthIdentity({
    directory,
    authorizer: new Authorizer(directory, deps.resources),
    tokens,
    accountId: deps.accountId,
    dataDir: deps.config.dataDir,
    region: deps.config.region,
  });
}
