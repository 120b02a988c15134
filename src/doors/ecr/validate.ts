import { isValidRepositoryName, MAX_NAME_LENGTH, MIN_NAME_LENGTH, REPOSITORY_NAME_PATTERN } from '../../domain/registry/names.js';
import { EcrError, invalidParameter } from './errors.js';
import type { EcrInput } from './operation.js';

const REGISTRY_ID = /^[0-9]{12}$/;

function constraint(field: string, reason: string): EcrError {
  return invalidParameter(`Invalid parameter at '${field}' failed to satisfy constraint: '${reason}'`);
}

/** A JSON value of the wrong type is a serialization failure in AWS JSON protocols. */
function wrongType(field: string, expected: string): EcrError {
  return new EcrError('SerializationException', `Expected ${expected} for member '${field}'`);
}

export function optionalString(input: EcrInput, field: string, opts: { min?: number; max?: number } = {}): string | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw wrongType(field, 'a string');
  if (opts.min !== undefined && v.length < opts.min) throw constraint(field, `must have length greater than or equal to ${opts.min}`);
  if (opts.max !== undefined && v.length > opts.max) throw constraint(field, `must have length less than or equal to ${opts.max}`);
  return v;
}

export function requiredString(input: EcrInput, field: string, opts: { min?: number; max?: number } = {}): string {
  const v = optionalString(input, field, opts);
  if (v === undefined) throw constraint(field, 'must not be null');
  return v;
}

export function optionalBoolean(input: EcrInput, field: string): boolean | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw wrongType(field, 'a boolean');
  return v;
}

export function optionalInteger(input: EcrInput, field: string, min: number, max: number): number | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw wrongType(field, 'an integer');
  if (v < min) throw constraint(field, `must be greater than or equal to ${min}`);
  if (v > max) throw constraint(field, `must be less than or equal to ${max}`);
  return v;
}

export function requiredInteger(input: EcrInput, field: string, min: number, max: number): number {
  const v = optionalInteger(input, field, min, max);
  if (v === undefined) throw constraint(field, 'must not be null');
  return v;
}

export function optionalObject(input: EcrInput, field: string): EcrInput | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw wrongType(field, 'an object');
  return v as EcrInput;
}

export function optionalList(input: EcrInput, field: string, min: number, max: number): unknown[] | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw wrongType(field, 'a list');
  if (v.length < min) throw constraint(field, `must have length greater than or equal to ${min}`);
  if (v.length > max) throw constraint(field, `must have length less than or equal to ${max}`);
  return v;
}

export function requiredList(input: EcrInput, field: string, min: number, max: number): unknown[] {
  const v = optionalList(input, field, min, max);
  if (v === undefined) throw constraint(field, 'must not be null');
  return v;
}

export function stringList(input: EcrInput, field: string, min: number, max: number, required: boolean): string[] | undefined {
  const list = required ? requiredList(input, field, min, max) : optionalList(input, field, min, max);
  if (list === undefined) return undefined;
  for (const item of list) if (typeof item !== 'string') throw wrongType(`${field}.member`, 'a string');
  return list as string[];
}

export function optionalEnum<T extends string>(input: EcrInput, field: string, values: readonly T[]): T | undefined {
  const v = optionalString(input, field);
  if (v === undefined) return undefined;
  if (!(values as readonly string[]).includes(v)) throw constraint(field, `Member must satisfy enum value set: [${values.join(', ')}]`);
  return v as T;
}

export function requiredEnum<T extends string>(input: EcrInput, field: string, values: readonly T[]): T {
  const v = optionalEnum(input, field, values);
  if (v === undefined) throw constraint(field, 'must not be null');
  return v;
}

export function checkRepositoryName(name: string, field = 'repositoryName'): string {
  if (name.length < MIN_NAME_LENGTH) throw constraint(field, `must have length greater than or equal to ${MIN_NAME_LENGTH}`);
  if (name.length > MAX_NAME_LENGTH) throw constraint(field, `must have length less than or equal to ${MAX_NAME_LENGTH}`);
  if (!isValidRepositoryName(name)) throw constraint(field, `must satisfy regular expression '${REPOSITORY_NAME_PATTERN}'`);
  return name;
}

export function repositoryName(input: EcrInput, field = 'repositoryName'): string {
  return checkRepositoryName(requiredString(input, field), field);
}

/** Checks an explicit registryId; the context already defaults it to the caller's account. */
export function checkRegistryId(input: EcrInput): void {
  const v = optionalString(input, 'registryId');
  if (v !== undefined && !REGISTRY_ID.test(v)) throw constraint('registryId', "must satisfy regular expression '[0-9]{12}'");
}

export function parameterError(field: string, reason: string): EcrError {
  return constraint(field, reason);
}

/** Refuses `value` unless it matches the model's `pattern` (given as the model writes it). */
export function checkPattern(value: string, field: string, pattern: string): string {
  if (!new RegExp(pattern.startsWith('^') ? pattern : `^(?:${pattern})$`).test(value)) {
    throw constraint(field, `Member must satisfy regular expression pattern: ${pattern}`);
  }
  return value;
}

/** An optional structure member: undefined, or an object (else a serialization failure). */
export function optionalStructure(value: unknown, field: string): EcrInput | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw wrongType(field, 'an object');
  return value as EcrInput;
}

export function requiredObject(input: EcrInput, field: string): EcrInput {
  const v = optionalObject(input, field);
  if (v === undefined) throw constraint(field, 'must not be null');
  return v;
}
