/**
 * IAM policy evaluation: one decision for (principal, action, resource, context) over the
 * principal's identity policies and the resource's policies (repository and registry policy).
 *
 * - An explicit Deny in any policy wins.
 * - Same account: an Allow from an identity policy, or from a resource policy statement that
 *   names the principal itself (or `*`), is enough.
 * - Cross-account: the principal's identity policy must allow AND a resource policy statement
 *   must name the principal or its account.
 * - A resource policy that names only the caller's account (`123…` / `…:root`) delegates to that
 *   account: its identity policies must still allow the action.
 * - Anonymous callers are allowed only by resource policy statements with Principal `*`.
 * - The account root user has every permission in its own account unless a resource policy denies.
 */
import { evaluateConditions } from './conditions.js';
import { RequestContext, type RawContext } from './context.js';
import { isRootUser, isWildcardPrincipal, matchPrincipal, notPrincipalExcludes, type Principal, type PrincipalMatch } from './principal.js';
import type { PolicyDocument, Statement } from './types.js';
import { globMatch, resolvePattern } from './wildcard.js';

export type { Principal } from './principal.js';

export interface AuthzRequest {
  /** e.g. `ecr:BatchGetImage` */
  action: string;
  /** e.g. `arn:aws:ecr:us-east-1:123456789012:repository/app/web` (or `*` for actions without a resource) */
  resource: string;
  /** The account that owns the resource. */
  resourceAccount: string;
  principal: Principal;
  /** Condition keys, e.g. `aws:SourceIp`, `aws:CurrentTime`, `aws:SecureTransport`, `aws:ResourceTag/team`. */
  context: RawContext;
}

export interface PolicySet {
  identityPolicies: PolicyDocument[];
  resourcePolicies: PolicyDocument[];
  /**
   * The resource policy is the authority, as a KMS key policy is: nobody (not even the account
   * root user) gets access it does not grant, and identity policies count only where it grants
   * the principal's account.
   */
  resourcePolicyIsAuthority?: boolean;
}

export type Decision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

export interface EvaluationResult {
  decision: Decision;
  reason: string;
}

interface Located {
  statement: Statement;
  policy: PolicyDocument;
  label: string;
}

function locate(policies: PolicyDocument[], source: 'identity' | 'resource'): Located[] {
  const out: Located[] = [];
  policies.forEach((policy, p) =>
    policy.statements.forEach((statement, s) => {
      const name = statement.sid ? `"${statement.sid}"` : `#${s + 1}`;
      const which = policies.length > 1 ? ` ${p + 1}` : '';
      out.push({ statement, policy, label: `${source} policy${which} statement ${name}` });
    }),
  );
  return out;
}

/** The request context plus the keys the principal and resource define. */
export function buildRequestContext(req: AuthzRequest): RequestContext {
  const context = new RequestContext(req.context);
  context.set('aws:ResourceAccount', req.resourceAccount);
  context.set('aws:PrincipalType', principalType(req.principal));
  if (!req.principal.anonymous) {
    context.set('aws:PrincipalArn', req.principal.arn);
    context.set('aws:PrincipalAccount', req.principal.account);
    if (req.principal.userName !== undefined) context.set('aws:username', req.principal.userName);
  }
  return context;
}

/** IAM's aws:PrincipalType: Anonymous, Account (the root user), User or AssumedRole. */
function principalType(principal: AuthzRequest['principal']): string {
  if (principal.anonymous) return 'Anonymous';
  if (/^arn:[^:]+:iam::\d{12}:root$/.test(principal.arn)) return 'Account';
  return /^arn:[^:]+:sts::\d{12}:assumed-role\//.test(principal.arn) ? 'AssumedRole' : 'User';
}

function actionMatches(statement: Statement, action: string): boolean {
  const matchesAny = (patterns: string[]) =>
    patterns.some((pattern) => globMatch(resolvePattern(pattern, EMPTY_CONTEXT, '2008-10-17')!, action, true));
  if (statement.action) return matchesAny(statement.action);
  return !matchesAny(statement.notAction ?? []);
}
const EMPTY_CONTEXT = new RequestContext();

function resourceMatches(located: Located, resource: string, context: RequestContext): boolean {
  const { statement, policy } = located;
  const matchesAny = (patterns: string[]) =>
    patterns.some((pattern) => {
      const glob = resolvePattern(pattern, context, policy.version);
      return glob !== null && globMatch(glob, resource);
    });
  if (statement.resource) return matchesAny(statement.resource);
  if (statement.notResource) return !matchesAny(statement.notResource);
  return true; // a resource policy without Resource applies to the resource it is attached to
}

