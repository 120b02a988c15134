import { arnAccount } from '../domain/registry/names.js';
import type { ServiceRequest, ServiceRoles, ServiceRoleVerdict } from '../domain/roles/service-roles.js';
import {
  evaluate,
  evaluateConditions,
  globMatch,
  parsePolicyDocument,
  RequestContext,
  resolvePattern,
  type PolicyDocument,
  type PolicyKind,
  type Statement,
} from '../policy/index.js';
import type { IdentityDirectory, Role } from './identity/directory.js';

const ASSUME_ROLE = 'sts:AssumeRole';
const NO_CONTEXT = new RequestContext();
const KMS_KEY_ARN = /^arn:[^:]+:kms:[^:]*:\d{12}:key\/.+$/;

/** A KMS key's policy text by key ARN; undefined when there is no such key. */
export type KeyPolicySource = (keyArn: string) => Promise<string | undefined>;

/**
 * Answers "may service S, assuming role R, do action A on resource X?" from the role as stored:
 * it must exist, its trust policy must let Principal {Service: S} perform sts:AssumeRole, and its
 * identity policies (inline and attached managed) must allow every request, as the policy
 * evaluator decides for a session of that role. On a KMS key the key policy is the authority, as
 * for any caller: the role's policies count only where the key policy lets them.
 */
export class RolePermissions implements ServiceRoles {
  constructor(
    private readonly roles: Pick<IdentityDirectory, 'getRoleByArn' | 'rolePolicies'>,
    private readonly keyPolicies?: KeyPolicySource,
  ) {}

  async exists(roleArn: string): Promise<boolean> {
    return (await this.roles.getRoleByArn(roleArn)) !== undefined;
  }

  async check(service: string, roleArn: string, requests: ServiceRequest[]): Promise<ServiceRoleVerdict> {
    const role = await this.roles.getRoleByArn(roleArn);
    if (!role) return refuse(`the role ${roleArn} does not exist`);
    if (!trusts(role, service)) return refuse(`the trust policy of the role ${roleArn} does not let ${service} perform ${ASSUME_ROLE}`);
    const policies = (await this.roles.rolePolicies(role.accountId, role.name)).map((text) => parse(text, 'identity')).filter((d): d is PolicyDocument => d !== undefined);
    const session = { arn: `arn:aws:sts::${role.accountId}:assumed-role/${role.name}/${service}`, account: role.accountId };
    // A session of a role carries the role's tags as its principal tags, as in IAM.
    const principalTags = Object.fromEntries(role.tags.map((t) => [`aws:PrincipalTag/${t.Key}`, t.Value]));
    for (const { action, resource, context } of requests) {
      let resourcePolicies: PolicyDocument[] = [];
      const onKey = KMS_KEY_ARN.test(resource);
      if (onKey) {
        const keyPolicy = await this.keyPolicies?.(resource);
        if (keyPolicy === undefined) return refuse(`the KMS key ${resource} does not exist`);
        resourcePolicies = [parse(keyPolicy, 'resource')].filter((d): d is PolicyDocument => d !== undefined);
      }
      const result = evaluate(
        { action, resource, resourceAccount: arnAccount(resource) ?? role.accountId, principal: session, context: { ...principalTags, ...context, 'aws:PrincipalServiceName': service } },
        { identityPolicies: policies, resourcePolicies, resourcePolicyIsAuthority: onKey },
      );
      if (result.decision !== 'Allow') {
        const because = result.decision === 'ExplicitDeny' ? (onKey ? 'a policy denies it' : 'a policy of the role denies it') : onKey ? `the key policy and the role's policies do not allow it (${result.reason})` : 'no policy of the role allows it';
        return refuse(`the role ${roleArn} may not perform ${action} on ${resource}: ${because}`);
      }
    }
    return { allowed: true };
  }
}

function refuse(reason: string): ServiceRoleVerdict {
  return { allowed: false, reason };
}

function parse(text: string, kind: PolicyKind): PolicyDocument | undefined {
  try {
    return parsePolicyDocument(text, kind);
  } catch {
    return undefined;
  }
}

/** Whether the role's trust policy lets the service assume it: an Allow applies and no Deny does. */
export function trusts(role: Pick<Role, 'assumeRolePolicy' | 'accountId'>, service: string): boolean {
  const trust = parse(role.assumeRolePolicy, 'resource');
  if (!trust) return false;
  const context = new RequestContext({ 'aws:PrincipalServiceName': service, 'aws:SourceAccount': role.accountId });
  const applies = (s: Statement) => namesService(s, service) && mayAssume(s) && evaluateConditions(s.conditions, context, trust.version);
  if (trust.statements.some((s) => s.effect === 'Deny' && applies(s))) return false;
  return trust.statements.some((s) => s.effect === 'Allow' && applies(s));
}

function namesService(s: Statement, service: string): boolean {
  const listed = (spec: Statement['principal']) =>
    spec === '*' || (spec !== undefined && ((spec.AWS ?? []).includes('*') || (spec.Service ?? []).some((name) => name.toLowerCase() === service.toLowerCase())));
  if (s.principal !== undefined) return listed(s.principal);
  return s.notPrincipal !== undefined && !listed(s.notPrincipal);
}

function mayAssume(s: Statement): boolean {
  const matches = (patterns: string[]) => patterns.some((p) => globMatch(resolvePattern(p, NO_CONTEXT, '2008-10-17')!, ASSUME_ROLE, true));
  return s.action ? matches(s.action) : !matches(s.notAction ?? []);
}
