/**
 * Parsing and validating IAM policy documents (identity policies, and resource policies such as
 * ECR repository and registry policies). Messages follow IAM's MalformedPolicyDocument wording.
 */
import { conditionValueProblem, parseConditionOperator } from './conditions.js';
import { PolicyValidationError } from './errors.js';
import type {
  ConditionClause,
  Effect,
  PolicyDocument,
  PolicyKind,
  PolicyVersion,
  PrincipalSpec,
  Statement,
} from './types.js';

const VERSIONS: readonly PolicyVersion[] = ['2012-10-17', '2008-10-17'];
const DOCUMENT_FIELDS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_FIELDS = new Set([
  'Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition',
]);
const PRINCIPAL_TYPES = new Set(['AWS', 'Service', 'Federated', 'CanonicalUser']);
const ACTION = /^(\*|[A-Za-z0-9*?-]+:[A-Za-z0-9*?_-]+)$/;
const RESOURCE = /^(\*|arn:[^:]*:[^:]*:[^:]*:[^:]*:.+)$/s;
const AWS_PRINCIPAL = /^(\*|\d{12}|arn:[a-z-]+:(iam|sts)::\d{12}:.+)$/;
const IDENTITY_SID = /^[0-9A-Za-z]*$/;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(message: string): never {
  throw new PolicyValidationError(message);
}

/**
 * Parse and validate a policy document. `identity` policies must not name a principal and need
 * Resource or NotResource; `resource` policies (repository / registry policies) need Principal or
 * NotPrincipal and may omit Resource (it then means the resource the policy is attached to).
 */
export function parsePolicyDocument(text: string, kind: PolicyKind): PolicyDocument {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    fail('Syntax errors in policy: the policy document is not valid JSON.');
  }
  if (!isObject(raw)) fail('Syntax errors in policy: the policy document must be a JSON object.');
  for (const field of Object.keys(raw)) {
    if (!DOCUMENT_FIELDS.has(field)) fail(`Syntax errors in policy: unknown field ${field}.`);
  }

  let version: PolicyVersion = '2008-10-17';
  if (raw.Version !== undefined) {
    if (typeof raw.Version !== 'string' || !VERSIONS.includes(raw.Version as PolicyVersion)) {
      fail(`The policy failed legacy parsing: invalid Version ${JSON.stringify(raw.Version)} (use 2012-10-17 or 2008-10-17).`);
    }
    version = raw.Version as PolicyVersion;
  }
  if (raw.Id !== undefined && typeof raw.Id !== 'string') fail('Syntax errors in policy: Id must be a string.');

  if (raw.Statement === undefined) fail('Missing required field Statement.');
  const rawStatements = Array.isArray(raw.Statement) ? raw.Statement : [raw.Statement];
  if (rawStatements.length === 0) fail('Syntax errors in policy: Statement must not be empty.');

  const statements = rawStatements.map((s, i) => parseStatement(s, i, kind));
  if (kind === 'identity') {
    const sids = statements.map((s) => s.sid).filter((sid): sid is string => !!sid);
    if (new Set(sids).size !== sids.length) fail('Statement IDs (SID) in a single policy must be unique.');
  }
  return { kind, version, ...(typeof raw.Id === 'string' ? { id: raw.Id } : {}), statements };
}

