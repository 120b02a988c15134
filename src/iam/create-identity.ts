import type { Logger } from 'pino';
import type { BerthConfig } from '../config.js';
import type { MetadataStore } from '../store/meta/metadata-store.js';
import { BerthIdentity } from './berth-identity.js';
import { bootstrapAdministrator } from './bootstrap.js';
import type { Identity } from './identity.js';
import { IdentityStore } from './identity-store.js';
import { loadTokenSecret, TokenIssuer } from './tokens.js';

export interface IdentityDeps {
  meta: MetadataStore;
  config: BerthConfig;
  accountId: string;
  log: Logger;
}

export async function createIdentity(deps: IdentityDeps): Promise<Identity> {
  await bootstrapAdministrator(deps.meta, new IdentityStore(deps.meta), deps.config.dataDir, deps.accountId, deps.config.region);
  const tokens = new TokenIssuer(await loadTokenSecret(deps.meta));
  return new BerthIdentity({ ...deps, tokens });
}
