import type { AuditTrail } from '../../domain/audit/audit-trail.js';
import type { AuditAttribute, AuditRow } from '../../store/meta/audit-store.js';
import { CloudTrailError } from './errors.js';

/** LookupAttributeKey (botocore cloudtrail 2013-11-01) → the trail's column. */
const ATTRIBUTES: Record<string, AuditAttribute> = {
  EventId: 'eventId',
  EventName: 'eventName',
  ReadOnly: 'readOnly',
  Username: 'username',
  ResourceType: 'resourceType',
  ResourceName: 'resourceName',
  EventSource: 'eventSource',
  AccessKeyId: 'accessKeyId',
};
const MAX_RESULTS = 50;

/** A JSON 1.1 timestamp: epoch seconds (a number), or an ISO 8601 string. */
function timestamp(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ms = typeof value === 'number' ? value * 1000 : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) throw new CloudTrailError('SerializationException', `${name} is not a valid timestamp`);
  return ms;
}

function attribute(input: unknown): { key: AuditAttribute; value: string } | undefined {
  if (input === undefined || input === null) return undefined;
  if (!Array.isArray(input)) throw new CloudTrailError('SerializationException', 'LookupAttributes must be a list');
  if (input.length === 0) return undefined;
  if (input.length > 1) throw new CloudTrailError('InvalidLookupAttributesException', 'You can only specify one lookup attribute.');
  const { AttributeKey: key, AttributeValue: value } = (input[0] ?? {}) as Record<string, unknown>;
  if (typeof key !== 'string' || !Object.hasOwn(ATTRIBUTES, key)) {
    throw new CloudTrailError('InvalidLookupAttributesException', `Lookup attribute key ${String(key)} is not valid. Valid keys: ${Object.keys(ATTRIBUTES).join(', ')}.`);
  }
  if (typeof value !== 'string' || value.length < 1 || value.length > 2000) {
    throw new CloudTrailError('InvalidLookupAttributesException', 'AttributeValue must be a string of 1 to 2000 characters.');
  }
  return { key: ATTRIBUTES[key]!, value };
}

function encodeToken(row: AuditRow): string {
  return Buffer.from(JSON.stringify([row.eventTime, row.eventId])).toString('base64url');
}

function decodeToken(token: unknown): { eventTime: number; eventId: string } | undefined {
  if (token === undefined || token === null) return undefined;
  try {
    if (typeof token !== 'string') throw new Error('not a string');
    const [eventTime, eventId] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof eventTime !== 'number' || typeof eventId !== 'string') throw new Error('bad token');
    return { eventTime, eventId };
  } catch {
    throw new CloudTrailError('InvalidNextTokenException', 'Invalid NextToken.');
  }
}

/** LookupEvents: the audit trail newest first, one attribute, a time range, pages of up to 50. */
export async function lookupEvents(trail: AuditTrail, input: Record<string, unknown>): Promise<Record<string, unknown>> {
  const attr = attribute(input.LookupAttributes);
  const start = timestamp(input.StartTime, 'StartTime');
  const end = timestamp(input.EndTime, 'EndTime');
  if (start !== undefined && end !== undefined && start > end) throw new CloudTrailError('InvalidTimeRangeException', 'Start time must not be after end time.');
  const max = input.MaxResults ?? MAX_RESULTS;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > MAX_RESULTS) {
    throw new CloudTrailError('InvalidMaxResultsException', `MaxResults must be between 1 and ${MAX_RESULTS}.`);
  }
  const after = decodeToken(input.NextToken);
  if (input.EventCategory !== undefined && input.EventCategory !== null) {
    if (input.EventCategory !== 'insight') throw new CloudTrailError('InvalidEventCategoryException', 'EventCategory must be insight.');
    // berth records management events only; there are no Insights events to find.
    return { Events: [] };
  }
  const rows = await trail.lookup({ attribute: attr, start, end, after, limit: max + 1 });
  const page = rows.slice(0, max);
  return {
    Events: page.map((r) => ({
      EventId: r.eventId,
      EventName: r.eventName,
      ReadOnly: String(r.readOnly),
      ...(r.accessKeyId ? { AccessKeyId: r.accessKeyId } : {}),
      EventTime: r.eventTime / 1000,
      EventSource: r.eventSource,
      ...(r.username ? { Username: r.username } : {}),
      Resources: r.resourceType ? [{ ResourceType: r.resourceType, ResourceName: r.resourceName }] : [],
      CloudTrailEvent: r.record,
    })),
    ...(rows.length > max ? { NextToken: encodeToken(page[page.length - 1]!) } : {}),
  };
}
