import type { IncomingMessage } from 'node:http';
import type { Principal } from '../../iam/auth/principal.js';
import type { AuthzContext, Identity } from '../../iam/identity.js';
import type { Registry } from '../../domain/registry/registry.js';
import { PUBLIC_PATH_PREFIX } from '../../domain/registry/public-registries.js';
import { accessDenied } from './errors.js';
import { connectionConditionKeys } from '../http/condition-keys.js';

/** What one ECR Public operation gets besides its input: the domain, and who is asking. */
export interface EcrPublicContext {
  principal: Principal;
  identity: Identity;
  registry: Registry;
  /** Base URL of this server as clients reach it, e.g. http://127.0.0.1:5000. */
  baseUrl: string;
  /**
   * Where public repositories are pulled from, as repository URIs begin: the public registry's own
   * address (`BERTH_PUBLIC_LISTEN`, e.g. 127.0.0.1:5003), else the path under berth's address
   * (127.0.0.1:5000/ecr--public). `<root>/<alias>/<name>` is a repository.
   */
  publicRegistryRoot: string;
  /** Throws AccessDeniedException unless the principal may do `action` on `resourceArn`. */
  /** Throws unless the caller may; `context` adds condition keys of this request (its tags). */
  authorize(action: string, resourceArn: string, context?: AuthzContext): Promise<void>;
}

export type EcrPublicInput = Record<string, unknown>;
export type EcrPublicOperation = (input: EcrPublicInput, ctx: EcrPublicContext) => Promise<Record<string, unknown>>;

export interface EcrPublicContextDeps {
  identity: Identity;
  registry: Registry;
  /** Base URL clients reach berth at, for this request. */
  baseUrl(req: IncomingMessage): string;
  /** The public registry's own address (host:port), when it has one. */
  publicRegistryHost?(): string | undefined;
}

export function makeEcrPublicContext(deps: EcrPublicContextDeps, req: IncomingMessage, principal: Principal): EcrPublicContext {
  const base = deps.baseUrl(req);
  return {
    principal,
    identity: deps.identity,
    registry: deps.registry,
    baseUrl: base,
    publicRegistryRoot: deps.publicRegistryHost?.() ?? `${new URL(base).host}/${PUBLIC_PATH_PREFIX}`,
    authorize: async (action, resourceArn, context) => {
      const decision = await deps.identity.authorize(principal, action, resourceArn, { ...connectionConditionKeys(req), ...context });
      if (!decision.allowed) throw accessDenied(decision);
    },
  };
}
