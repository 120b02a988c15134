/**
 * Condition operators and their AWS semantics.
 *
 * A Condition block is an AND of its operators, each an AND of its keys; the values of one key
 * are ORed (for negated operators: the request value must match none of them).
 * Missing keys: a positive operator is false, a negated operator is true, `...IfExists` is true,
 * `ForAllValues:` is true, `ForAnyValue:` is false, and `Null` tests exactly that.
 */
import type { RequestContext } from './context.js';
import { cidrContains, parseCidr, parseIp } from './ip.js';
import type { ConditionClause, PolicyVersion } from './types.js';
import { globLiteral, globMatch, resolvePattern, splitGlob } from './wildcard.js';

type ValueKind = 'string' | 'numeric' | 'date' | 'bool' | 'binary' | 'ip' | 'arn' | 'null';

interface OperatorSpec {
  kind: ValueKind;
  negated: boolean;
  /** Does the request value match this one policy value? (the positive sense) */
  matches: (requestValue: string, policyGlob: string) => boolean;
}

const numericCompare = (test: (a: number, b: number) => boolean) => (request: string, glob: string) => {
  const a = parseNumber(request);
  const b = parseNumber(globLiteral(glob));
  return a !== null && b !== null && test(a, b);
};

const dateCompare = (test: (a: number, b: number) => boolean) => (request: string, glob: string) => {
  const a = parseDate(request);
  const b = parseDate(globLiteral(glob));
  return a !== null && b !== null && test(a, b);
};

const eq = (a: number, b: number) => a === b;
const lt = (a: number, b: number) => a < b;
const le = (a: number, b: number) => a <= b;
const gt = (a: number, b: number) => a > b;
const ge = (a: number, b: number) => a >= b;

const stringEquals = (request: string, glob: string) => request === globLiteral(glob);
const stringEqualsIgnoreCase = (request: string, glob: string) =>
  request.toLowerCase() === globLiteral(glob).toLowerCase();
const stringLike = (request: string, glob: string) => globMatch(glob, request);
const ipMatch = (request: string, glob: string) => {
  const block = parseCidr(globLiteral(glob));
  const address = parseIp(request);
  return block !== null && address !== null && cidrContains(block, address);
};

const OPERATORS: Record<string, OperatorSpec> = {
  StringEquals: { kind: 'string', negated: false, matches: stringEquals },
  StringNotEquals: { kind: 'string', negated: true, matches: stringEquals },
  StringEqualsIgnoreCase: { kind: 'string', negated: false, matches: stringEqualsIgnoreCase },
  StringNotEqualsIgnoreCase: { kind: 'string', negated: true, matches: stringEqualsIgnoreCase },
  StringLike: { kind: 'string', negated: false, matches: stringLike },
  StringNotLike: { kind: 'string', negated: true, matches: stringLike },
  NumericEquals: { kind: 'numeric', negated: false, matches: numericCompare(eq) },
  NumericNotEquals: { kind: 'numeric', negated: true, matches: numericCompare(eq) },
  NumericLessThan: { kind: 'numeric', negated: false, matches: numericCompare(lt) },
  NumericLessThanEquals: { kind: 'numeric', negated: false, matches: numericCompare(le) },
  NumericGreaterThan: { kind: 'numeric', negated: false, matches: numericCompare(gt) },
  NumericGreaterThanEquals: { kind: 'numeric', negated: false, matches: numericCompare(ge) },
  DateEquals: { kind: 'date', negated: false, matches: dateCompare(eq) },
  DateNotEquals: { kind: 'date', negated: true, matches: dateCompare(eq) },
  DateLessThan: { kind: 'date', negated: false, matches: dateCompare(lt) },
  DateLessThanEquals: { kind: 'date', negated: false, matches: dateCompare(le) },
  DateGreaterThan: { kind: 'date', negated: false, matches: dateCompare(gt) },
  DateGreaterThanEquals: { kind: 'date', negated: false, matches: dateCompare(ge) },
  Bool: { kind: 'bool', negated: false, matches: (r, g) => r.toLowerCase() === globLiteral(g).toLowerCase() },
  BinaryEquals: { kind: 'binary', negated: false, matches: binaryEquals },
  IpAddress: { kind: 'ip', negated: false, matches: ipMatch },
  NotIpAddress: { kind: 'ip', negated: true, matches: ipMatch },
  ArnEquals: { kind: 'arn', negated: false, matches: arnLike },
  ArnNotEquals: { kind: 'arn', negated: true, matches: arnLike },
  ArnLike: { kind: 'arn', negated: false, matches: arnLike },
  ArnNotLike: { kind: 'arn', negated: true, matches: arnLike },
  Null: { kind: 'null', negated: false, matches: () => false },
};

const OPERATOR_BY_LOWER_NAME = new Map(Object.keys(OPERATORS).map((name) => [name.toLowerCase(), name]));

export type SetQualifier = 'ForAnyValue' | 'ForAllValues';

