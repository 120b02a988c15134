import { EcrPublicError, invalidParameter } from './errors.js';
import { OPERATION_INPUTS, SHAPES, type Shape } from './model.js';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const patterns = new Map<string, RegExp>();

/** A JSON value of the wrong type is a serialization failure in AWS JSON protocols. */
function wrongType(path: string, expected: string): EcrPublicError {
  return new EcrPublicError('SerializationException', `Expected ${expected} for member '${path}'`);
}

function fullMatch(pattern: string): RegExp {
  let re = patterns.get(pattern);
  if (!re) patterns.set(pattern, (re = new RegExp(`^(?:${pattern})$`, 'u')));
  return re;
}

function checkLength(path: string, shape: Shape, length: number): void {
  if (shape.min !== undefined && length < shape.min) throw invalidParameter(path, `must have length greater than or equal to ${shape.min}`);
  if (shape.max !== undefined && length > shape.max) throw invalidParameter(path, `must have length less than or equal to ${shape.max}`);
}

function checkValue(path: string, shapeName: string, value: unknown): void {
  const shape = SHAPES[shapeName]!;
  switch (shape.type) {
    case 'structure': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw wrongType(path, 'an object');
      checkStructure(path, shape, value as Record<string, unknown>);
      return;
    }
    case 'list': {
      if (!Array.isArray(value)) throw wrongType(path, 'a list');
      checkLength(path, shape, value.length);
      value.forEach((item, i) => {
        if (item === null) throw invalidParameter(`${path}.${i + 1}.member`, 'must not be null');
        checkValue(`${path}.${i + 1}.member`, shape.member!, item);
      });
      return;
    }
    case 'string': {
      if (typeof value !== 'string') throw wrongType(path, 'a string');
      checkLength(path, shape, value.length);
      if (shape.enum && !shape.enum.includes(value)) throw invalidParameter(path, `Member must satisfy enum value set: [${shape.enum.join(', ')}]`);
      if (shape.pattern && !fullMatch(shape.pattern).test(value)) throw invalidParameter(path, `must satisfy regular expression '${shape.pattern}'`);
      return;
    }
    case 'integer':
    case 'long': {
      if (typeof value !== 'number' || !Number.isInteger(value)) throw wrongType(path, 'an integer');
      if (shape.min !== undefined && value < shape.min) throw invalidParameter(path, `must be greater than or equal to ${shape.min}`);
      if (shape.max !== undefined && value > shape.max) throw invalidParameter(path, `must be less than or equal to ${shape.max}`);
      return;
    }
    case 'boolean':
      if (typeof value !== 'boolean') throw wrongType(path, 'a boolean');
      return;
    case 'blob': {
      if (typeof value !== 'string') throw wrongType(path, 'a base64-encoded string');
      if (!BASE64.test(value) || value.length % 4 !== 0) throw new EcrPublicError('SerializationException', `Member '${path}' is not valid base64`);
      checkLength(path, shape, Buffer.byteLength(value, 'base64'));
      return;
    }
    case 'timestamp':
      if (typeof value !== 'number') throw wrongType(path, 'a timestamp');
      return;
  }
}

function checkStructure(prefix: string, shape: Shape, input: Record<string, unknown>): void {
  const at = (member: string) => (prefix ? `${prefix}.${member}` : member);
  for (const member of shape.required ?? []) {
    if (input[member] === undefined || input[member] === null) throw invalidParameter(at(member), 'must not be null');
  }
  for (const [member, memberShape] of Object.entries(shape.members ?? {})) {
    const value = input[member];
    if (value !== undefined && value !== null) checkValue(at(member), memberShape, value);
  }
}

/** The input with JSON nulls left out of every structure: AWS JSON protocols read null as absent. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = withoutNulls(v);
  return out;
}

/**
 * Checks an operation's input against the model (member types, required members, lengths, ranges,
 * patterns, enums) and returns it with nulls left out, ready for the operation.
 */
export function validateInput(operation: string, input: Record<string, unknown>): Record<string, unknown> {
  const shapeName = OPERATION_INPUTS[operation];
  if (shapeName === undefined) throw new Error(`no model for ${operation}`);
  checkStructure('', SHAPES[shapeName]!, input);
  return withoutNulls(input) as Record<string, unknown>;
}
