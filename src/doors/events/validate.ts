/** EventBridge's input checks, with its ValidationException wording. */
export class EventsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export type Input = Record<string, unknown>;

export const NAME = /^[.\-_A-Za-z0-9]+$/;
export const CONNECTION_ARN = /^arn:aws([a-z]|-)*:events:([a-z]|\d|-)*:([0-9]{12})?:connection\/[.\-_A-Za-z0-9]+\/[-A-Za-z0-9]+$/;
export const API_DESTINATION_ARN = /^arn:aws([a-z]|-)*:events:([a-z]|\d|-)*:([0-9]{12})?:api-destination\/[.\-_A-Za-z0-9]+\/[-A-Za-z0-9]+$/;
const EVENT_BUS = /^(arn:aws[\w-]*:events:[a-z]{2}-[a-z]+-[\w-]+:[0-9]{12}:event-bus\/)?[/.\-_A-Za-z0-9]+$/;

function violation(field: string, value: unknown, rule: string): EventsError {
  return new EventsError('ValidationException', `1 validation error detected: Value '${String(value)}' at '${field}' failed to satisfy constraint: ${rule}`);
}

function wrongType(field: string, expected: string): EventsError {
  return new EventsError('SerializationException', `Expected ${expected} for member '${field}'`);
}

export interface StringRule {
  min?: number;
  max?: number;
  pattern?: RegExp;
  values?: readonly string[];
}

export function optionalString(input: Input, field: string, rule: StringRule = {}): string | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw wrongType(field, 'a string');
  const name = field.charAt(0).toLowerCase() + field.slice(1);
  if (rule.min !== undefined && v.length < rule.min) throw violation(name, v, `Member must have length greater than or equal to ${rule.min}`);
  if (rule.max !== undefined && v.length > rule.max) throw violation(name, v, `Member must have length less than or equal to ${rule.max}`);
  if (rule.pattern && !rule.pattern.test(v)) throw violation(name, v, `Member must satisfy regular expression pattern: ${rule.pattern.source}`);
  if (rule.values && !rule.values.includes(v)) throw violation(name, v, `Member must satisfy enum value set: [${rule.values.join(', ')}]`);
  return v;
}

export function requiredString(input: Input, field: string, rule: StringRule = {}): string {
  const v = optionalString(input, field, rule);
  if (v === undefined) throw violation(field.charAt(0).toLowerCase() + field.slice(1), 'null', 'Member must not be null');
  return v;
}

export function name(input: Input, field = 'Name'): string {
  return requiredString(input, field, { min: 1, max: 64, pattern: NAME });
}

export function optionalNamePrefix(input: Input): string | undefined {
  return optionalString(input, 'NamePrefix', { min: 1, max: 64, pattern: NAME });
}

export function optionalInteger(input: Input, field: string, min: number, max: number): number | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw wrongType(field, 'an integer');
  const lower = field.charAt(0).toLowerCase() + field.slice(1);
  if (v < min) throw violation(lower, v, `Member must have value greater than or equal to ${min}`);
  if (v > max) throw violation(lower, v, `Member must have value less than or equal to ${max}`);
  return v;
}

export function optionalBoolean(input: Input, field: string): boolean | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw wrongType(field, 'a boolean');
  return v;
}

export function requiredObject(input: Input, field: string): Input {
  const v = input[field];
  if (v === undefined || v === null) throw violation(field.charAt(0).toLowerCase() + field.slice(1), 'null', 'Member must not be null');
  if (typeof v !== 'object' || Array.isArray(v)) throw wrongType(field, 'an object');
  return v as Input;
}

export function requiredList(input: Input, field: string, min: number, max: number): unknown[] {
  const v = input[field];
  const lower = field.charAt(0).toLowerCase() + field.slice(1);
  if (v === undefined || v === null) throw violation(lower, 'null', 'Member must not be null');
  if (!Array.isArray(v)) throw wrongType(field, 'a list');
  if (v.length < min) throw violation(lower, JSON.stringify(v), `Member must have length greater than or equal to ${min}`);
  if (v.length > max) throw violation(lower, JSON.stringify(v), `Member must have length less than or equal to ${max}`);
  return v;
}

/** Only the default event bus exists here. */
export function eventBus(input: Input, region: string, accountId: string): void {
  const bus = optionalString(input, 'EventBusName', { min: 1, max: 1600, pattern: EVENT_BUS });
  if (bus === undefined || bus === 'default' || bus === `arn:aws:events:${region}:${accountId}:event-bus/default`) return;
  throw new EventsError('ResourceNotFoundException', `Event bus ${bus.split('/').pop()} does not exist.`);
}

/** Pages of a sorted list: NextToken is the last name returned. */
export function page<T extends { name: string }>(items: T[], input: Input, maxLimit = 100): { items: T[]; nextToken?: string } {
  const limit = optionalInteger(input, 'Limit', 1, maxLimit) ?? maxLimit;
  const token = optionalString(input, 'NextToken', { min: 1, max: 2048 });
  let after = '';
  if (token !== undefined) {
    after = Buffer.from(token, 'base64url').toString('utf8');
    if (!after) throw new EventsError('ValidationException', 'The NextToken provided is invalid.');
  }
  const rest = items.filter((i) => i.name > after);
  const shown = rest.slice(0, limit);
  return rest.length > limit ? { items: shown, nextToken: Buffer.from(shown[shown.length - 1]!.name).toString('base64url') } : { items: shown };
}

/** A TagList (Key 1–128, Value 0–256); keys under `aws:` are AWS's own. */
export function tagList(input: Input, field: string, max: number): Array<{ key: string; value: string }> {
  return requiredList(input, field, 0, max).map((t, i) => {
    if (typeof t !== 'object' || t === null || Array.isArray(t)) throw wrongType(`${field}.${i + 1}`, 'an object');
    const key = requiredString(t as Input, 'Key', { min: 1, max: 128 });
    const value = requiredString(t as Input, 'Value', { max: 256 });
    if (key.toLowerCase().startsWith('aws:')) throw new EventsError('ValidationException', `Invalid tag key ${key}: the aws: prefix is reserved for use by AWS.`);
    return { key, value };
  });
}

/** A TagKeyList. */
export function tagKeys(input: Input, field: string): string[] {
  return requiredList(input, field, 0, 50).map((k) => requiredString({ [field]: k }, field, { min: 1, max: 128 }));
}
