import type { BerthConfig } from '../config.js';
import type { Registry } from '../registry/registry.js';
import type { MetadataStore } from '../store/meta/metadata-store.js';
import type { Identity } from '../iam/identity.js';
import type { Principal } from '../iam/auth/principal.js';

/** What one ECR operation gets besides its input. */
export interface EcrContext {
  principal: Principal;
  identity: Identity;
  /** The account the request addresses (input registryId, defaulting to the caller's). */
  registryId: string;
  region: string;
  registry: Registry;
  meta: MetadataStore;
  config: BerthConfig;
  /** Base URL of this server's registry as clients reach it, e.g. http://127.0.0.1:5000. */
  baseUrl: string;
  /** Registry host as it appears in repository URIs, e.g. 127.0.0.1:5000. */
  registryHost: string;
  sourceIp: string;
  /** Throws AccessDeniedException unless the principal may do `action` on `resourceArn`. */
  authorize(action: string, resourceArn: string, context?: Record<string, string | string[] | undefined>): Promise<void>;
}

export type EcrInput = Record<string, unknown>;
export type EcrOperation = (input: EcrInput, ctx: EcrContext) => Promise<Record<string, unknown>>;
export type EcrOperations = Record<string, EcrOperation>;
