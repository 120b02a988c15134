import type { IncomingMessage } from 'node:http';
import type { LifecyclePolicies } from '../../domain/lifecycle/policies.js';
import type { Registry } from '../../domain/registry/registry.js';
import type { Scanning } from '../../domain/scanning/scanning.js';
import type { Identity } from '../../iam/identity.js';
import type { EcrContextFactory } from './door.js';
import { accessDenied } from './errors.js';
import { connectionConditionKeys } from '../http/condition-keys.js';

export interface EcrContextDeps {
  identity: Identity;
  registry: Registry;
  lifecycle: LifecyclePolicies;
  scanning: Scanning;
  region: string;
  /** The base URL clients reach this region's registry at, for this request (repository URIs, download URLs). */
  baseUrl(req: IncomingMessage): string;
}

/** Builds each ECR request's context; a denial becomes ECR's AccessDeniedException. */
export function ecrContextFactory(deps: EcrContextDeps): EcrContextFactory {
  return (req: IncomingMessage, principal, input) => {
    const registryId = typeof input.registryId === 'string' ? input.registryId : principal.account;
    const base = deps.baseUrl(req);
    return {
      principal,
      identity: deps.identity,
      registryId,
      region: deps.region,
      registry: deps.registry,
      lifecycle: deps.lifecycle,
      scanning: deps.scanning,
      baseUrl: base,
      registryHost: new URL(base).host,
      sourceIp: req.socket.remoteAddress ?? '',
      authorize: async (action, resourceArn, context) => {
        const decision = await deps.identity.authorize(principal, action, resourceArn, { ...connectionConditionKeys(req), ...context });
        if (!decision.allowed) throw accessDenied(decision);
      },
    };
  };
}
