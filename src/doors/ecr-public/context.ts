import type { IncomingMessage } from 'node:http';
import type { Principal } from '../../iam/auth/principal.js';
import type { Identity } from '../../iam/identity.js';
import type { Registry } from '../../domain/registry/registry.js';
import { accessDenied } from './errors.js';

/** What one ECR Public operation gets besides its input: the domain, and who is asking. */
export interface EcrPublicContext {
  principal: Principal;
  identity: Identity;
  registry: Registry;
  /** Base URL of this server as clients reach it, e.g. http://127.0.0.1:5000. */
  baseUrl: string;
  /** Registry host as it appears in repository URIs, e.g. 127.0.0.1:5000. */
  registryHost: string;
  /** Throws AccessDeniedException unless the principal may do `action` on `resourceArn`. */
  authorize(action: string, resourceArn: string): Promise<void>;
}

export type EcrPublicInput = Record<string, unknown>;
export type EcrPublicOperation = (input: EcrPublicInput, ctx: EcrPublicContext) => Promise<Record<string, unknown>>;

export interface EcrPublicContextDeps {
  identity: Identity;
  registry: Registry;
  /** Base URL clients use, when configured; otherwise the request's Host header is. */
  publicUrl?: string;
  /** The listen address, for requests without a Host header. */
  listen: string;
}

export function makeEcrPublicContext(deps: EcrPublicContextDeps, req: IncomingMessage, principal: Principal): EcrPublicContext {
  const base = deps.publicUrl ?? `http://${req.headers.host ?? deps.listen}`;
  return {
    principal,
    identity: deps.identity,
    registry: deps.registry,
    baseUrl: base,
    registryHost: new URL(base).host,
    authorize: async (action, resourceArn) => {
      const decision = await deps.identity.authorize(principal, action, resourceArn, { 'aws:SourceIp': req.socket.remoteAddress });
      if (!decision.allowed) throw accessDenied(decision);
    },
  };
}