/** Action, Resource and Condition all match (the Principal is checked separately). */
function statementApplies(located: Located, req: AuthzRequest, context: RequestContext): boolean {
  return (
    actionMatches(located.statement, req.action) &&
    resourceMatches(located, req.resource, context) &&
    evaluateConditions(located.statement.conditions, context, located.policy.version)
  );
}

/** How a resource policy statement's Principal / NotPrincipal covers this principal. */
function resourcePrincipalMatch(statement: Statement, principal: Principal): PrincipalMatch | null {
  if (statement.principal) return matchPrincipal(statement.principal, principal);
  if (statement.notPrincipal) {
    return notPrincipalExcludes(statement.notPrincipal, statement.effect, principal) ? null : 'direct';
  }
  return null;
}

export function evaluate(req: AuthzRequest, policies: PolicySet): EvaluationResult {
  const context = buildRequestContext(req);
  const principal = req.principal;
  const anonymous = principal.anonymous === true;
  const sameAccount = !anonymous && principal.account === req.resourceAccount;
  // Identity policies belong to an identity; an anonymous caller has none.
  const identity = anonymous ? [] : locate(policies.identityPolicies, 'identity');
  const resource = locate(policies.resourcePolicies, 'resource');

  for (const located of identity) {
    if (located.statement.effect === 'Deny' && statementApplies(located, req, context)) {
      return { decision: 'ExplicitDeny', reason: `Explicitly denied by ${located.label}` };
    }
  }
  for (const located of resource) {
    if (
      located.statement.effect === 'Deny' &&
      resourcePrincipalMatch(located.statement, principal) !== null &&
      statementApplies(located, req, context)
    ) {
      return { decision: 'ExplicitDeny', reason: `Explicitly denied by ${located.label}` };
    }
  }

  if (anonymous) {
    const grant = resource.find(
      (l) =>
        l.statement.effect === 'Allow' &&
        l.statement.principal !== undefined &&
        isWildcardPrincipal(l.statement.principal) &&
        statementApplies(l, req, context),
    );
    return grant
      ? { decision: 'Allow', reason: `Anonymous access allowed by ${grant.label}` }
      : { decision: 'ImplicitDeny', reason: 'Anonymous access is allowed only by a resource policy with Principal "*"' };
  }

  if (sameAccount && isRootUser(principal) && !policies.resourcePolicyIsAuthority) {
    return { decision: 'Allow', reason: 'The account root user has full access to its own resources' };
  }

  const identityGrant = identity.find((l) => l.statement.effect === 'Allow' && statementApplies(l, req, context));
  let directGrant: Located | undefined;
  let accountGrant: Located | undefined;
  for (const located of resource) {
    if (located.statement.effect !== 'Allow') continue;
    const match = resourcePrincipalMatch(located.statement, principal);
    if (match === null || (match === 'account' && accountGrant) || !statementApplies(located, req, context)) continue;
    if (match === 'direct') {
      directGrant = located;
      break;
    }
    accountGrant = located;
  }

  if (policies.resourcePolicyIsAuthority) {
    if (directGrant) return { decision: 'Allow', reason: `Allowed by ${directGrant.label}` };
    if (accountGrant && (identityGrant || isRootUser(principal))) {
      return { decision: 'Allow', reason: `Allowed by ${identityGrant?.label ?? 'the account root user'} and ${accountGrant.label}` };
    }
    return {
      decision: 'ImplicitDeny',
      reason: accountGrant
        ? `${accountGrant.label} grants the account, but no identity policy allows ${req.action}`
        : `no resource policy grants ${req.action} to ${principal.arn}`,
    };
  }

  if (sameAccount) {
    if (identityGrant) return { decision: 'Allow', reason: `Allowed by ${identityGrant.label}` };
    if (directGrant) return { decision: 'Allow', reason: `Allowed by ${directGrant.label}` };
    return {
      decision: 'ImplicitDeny',
      reason: accountGrant
        ? `${accountGrant.label} grants the account, but no identity policy allows ${req.action}`
        : `No policy allows ${req.action} on ${req.resource}`,
    };
  }

  const resourceGrant = directGrant ?? accountGrant;
  const hasIdentityAllow = identityGrant !== undefined || isRootUser(principal);
  if (hasIdentityAllow && resourceGrant) {
    return {
      decision: 'Allow',
      reason: `Cross-account access allowed by ${identityGrant?.label ?? 'the account root user'} and ${resourceGrant.label}`,
    };
  }
  const missing = [
    hasIdentityAllow ? null : `no identity policy of ${principal.arn} allows ${req.action}`,
    resourceGrant ? null : `no resource policy grants ${req.action} to ${principal.arn} from account ${principal.account}`,
  ].filter((m): m is string => m !== null);
  return { decision: 'ImplicitDeny', reason: `Cross-account request denied: ${missing.join('; ')}` };
}
