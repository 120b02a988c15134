/** Matching the request's principal against a statement's Principal / NotPrincipal. */
import type { PrincipalSpec } from './types.js';

export interface Principal {
  /** `arn:aws:iam::<acct>:user/<name>`, `…:root`, `arn:aws:sts::<acct>:assumed-role/<role>/<session>`; `*` when anonymous. */
  arn: string;
  account: string;
  userName?: string;
  anonymous?: boolean;
}

/**
 * How a Principal element matched:
 * - `direct`: by `*` or by the principal's own ARN (or its role's ARN): a grant to this principal.
 * - `account`: only by naming the principal's account (`123456789012` / `…:root`): a grant
 *   to the account, which its own identity policies must pass on.
 */
export type PrincipalMatch = 'direct' | 'account';

type Entry = { type: 'any' } | { type: 'account'; account: string } | { type: 'arn'; arn: string };

const ACCOUNT_ID = /^\d{12}$/;
const ROOT_ARN = /^arn:[^:]+:iam::(\d{12}):root$/;
const ROLE_ARN = /^arn:([^:]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/;
const ASSUMED_ROLE_ARN = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/;

function entries(spec: PrincipalSpec): Entry[] {
  if (spec === '*') return [{ type: 'any' }];
  // Service, Federated and CanonicalUser principals never describe an IAM user or role session.
  return (spec.AWS ?? []).map((value): Entry => {
    if (value === '*') return { type: 'any' };
    if (ACCOUNT_ID.test(value)) return { type: 'account', account: value };
    const root = ROOT_ARN.exec(value);
    if (root) return { type: 'account', account: root[1]! };
    return { type: 'arn', arn: value };
  });
}

/** Is this the account root user (`arn:aws:iam::<acct>:root`)? */
export function isRootUser(principal: Principal): boolean {
  return !principal.anonymous && ROOT_ARN.exec(principal.arn)?.[1] === principal.account;
}

/** Does a role ARN in a policy (possibly with a path) name the role behind this session? */
function roleEntryMatchesSession(entryArn: string, sessionArn: string): boolean {
  const role = ROLE_ARN.exec(entryArn);
  const session = ASSUMED_ROLE_ARN.exec(sessionArn);
  return !!role && !!session && role[1] === session[1] && role[2] === session[2] && role[3] === session[3];
}

function arnEntryMatches(entryArn: string, principal: Principal): boolean {
  return entryArn === principal.arn || roleEntryMatchesSession(entryArn, principal.arn);
}

/** Match a `Principal` element; `null` when it does not name this principal. */
export function matchPrincipal(spec: PrincipalSpec, principal: Principal): PrincipalMatch | null {
  let best: PrincipalMatch | null = null;
  for (const entry of entries(spec)) {
    if (entry.type === 'any') return 'direct';
    if (principal.anonymous) continue;
    if (entry.type === 'arn' && arnEntryMatches(entry.arn, principal)) return 'direct';
    if (entry.type === 'account' && entry.account === principal.account) {
      if (isRootUser(principal)) return 'direct';
      best = 'account';
    }
  }
  return best;
}

/** Does this principal match `Principal: "*"` (or `{"AWS": "*"}`)? Only that admits anonymous callers. */
export function isWildcardPrincipal(spec: PrincipalSpec): boolean {
  return entries(spec).some((entry) => entry.type === 'any');
}

/**
 * The identities a request carries: the caller, the role behind a role session, and the account.
 * A `Deny` with `NotPrincipal` spares a request only if every one of them is listed; that is why
 * AWS's examples list both a user and its account root.
 */
function identities(principal: Principal): string[] {
  if (principal.anonymous) return [];
  if (isRootUser(principal)) return [`account:${principal.account}`];
  const list = [principal.arn];
  const session = ASSUMED_ROLE_ARN.exec(principal.arn);
  if (session) list.push(`arn:${session[1]}:iam::${session[2]}:role/${session[3]}`);
  list.push(`account:${principal.account}`);
  return list;
}

/** Does a `NotPrincipal` element exclude this principal from its statement? */
export function notPrincipalExcludes(spec: PrincipalSpec, effect: 'Allow' | 'Deny', principal: Principal): boolean {
  const list = entries(spec);
  if (list.some((entry) => entry.type === 'any')) return true;
  if (principal.anonymous) return false;
  if (effect === 'Allow') return matchPrincipal(spec, principal) !== null;
  const covered = (identity: string) =>
    list.some((entry) => {
      if (entry.type === 'account') return identity === `account:${entry.account}`;
      if (entry.type !== 'arn') return false;
      if (entry.arn === identity) return true;
      // A role entry with a path still names the role identity.
      const role = ROLE_ARN.exec(entry.arn);
      return !!role && identity === `arn:${role[1]}:iam::${role[2]}:role/${role[3]}`;
    });
  return identities(principal).every(covered);
}
