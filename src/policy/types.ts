/** The parsed, normalised form of an IAM policy document. */

export type PolicyKind = 'identity' | 'resource';
export type PolicyVersion = '2012-10-17' | '2008-10-17';
export type Effect = 'Allow' | 'Deny';

/** `"*"` or a map of principal type to identifiers (every value normalised to a list). */
export type PrincipalSpec =
  | '*'
  | { AWS?: string[]; Service?: string[]; Federated?: string[]; CanonicalUser?: string[] };

export interface ConditionClause {
  /** The operator as written, e.g. `ForAnyValue:StringLikeIfExists`. */
  operator: string;
  /** The condition key as written (lookups are case-insensitive). */
  key: string;
  /** Policy values, stringified (numbers and booleans in JSON become their text). */
  values: string[];
}

export interface Statement {
  sid?: string;
  effect: Effect;
  action?: string[];
  notAction?: string[];
  resource?: string[];
  notResource?: string[];
  principal?: PrincipalSpec;
  notPrincipal?: PrincipalSpec;
  conditions: ConditionClause[];
}

export interface PolicyDocument {
  kind: PolicyKind;
  version: PolicyVersion;
  id?: string;
  statements: Statement[];
}
