/**
 * Wildcards (`*`, `?`) and policy variables (`${aws:username}`, `${key, 'default'}`, `${*}`).
 *
 * A policy string is first resolved into an "escaped glob": policy text keeps `*` and `?` as
 * wildcards, while text that came from a variable (or `${*}`, `${?}`, `${$}`) is escaped with a
 * backslash so that it only ever matches literally.
 */
import type { RequestContext } from './context.js';
import type { PolicyVersion } from './types.js';

const VARIABLE = /\$\{([^}]*)\}/g;
const SPECIAL_VARIABLES: Record<string, string> = { '*': '*', '?': '?', '$': '$' };
const VARIABLE_WITH_DEFAULT = /^\s*([^,\s]+)\s*,\s*'([^']*)'\s*$/;

function escapeGlob(text: string): string {
  return text.replace(/[\\*?]/g, (c) => '\\' + c);
}

/** Escape backslashes only: policy text keeps its wildcards. */
function escapeBackslashes(text: string): string {
  return text.replace(/\\/g, '\\\\');
}

/**
 * Resolve policy variables in `text`. Returns the escaped glob, or `null` when a variable
 * names a key missing from the context and has no default (the value then matches nothing).
 * Policy variables exist only in Version 2012-10-17; in 2008-10-17 `${...}` is plain text.
 */
export function resolvePattern(text: string, context: RequestContext, version: PolicyVersion): string | null {
  if (version !== '2012-10-17' || !text.includes('${')) return escapeBackslashes(text);
  let out = '';
  let last = 0;
  for (const match of text.matchAll(VARIABLE)) {
    const index = match.index ?? 0;
    out += escapeBackslashes(text.slice(last, index));
    last = index + match[0].length;
    const body = match[1] ?? '';
    const special = SPECIAL_VARIABLES[body.trim()];
    if (special !== undefined) {
      out += escapeGlob(special);
      continue;
    }
    const withDefault = VARIABLE_WITH_DEFAULT.exec(body);
    const key = withDefault ? withDefault[1]! : body.trim();
    const value = context.getSingle(key) ?? withDefault?.[2];
    if (value === undefined) return null;
    out += escapeGlob(value);
  }
  return out + escapeBackslashes(text.slice(last));
}

/** The literal text an escaped glob stands for (for exact comparisons). */
export function globLiteral(glob: string): string {
  return glob.replace(/\\(.)/gs, '$1');
}

const regexCache = new Map<string, RegExp>();
const REGEX_CACHE_LIMIT = 5000;

export function globToRegExp(glob: string, ignoreCase: boolean): RegExp {
  const cacheKey = (ignoreCase ? 'i' : 's') + glob;
  const cached = regexCache.get(cacheKey);
  if (cached) return cached;
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '\\' && i + 1 < glob.length) {
      source += escapeRegExp(glob[++i]!);
    } else if (c === '*') {
      source += '.*';
    } else if (c === '?') {
      source += '.';
    } else {
      source += escapeRegExp(c);
    }
  }
  const regex = new RegExp('^' + source + '$', ignoreCase ? 'is' : 's');
  if (regexCache.size >= REGEX_CACHE_LIMIT) regexCache.clear();
  regexCache.set(cacheKey, regex);
  return regex;
}

function escapeRegExp(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? '\\' + c : c;
}

export function globMatch(glob: string, value: string, ignoreCase = false): boolean {
  return globToRegExp(glob, ignoreCase).test(value);
}

/** Split an escaped glob on unescaped `sep`, at most `limit` parts (the last keeps the rest). */
export function splitGlob(glob: string, sep: string, limit: number): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '\\' && i + 1 < glob.length) {
      current += c + glob[++i]!;
    } else if (c === sep && parts.length < limit - 1) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}