export interface ParsedOperator {
  /** Canonical base operator name, e.g. `StringLike`. */
  base: string;
  ifExists: boolean;
  set?: SetQualifier;
}

/** Parse `[ForAnyValue:|ForAllValues:]<Operator>[IfExists]`; `null` if it is not an operator. */
export function parseConditionOperator(name: string): ParsedOperator | null {
  let rest = name;
  let set: SetQualifier | undefined;
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    const qualifier = rest.slice(0, colon).toLowerCase();
    if (qualifier === 'foranyvalue') set = 'ForAnyValue';
    else if (qualifier === 'forallvalues') set = 'ForAllValues';
    else return null;
    rest = rest.slice(colon + 1);
  }
  let ifExists = false;
  let base = OPERATOR_BY_LOWER_NAME.get(rest.toLowerCase());
  if (!base && rest.toLowerCase().endsWith('ifexists')) {
    ifExists = true;
    base = OPERATOR_BY_LOWER_NAME.get(rest.slice(0, -'ifexists'.length).toLowerCase());
  }
  if (!base) return null;
  if (base === 'Null' && (ifExists || set)) return null;
  return { base, ifExists, ...(set ? { set } : {}) };
}

/** Why `value` is not a valid value for `operator`, or `null` if it is fine. */
export function conditionValueProblem(operator: ParsedOperator, value: string): string | null {
  if (value.includes('${')) return null; // resolved at request time
  switch (OPERATORS[operator.base]!.kind) {
    case 'numeric':
      return parseNumber(value) === null ? `'${value}' is not a number` : null;
    case 'date':
      return parseDate(value) === null ? `'${value}' is not a date` : null;
    case 'bool':
    case 'null':
      return /^(true|false)$/i.test(value) ? null : `'${value}' must be true or false`;
    case 'ip':
      return parseCidr(value) === null ? `'${value}' is not an IP address or CIDR block` : null;
    case 'binary':
      return /^[A-Za-z0-9+/]*={0,2}$/.test(value) ? null : `'${value}' is not base64`;
    default:
      return null;
  }
}

export function evaluateConditions(clauses: ConditionClause[], context: RequestContext, version: PolicyVersion): boolean {
  return clauses.every((clause) => evaluateCondition(clause, context, version));
}

export function evaluateCondition(clause: ConditionClause, context: RequestContext, version: PolicyVersion): boolean {
  const operator = parseConditionOperator(clause.operator);
  if (!operator) return false;
  const spec = OPERATORS[operator.base]!;
  const requestValues = context.getAll(clause.key);
  const present = requestValues !== undefined && requestValues.length > 0;

  if (spec.kind === 'null') {
    return clause.values.some((v) => (v.toLowerCase() === 'true' ? !present : present));
  }

  const globs: string[] = [];
  for (const value of clause.values) {
    const glob = resolvePattern(value, context, version);
    if (glob !== null) globs.push(glob);
  }
  // Every value named a policy variable the request cannot supply: nothing can match.
  if (globs.length === 0) return false;

  const positive = (requestValue: string) => globs.some((glob) => spec.matches(requestValue, glob));
  const single = (requestValue: string) => (spec.negated ? !positive(requestValue) : positive(requestValue));

  if (operator.set === 'ForAllValues') {
    return !present || requestValues.every(single);
  }
  if (operator.set === 'ForAnyValue') {
    if (!present) return operator.ifExists;
    return requestValues.some(single);
  }
  if (!present) return operator.ifExists || spec.negated;
  const anyMatch = requestValues.some(positive);
  return spec.negated ? !anyMatch : anyMatch;
}

function parseNumber(text: string): number | null {
  if (!/^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(text)) return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

/** ISO 8601 dates, or epoch seconds (AWS accepts both for Date operators). */
function parseDate(text: string): number | null {
  const trimmed = text.trim();
  if (/^[-+]?\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  if (!/^\d{4}-\d{2}-\d{2}/.test(trimmed)) return null;
  const ms = Date.parse(trimmed);
  return Number.isNaN(ms) ? null : ms;
}

function binaryEquals(request: string, glob: string): boolean {
  return Buffer.from(request, 'base64').equals(Buffer.from(globLiteral(glob), 'base64'));
}

/** ARN matching: each of the six colon-separated parts is matched on its own, with wildcards. */
export function arnLike(requestArn: string, glob: string): boolean {
  const patternParts = splitGlob(glob, ':', 6);
  const valueParts = splitLimit(requestArn, ':', 6);
  if (glob === '*') return true;
  if (patternParts.length !== 6 || valueParts.length !== 6) return false;
  return patternParts.every((part, i) => globMatch(part, valueParts[i]!));
}

function splitLimit(text: string, sep: string, limit: number): string[] {
  const parts = text.split(sep);
  if (parts.length <= limit) return parts;
  return [...parts.slice(0, limit - 1), parts.slice(limit - 1).join(sep)];
}
