import type { Identity } from '../../iam/identity.js';
import type { Principal } from '../../iam/auth/principal.js';
import type { LifecyclePolicies } from '../../domain/lifecycle/policies.js';
import type { Registry } from '../../domain/registry/registry.js';
import type { Scanning } from '../../domain/scanning/scanning.js';

/** What one ECR operation gets besides its input: the domain, and who is asking. */
export interface EcrContext {
  principal: Principal;
  identity: Identity;
  /** The account the request addresses (input registryId, defaulting to the caller's). */
  registryId: string;
  region: string;
  registry: Registry;
  lifecycle: LifecyclePolicies;
  scanning: Scanning;
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
