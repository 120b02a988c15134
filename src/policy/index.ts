export { PolicyValidationError } from './errors.js';
export { parsePolicyDocument } from './document.js';
export {
  evaluate,
  buildRequestContext,
  type AuthzRequest,
  type Decision,
  type EvaluationResult,
  type PolicySet,
} from './evaluate.js';
export { isRootUser, matchPrincipal, notPrincipalExcludes, isWildcardPrincipal, type Principal, type PrincipalMatch } from './principal.js';
export {
  arnLike,
  conditionValueProblem,
  evaluateCondition,
  evaluateConditions,
  parseConditionOperator,
  type ParsedOperator,
  type SetQualifier,
} from './conditions.js';
export { RequestContext, type ContextValue, type RawContext } from './context.js';
export { cidrContains, parseCidr, parseIp, type CidrBlock, type IpAddress } from './ip.js';
export { globMatch, globToRegExp, resolvePattern } from './wildcard.js';
export type {
  ConditionClause,
  Effect,
  PolicyDocument,
  PolicyKind,
  PolicyVersion,
  PrincipalSpec,
  Statement,
} from './types.js';