function parseStatement(raw: Json, index: number, kind: PolicyKind): Statement {
  const where = `Statement ${index + 1}`;
  if (!isObject(raw)) fail(`Syntax errors in policy: ${where} must be a JSON object.`);
  for (const field of Object.keys(raw)) {
    if (!STATEMENT_FIELDS.has(field)) fail(`Syntax errors in policy: ${where} has unknown field ${field}.`);
  }

  const statement: Statement = { effect: parseEffect(raw.Effect, where), conditions: [] };

  if (raw.Sid !== undefined) {
    if (typeof raw.Sid !== 'string') fail(`Syntax errors in policy: ${where}: Sid must be a string.`);
    if (kind === 'identity' && !IDENTITY_SID.test(raw.Sid)) {
      fail('Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*');
    }
    statement.sid = raw.Sid;
  }

  // Action / NotAction: exactly one.
  if (raw.Action !== undefined && raw.NotAction !== undefined) {
    fail(`Syntax errors in policy: ${where} has both Action and NotAction.`);
  }
  if (raw.Action === undefined && raw.NotAction === undefined) fail(`Missing required field Action in ${where}.`);
  const actionField = raw.Action !== undefined ? 'Action' : 'NotAction';
  const actions = stringList(raw[actionField], `${where} ${actionField}`);
  for (const action of actions) {
    if (!ACTION.test(action)) {
      fail(`Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc. (${where}: '${action}').`);
    }
  }
  if (actionField === 'Action') statement.action = actions;
  else statement.notAction = actions;

  // Resource / NotResource: at most one; identity policies need one.
  if (raw.Resource !== undefined && raw.NotResource !== undefined) {
    fail(`Syntax errors in policy: ${where} has both Resource and NotResource.`);
  }
  if (raw.Resource === undefined && raw.NotResource === undefined) {
    if (kind === 'identity') fail(`Policy statement must contain resources (${where}).`);
  } else {
    const resourceField = raw.Resource !== undefined ? 'Resource' : 'NotResource';
    const resources = stringList(raw[resourceField], `${where} ${resourceField}`);
    for (const resource of resources) {
      if (!RESOURCE.test(resource)) fail(`Resource ${resource} must be in ARN format or "*".`);
    }
    if (resourceField === 'Resource') statement.resource = resources;
    else statement.notResource = resources;
  }

  // Principal / NotPrincipal: resource policies need exactly one; identity policies none.
  const hasPrincipal = raw.Principal !== undefined || raw.NotPrincipal !== undefined;
  if (kind === 'identity' && hasPrincipal) fail('Policy document should not specify a principal.');
  if (kind === 'resource') {
    if (raw.Principal !== undefined && raw.NotPrincipal !== undefined) {
      fail(`Syntax errors in policy: ${where} has both Principal and NotPrincipal.`);
    }
    if (!hasPrincipal) fail(`Missing required field Principal in ${where}.`);
    if (raw.Principal !== undefined) statement.principal = parsePrincipal(raw.Principal);
    else statement.notPrincipal = parsePrincipal(raw.NotPrincipal!);
  }

  if (raw.Condition !== undefined) statement.conditions = parseCondition(raw.Condition, where);
  return statement;
}

function parseEffect(raw: Json | undefined, where: string): Effect {
  if (raw === undefined) fail(`Missing required field Effect in ${where}.`);
  if (raw !== 'Allow' && raw !== 'Deny') {
    fail(`Invalid effect: ${JSON.stringify(raw)} in ${where} (must be "Allow" or "Deny").`);
  }
  return raw;
}

function stringList(raw: Json | undefined, what: string): string[] {
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) fail(`Syntax errors in policy: ${what} must not be empty.`);
  for (const item of list) {
    if (typeof item !== 'string' || item.length === 0) {
      fail(`Syntax errors in policy: ${what} must be a non-empty string or a list of strings.`);
    }
  }
  return list as string[];
}

function parsePrincipal(raw: Json): PrincipalSpec {
  if (raw === '*') return '*';
  if (!isObject(raw) || Object.keys(raw).length === 0) fail(`Invalid principal in policy: ${JSON.stringify(raw)}`);
  const spec: Exclude<PrincipalSpec, '*'> = {};
  for (const [type, value] of Object.entries(raw)) {
    if (!PRINCIPAL_TYPES.has(type)) fail(`Invalid principal in policy: ${JSON.stringify({ [type]: value })}`);
    const ids = stringList(value, `Principal ${type}`);
    if (type === 'AWS') {
      for (const id of ids) {
        if (!AWS_PRINCIPAL.test(id)) fail(`Invalid principal in policy: "AWS":${JSON.stringify(id)}`);
      }
    }
    spec[type as keyof typeof spec] = ids;
  }
  return spec;
}

function parseCondition(raw: Json, where: string): ConditionClause[] {
  if (!isObject(raw)) fail(`Syntax errors in policy: ${where}: Condition must be a JSON object.`);
  const clauses: ConditionClause[] = [];
  for (const [operatorName, block] of Object.entries(raw)) {
    const operator = parseConditionOperator(operatorName);
    if (!operator) fail(`Invalid Condition type : ${operatorName}`);
    if (!isObject(block) || Object.keys(block).length === 0) {
      fail(`Syntax errors in policy: ${where}: Condition ${operatorName} must map condition keys to values.`);
    }
    for (const [key, rawValues] of Object.entries(block)) {
      if (key.length === 0) fail(`Syntax errors in policy: ${where}: empty condition key.`);
      const list = Array.isArray(rawValues) ? rawValues : [rawValues];
      if (list.length === 0) fail(`Syntax errors in policy: ${where}: condition key ${key} has no values.`);
      const values = list.map((value) => {
        if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
          fail(`Syntax errors in policy: ${where}: condition values for ${key} must be strings, numbers or booleans.`);
        }
        const text = String(value);
        const problem = conditionValueProblem(operator, text);
        if (problem) fail(`Invalid value in ${where} condition ${operatorName} ${key}: ${problem}.`);
        return text;
      });
      clauses.push({ operator: operatorName, key, values });
    }
  }
  return clauses;
}
