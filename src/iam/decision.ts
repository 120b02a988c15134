import type { Principal } from './auth/principal.js';

/** The outcome of one authorization; each door renders a denial in its own protocol. */
export type AuthzDecision = { allowed: true } | AuthzDenial;

export interface AuthzDenial {
  allowed: false;
  /** True when a policy statement denied the action; false when none allowed it. */
  explicit: boolean;
  /** The evaluator's account of the decision, for logs. */
  reason: string;
  /** AWS's wording: "User: … is not authorized to perform: … on resource: … because …". */
  message: string;
}

export const ALLOWED: AuthzDecision = { allowed: true };

export function denial(principal: Principal, action: string, resourceArn: string, explicit: boolean, reason: string): AuthzDenial {
  const who = principal.anonymous ? 'anonymous' : principal.arn;
  let because: string;
  if (explicit) because = `with an explicit deny in ${/resource policy/.test(reason) ? 'a resource-based' : 'an identity-based'} policy`;
  else if (/no resource policy grants/.test(reason) && !/no identity policy/.test(reason)) because = `because no resource-based policy allows the ${action} action`;
  else because = `because no identity-based policy allows the ${action} action`;
  return { allowed: false, explicit, reason, message: `User: ${who} is not authorized to perform: ${action} on resource: ${resourceArn} ${because}` };
}
