import { EcrError } from './errors.js';
import type { ModelShape } from './model-shapes.js';
import { OPERATION_INPUTS, SHAPES } from './model-table.js';
import type { EcrInput } from './operation.js';
import { checkRepositoryName, parameterError } from './validate.js';

/**
 * Checks an operation's input against ECR's service model before anything else looks at it:
 * JSON types (a wrong one is a SerializationException), required members, lengths, ranges,
 * patterns and enum values (InvalidParameterException, in ECR's words). Members the model does not
 * know are ignored, as AWS JSON services do.
 */
export function validateAgainstModel(operation: string, input: EcrInput): void {
  const shape = OPERATION_INPUTS[operation];
  if (shape) check(input, shape, '');
}

/**
 * The input without members the operation's model does not have, so that nothing reads a member
 * ECR would not (a `registryId` sent to an operation that takes none, for instance).
 */
export function modelledMembers(operation: string, input: EcrInput): EcrInput {
  const shape = OPERATION_INPUTS[operation];
  const members = shape ? SHAPES[shape]?.members : undefined;
  if (!members) return shape === null ? {} : input;
  return Object.fromEntries(Object.entries(input).filter(([name]) => Object.hasOwn(members, name)));
}

/** Shapes whose check ECR words in its own way (recorded answers), not by the model's pattern. */
const OWN_CHECKS: Record<string, (value: string, path: string) => void> = {
  RepositoryName: (value, path) => void checkRepositoryName(value, path),
};

const patterns = new Map<string, RegExp>();

function pattern(source: string): RegExp {
  let re = patterns.get(source);
  if (!re) {
    re = new RegExp(`^(?:${source})$`);
    patterns.set(source, re);
  }
  return re;
}

function wrongType(path: string, expected: string): EcrError {
  return new EcrError('SerializationException', `Expected ${expected} for member '${path}'`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function lengthWithin(length: number, s: ModelShape, path: string): void {
  if (s.min !== undefined && length < s.min) throw parameterError(path, `must have length greater than or equal to ${s.min}`);
  if (s.max !== undefined && length > s.max) throw parameterError(path, `must have length less than or equal to ${s.max}`);
}

function check(value: unknown, shapeName: string, path: string): void {
  const s = SHAPES[shapeName];
  if (!s || value === undefined || value === null) return;
  switch (s.type) {
    case 'structure': {
      if (!isObject(value)) throw wrongType(path || 'input', 'an object');
      for (const member of s.required ?? []) {
        if (value[member] === undefined || value[member] === null) throw parameterError(join(path, member), 'must not be null');
      }
      for (const [member, memberShape] of Object.entries(s.members ?? {})) check(value[member], memberShape, join(path, member));
      return;
    }
    case 'list': {
      if (!Array.isArray(value)) throw wrongType(path, 'a list');
      lengthWithin(value.length, s, path);
      value.forEach((item, i) => {
        if (item === null || item === undefined) throw parameterError(`${path}.${i + 1}.member`, 'must not be null');
        check(item, s.member!, `${path}.${i + 1}.member`);
      });
      return;
    }
    case 'map': {
      if (!isObject(value)) throw wrongType(path, 'a map');
      lengthWithin(Object.keys(value).length, s, path);
      for (const [k, v] of Object.entries(value)) {
        check(k, s.key!, `${path}.${k}.key`);
        check(v, s.value!, `${path}.${k}.value`);
      }
      return;
    }
    case 'string': {
      if (typeof value !== 'string') throw wrongType(path, 'a string');
      const own = OWN_CHECKS[shapeName];
      if (own) return own(value, path);
      if (s.enum && !s.enum.includes(value)) throw parameterError(path, `Member must satisfy enum value set: [${s.enum.join(', ')}]`);
      lengthWithin(value.length, s, path);
      if (s.pattern !== undefined && !pattern(s.pattern).test(value)) throw parameterError(path, `must satisfy regular expression '${s.pattern}'`);
      return;
    }
    case 'integer':
    case 'long': {
      if (typeof value !== 'number' || !Number.isInteger(value)) throw wrongType(path, 'an integer');
      if (s.min !== undefined && value < s.min) throw parameterError(path, `must be greater than or equal to ${s.min}`);
      if (s.max !== undefined && value > s.max) throw parameterError(path, `must be less than or equal to ${s.max}`);
      return;
    }
    case 'float':
    case 'double':
      if (typeof value !== 'number') throw wrongType(path, 'a number');
      return;
    case 'boolean':
      if (typeof value !== 'boolean') throw wrongType(path, 'a boolean');
      return;
    case 'blob':
      // Base64 text; its decoded size is the operation's to check.
      if (typeof value !== 'string') throw wrongType(path, 'a base64 string');
      return;
    case 'timestamp':
      if (typeof value !== 'number' && typeof value !== 'string') throw wrongType(path, 'a timestamp');
      return;
  }
}

function join(path: string, member: string): string {
  return path ? `${path}.${member}` : member;
}
