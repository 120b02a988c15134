import type { Logger } from 'pino';
import type { BerthConfig } from '../config.js';
import type { MetadataStore } from '../store/meta/metadata-store.js';
import type { Identity } from './identity.js';
import { OpenIdentity } from './open-identity.js';

export interface IdentityDeps {
  meta: MetadataStore;
  config: BerthConfig;
  accountId: string;
  log: Logger;
}

export async function createIdentity(deps: IdentityDeps): Promise<Identity> {
  return new OpenIdentity(deps.accountId);
}
