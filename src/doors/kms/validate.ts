import { KmsError } from '../../domain/kms/errors.js';

export type KmsInput = Record<string, unknown>;

/** KMS's wording for a constraint a member failed, as its ValidationException says it. */
function constraint(field: string, value: unknown, reason: string): KmsError {
  const shown = typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value);
  return new KmsError('ValidationException', `1 validation error detected: Value '${shown}' at '${lowerFirst(field)}' failed to satisfy constraint: ${reason}`);
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** A JSON value of the wrong type is a serialization failure in AWS JSON protocols. */
function wrongType(field: string, expected: string): KmsError {
  return new KmsError('SerializationException', `Expected ${expected} for member '${field}'`);
}

export function optionalString(input: KmsInput, field: string, opts: { min?: number; max?: number; pattern?: RegExp } = {}): string | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw wrongType(field, 'a string');
  if (opts.min !== undefined && v.length < opts.min) throw constraint(field, v, `Member must have length greater than or equal to ${opts.min}`);
  if (opts.max !== undefined && v.length > opts.max) throw constraint(field, v, `Member must have length less than or equal to ${opts.max}`);
  if (opts.pattern && !opts.pattern.test(v)) throw constraint(field, v, `Member must satisfy regular expression pattern: ${opts.pattern.source}`);
  return v;
}

export function requiredString(input: KmsInput, field: string, opts: { min?: number; max?: number; pattern?: RegExp } = {}): string {
  const v = optionalString(input, field, opts);
  if (v === undefined) throw constraint(field, null, 'Member must not be null');
  return v;
}

export function optionalEnum<T extends string>(input: KmsInput, field: string, values: readonly T[]): T | undefined {
  const v = optionalString(input, field);
  if (v !== undefined && !values.includes(v as T)) throw constraint(field, v, `Member must satisfy enum value set: [${values.join(', ')}]`);
  return v as T | undefined;
}

export function optionalBoolean(input: KmsInput, field: string): boolean | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw wrongType(field, 'a boolean');
  return v;
}

export function optionalInteger(input: KmsInput, field: string, min: number, max: number): number | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw wrongType(field, 'an integer');
  if (v < min) throw constraint(field, v, `Member must have value greater than or equal to ${min}`);
  if (v > max) throw constraint(field, v, `Member must have value less than or equal to ${max}`);
  return v;
}

/** A base64 blob member, decoded. */
export function optionalBlob(input: KmsInput, field: string, min: number, max: number): Buffer | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) throw wrongType(field, 'a base64-encoded blob');
  const bytes = Buffer.from(v, 'base64');
  if (bytes.length < min) throw constraint(field, '[binary]', `Member must have length greater than or equal to ${min}`);
  if (bytes.length > max) throw constraint(field, '[binary]', `Member must have length less than or equal to ${max}`);
  return bytes;
}

export function requiredBlob(input: KmsInput, field: string, min: number, max: number): Buffer {
  const v = optionalBlob(input, field, min, max);
  if (v === undefined) throw constraint(field, null, 'Member must not be null');
  return v;
}

export function encryptionContext(input: KmsInput, field: string): Record<string, string> | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw wrongType(field, 'a map');
  for (const value of Object.values(v)) if (typeof value !== 'string') throw wrongType(field, 'a map of strings');
  return v as Record<string, string>;
}

export function tagList(input: KmsInput, field: string, required: boolean): Array<{ TagKey: string; TagValue: string }> | undefined {
  const v = input[field];
  if (v === undefined || v === null) {
    if (required) throw constraint(field, null, 'Member must not be null');
    return undefined;
  }
  if (!Array.isArray(v)) throw wrongType(field, 'a list');
  return v.map((t: unknown) => {
    if (typeof t !== 'object' || t === null) throw wrongType(field, 'a list of tags');
    const tag = t as KmsInput;
    return {
      TagKey: requiredString(tag, 'TagKey', { min: 1, max: 128 }),
      TagValue: requiredString(tag, 'TagValue', { min: 0, max: 256 }),
    };
  });
}

export function stringList(input: KmsInput, field: string): string[] {
  const v = input[field];
  if (v === undefined || v === null) throw constraint(field, null, 'Member must not be null');
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw wrongType(field, 'a list of strings');
  return v as string[];
}
