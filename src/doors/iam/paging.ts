import type { ActionResult } from './iam-actions.js';
import type { XmlValue } from './query-xml.js';
import { validationError } from './iam-error.js';

const DEFAULT_MAX_ITEMS = 100;
const MAX_MAX_ITEMS = 1000;

/**
 * IAM's `MaxItems`/`Marker` paging, applied to a list action's complete result (the one array
 * member next to `IsTruncated`). Markers are opaque to callers; here they encode the offset.
 */
export function paginate(result: ActionResult, params: URLSearchParams): ActionResult {
  if (!result || result.IsTruncated !== false) return result;
  const listKeys = Object.keys(result).filter((k) => Array.isArray(result[k]));
  // Results with several lists (ListEntitiesForPolicy) page themselves with `pageItems`.
  if (listKeys.length !== 1) return result;
  const listKey = listKeys[0]!;
  const items = result[listKey] as XmlValue[];
  const maxItems = parseMaxItems(params.get('MaxItems'));
  const start = parseMarker(params.get('Marker'), items.length);
  const end = Math.min(items.length, start + maxItems);
  const { IsTruncated: _, ...rest } = result;
  const page: NonNullable<ActionResult> = { ...rest, [listKey]: items.slice(start, end), IsTruncated: end < items.length };
  if (end < items.length) page.Marker = encodeMarker(end);
  return page;
}

function parseMaxItems(raw: string | null): number {
  if (raw === null || raw === '') return DEFAULT_MAX_ITEMS;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw validationError(`1 validation error detected: Value '${raw.slice(0, 20)}' at 'maxItems' failed to satisfy constraint: Member must be an integer`);
  if (n < 1) throw validationError(`1 validation error detected: Value '${n}' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1`);
  if (n > MAX_MAX_ITEMS) throw validationError(`1 validation error detected: Value '${n}' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000`);
  return n;
}

function encodeMarker(offset: number): string {
  return Buffer.from(`berth-iam-offset:${offset}`).toString('base64url');
}

function parseMarker(raw: string | null, total: number): number {
  if (raw === null || raw === '') return 0;
  const m = /^berth-iam-offset:(\d{1,9})$/.exec(Buffer.from(raw, 'base64url').toString('utf8'));
  if (!m || Number(m[1]) > total) throw validationError('Invalid Marker.');
  return Number(m[1]);
}

/** One page of `items` by the request's MaxItems and Marker, for results that hold several lists. */
export function pageItems<T>(items: T[], params: URLSearchParams): { items: T[]; truncated: boolean; marker?: string } {
  const maxItems = parseMaxItems(params.get('MaxItems'));
  const start = parseMarker(params.get('Marker'), items.length);
  const end = Math.min(items.length, start + maxItems);
  return end < items.length ? { items: items.slice(start, end), truncated: true, marker: encodeMarker(end) } : { items: items.slice(start, end), truncated: false };
}
