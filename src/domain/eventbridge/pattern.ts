/**
 * EventBridge event patterns: validation and matching. A pattern is a JSON object whose leaves are
 * arrays of matchers; an event matches when every field the pattern names matches (an array value
 * in the event matches when any element does). Matchers: exact strings, numbers, booleans and null;
 * `prefix`, `suffix`, `equals-ignore-case`, `wildcard`, `anything-but` (values, or a prefix/suffix),
 * `numeric` (comparisons, up to two), `exists`; `$or` takes a list of sub-patterns.
 */

export class InvalidPatternError extends Error {}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Matcher = (value: Json | undefined, present: boolean) => boolean;
interface Compiled {
  fields: Array<{ path: string; matchers: Matcher[] } | { or: Compiled[] }>;
}

const MAX_PATTERN_LENGTH = 4096;

/** Parses and checks a pattern; throws InvalidPatternError saying what is wrong. */
export function compilePattern(text: string): EventPattern {
  if (text.length > MAX_PATTERN_LENGTH) throw new InvalidPatternError('Event pattern is too long.');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InvalidPatternError('Event pattern is not valid. Reason: Filter is not valid JSON.');
  }
  if (!isObject(parsed) || Object.keys(parsed).length === 0) {
    throw new InvalidPatternError('Event pattern is not valid. Reason: Filter is not an object.');
  }
  return new EventPattern(compileObject(parsed as Record<string, Json>, ''));
}

export class EventPattern {
  constructor(private readonly compiled: Compiled) {}

  matches(event: unknown): boolean {
    return matchCompiled(this.compiled, event as Json);
  }
}

function compileObject(obj: Record<string, Json>, prefix: string): Compiled {
  const fields: Compiled['fields'] = [];
  for (const [key, value] of Object.entries(obj)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2 || !value.every(isObject)) {
        throw invalid(`"$or" must be a list of at least two patterns`);
      }
      fields.push({ or: value.map((sub) => compileObject(sub as Record<string, Json>, prefix)) });
    } else if (Array.isArray(value)) {
      if (value.length === 0) throw invalid(`Empty arrays are not allowed (${path})`);
      fields.push({ path, matchers: value.map((m) => compileMatcher(m, path)) });
    } else if (isObject(value)) {
      if (Object.keys(value).length === 0) throw invalid(`Empty objects are not allowed (${path})`);
      const nested = compileObject(value as Record<string, Json>, path);
      fields.push(...nested.fields);
    } else {
      throw invalid(`Match value must be String, number, true, false, or null (${path})`);
    }
  }
  return { fields };
}

function compileMatcher(m: Json, path: string): Matcher {
  if (m === null || typeof m === 'string' || typeof m === 'number' || typeof m === 'boolean') {
    return (v, present) => present && equalsValue(v, m);
  }
  if (!isObject(m)) throw invalid(`Match value must be String, number, true, false, or null (${path})`);
  const entries = Object.entries(m);
  if (entries.length !== 1) throw invalid(`Only one key allowed in match expression (${path})`);
  const [op, arg] = entries[0]!;
  switch (op) {
    case 'prefix':
      return stringTest(arg, path, op, (v, a) => v.startsWith(a), true);
    case 'suffix':
      return stringTest(arg, path, op, (v, a) => v.endsWith(a), true);
    case 'equals-ignore-case':
      return stringTest(arg, path, op, (v, a) => v.toLowerCase() === a.toLowerCase(), false);
    case 'wildcard': {
      if (typeof arg !== 'string') throw invalid(`wildcard match pattern must be a string (${path})`);
      const re = new RegExp(`^${arg.split('*').map(escapeRegExp).join('.*')}$`, 's');
      return (v, present) => present && typeof v === 'string' && re.test(v);
    }
    case 'exists':
      if (typeof arg !== 'boolean') throw invalid(`exists match pattern must be either true or false (${path})`);
      return (_v, present) => present === arg;
    case 'numeric':
      return compileNumeric(arg, path);
    case 'anything-but':
      return compileAnythingBut(arg, path);
    default:
      throw invalid(`Unrecognized match type ${op} (${path})`);
  }
}

function stringTest(arg: Json, path: string, op: string, test: (value: string, arg: string) => boolean, allowIgnoreCase: boolean): Matcher {
  if (typeof arg === 'string') return (v, present) => present && typeof v === 'string' && test(v, arg);
  if (allowIgnoreCase && isObject(arg)) {
    const inner = arg as Record<string, Json>;
    const folded = inner['equals-ignore-case'];
    if (Object.keys(inner).length === 1 && typeof folded === 'string') {
      return (v, present) => present && typeof v === 'string' && test(v.toLowerCase(), folded.toLowerCase());
    }
  }
  throw invalid(`${op} match pattern must be a string (${path})`);
}

const NUMERIC_OPS: Record<string, (a: number, b: number) => boolean> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '=': (a, b) => a === b,
  '>=': (a, b) => a >= b,
  '>': (a, b) => a > b,
};

function compileNumeric(arg: Json, path: string): Matcher {
  if (!Array.isArray(arg) || arg.length === 0 || arg.length % 2 !== 0 || arg.length > 4) {
    throw invalid(`Value of numeric must be an array of one or two comparisons (${path})`);
  }
  const tests: Array<(n: number) => boolean> = [];
  for (let i = 0; i < arg.length; i += 2) {
    const op = arg[i];
    const bound = arg[i + 1];
    if (typeof op !== 'string' || !(op in NUMERIC_OPS)) throw invalid(`Unrecognized numeric range operator: ${String(op)} (${path})`);
    if (typeof bound !== 'number') throw invalid(`Value of ${op} must be numeric (${path})`);
    tests.push((n) => NUMERIC_OPS[op]!(n, bound));
  }
  return (v, present) => present && typeof v === 'number' && tests.every((t) => t(v));
}

function compileAnythingBut(arg: Json, path: string): Matcher {
  if (typeof arg === 'string' || typeof arg === 'number') return (v, present) => present && v !== null && !equalsValue(v, arg);
  if (Array.isArray(arg)) {
    if (arg.length === 0 || !arg.every((a) => typeof a === 'string' || typeof a === 'number')) {
      throw invalid(`Inside anything but list, only strings or numbers are allowed (${path})`);
    }
    return (v, present) => present && v !== null && !arg.some((a) => equalsValue(v, a));
  }
  if (isObject(arg)) {
    const inner = compileMatcher(arg, path);
    return (v, present) => present && typeof v === 'string' && !inner(v, present);
  }
  throw invalid(`Value of anything-but must be an array or single string/number value (${path})`);
}

function matchCompiled(compiled: Compiled, event: Json): boolean {
  return compiled.fields.every((field) => {
    if ('or' in field) return field.or.some((sub) => matchCompiled(sub, event));
    const values = valuesAt(event, field.path.split('.'));
    if (values.length === 0) return field.matchers.some((m) => m(undefined, false));
    return values.some((v) => field.matchers.some((m) => m(v, true)));
  });
}

/** The leaf values at `path`, flattening arrays on the way, as EventBridge does. */
function valuesAt(node: Json | undefined, path: string[]): Json[] {
  if (node === undefined) return [];
  if (Array.isArray(node)) return node.flatMap((n) => valuesAt(n, path));
  if (path.length === 0) return [node];
  if (!isObject(node)) return [];
  const [head, ...rest] = path;
  const obj = node as Record<string, Json>;
  return Object.hasOwn(obj, head!) ? valuesAt(obj[head!], rest) : [];
}

function equalsValue(value: Json | undefined, expected: Json): boolean {
  return value === expected;
}

function isObject(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function invalid(reason: string): InvalidPatternError {
  return new InvalidPatternError(`Event pattern is not valid. Reason: ${reason}`);
}
