import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AuditTrail } from '../../domain/audit/audit-trail.js';
import { AuthenticationError } from '../../iam/auth/authentication-error.js';
import type { Identity } from '../../iam/identity.js';
import { BodyTooLargeError, readBody } from '../http/io.js';
import { requestRecord } from '../http/request-record.js';
import { lookupEvents } from './lookup-events.js';
import { CloudTrailError } from './errors.js';
import { connectionConditionKeys } from '../http/condition-keys.js';

export const CLOUDTRAIL_TARGET_PREFIX = 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
const MAX_REQUEST_BYTES = 1024 * 1024;

export interface CloudTrailDoorDeps {
  identity: Identity;
  trail: AuditTrail;
  log: Logger;
}

/** CloudTrail's JSON 1.1 API on `POST /` (X-Amz-Target com.amazonaws.cloudtrail…): LookupEvents over berth's audit trail. */
export function createCloudTrailDoor(deps: CloudTrailDoorDeps) {
  return async function handleCloudTrail(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const record = requestRecord(req);
    record.door = 'cloudtrail';
    const send = (status: number, body: unknown, errorType?: string) => {
      const text = JSON.stringify(body);
      const headers: Record<string, string | number> = { 'Content-Type': CONTENT_TYPE, 'Content-Length': Buffer.byteLength(text), 'x-amzn-RequestId': record.id };
      if (errorType) headers['x-amzn-ErrorType'] = errorType;
      res.writeHead(status, headers);
      res.end(text);
    };
    try {
      const target = String(req.headers['x-amz-target'] ?? '');
      const name = target.slice(CLOUDTRAIL_TARGET_PREFIX.length);
      record.action = name;
      const body = await readBody(req, MAX_REQUEST_BYTES);
      const principal = await deps.identity.authenticateSigV4(req, body, 'cloudtrail');
      record.principal = principal;
      let input: unknown;
      try {
        input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
      } catch {
        throw new CloudTrailError('SerializationException', 'Malformed JSON request body');
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new CloudTrailError('SerializationException', 'Request body must be a JSON object');
      const operation = Object.hasOwn(OPERATIONS, name) ? OPERATIONS[name]! : undefined;
      if (!operation && UNSUPPORTED.has(name)) {
        throw new CloudTrailError('UnsupportedOperationException', `${name} is not supported: berth keeps CloudTrail's event history (LookupEvents); trails, event data stores, channels and queries are not offered`);
      }
      if (!operation) throw new CloudTrailError('UnknownOperationException', `Unknown operation ${target}`);
      const fields = input as Record<string, unknown>;
      record.audit = { eventSource: 'cloudtrail.amazonaws.com', eventName: name, readOnly: true, requestParameters: lowerCamel(fields), recipientAccountId: principal.account };
      const decision = await deps.identity.authorize(principal, `cloudtrail:${name}`, '*', connectionConditionKeys(req));
      if (!decision.allowed) throw new CloudTrailError('AccessDeniedException', decision.message);
      send(200, await operation(fields, deps.trail, principal.account));
    } catch (err) {
      if (!req.readableEnded) req.resume();
      if (err instanceof CloudTrailError) {
        record.errorCode = err.type;
        record.errorMessage = err.message;
        return send(err.status, { __type: err.type, message: err.message }, err.type);
      }
      if (err instanceof AuthenticationError) {
        record.errorCode = err.code;
        record.errorMessage = err.message;
        return send(err.status, { __type: err.code, message: err.message }, err.code);
      }
      if (err instanceof BodyTooLargeError) {
        record.errorCode = 'ValidationException';
        return send(413, { __type: 'ValidationException', message: err.message }, 'ValidationException');
      }
      deps.log.error({ err }, 'unexpected error in the CloudTrail API');
      record.errorCode = 'InternalFailure';
      send(500, { __type: 'InternalFailure', message: 'An internal error occurred.' }, 'InternalFailure');
    }
  };
}

type Operation = (fields: Record<string, unknown>, trail: AuditTrail, account: string) => Promise<Record<string, unknown>>;

/**
 * What berth answers: the event history, and the trails, of which there are none (the event
 * history is kept without one, as on AWS).
 */
const OPERATIONS: Record<string, Operation> = {
  LookupEvents: (fields, trail) => lookupEvents(trail, fields),
  async DescribeTrails(fields) {
    const names = fields.trailNameList;
    if (names !== undefined && (!Array.isArray(names) || names.some((n) => typeof n !== 'string'))) {
      throw new CloudTrailError('SerializationException', 'trailNameList must be a list of strings');
    }
    if (fields.includeShadowTrails !== undefined && typeof fields.includeShadowTrails !== 'boolean') {
      throw new CloudTrailError('SerializationException', 'includeShadowTrails must be a boolean');
    }
    return { trailList: [] };
  },
  async ListTrails(fields) {
    if (fields.NextToken !== undefined) throw new CloudTrailError('InvalidNextTokenException', 'Invalid NextToken');
    return { Trails: [] };
  },
  GetTrail: async (fields, _trail, account) => noSuchTrail(fields, account),
  GetTrailStatus: async (fields, _trail, account) => noSuchTrail(fields, account),
};

const TRAIL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{2,127}$/;
const TRAIL_ARN = /^arn:aws:cloudtrail:[a-z0-9-]+:\d{12}:trail\/[A-Za-z0-9][A-Za-z0-9._-]{2,127}$/;

function noSuchTrail(fields: Record<string, unknown>, account: string): never {
  const name = fields.Name;
  if (typeof name !== 'string' || !(TRAIL_NAME.test(name) || TRAIL_ARN.test(name))) {
    throw new CloudTrailError(
      'InvalidTrailNameException',
      'Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), hyphens (-), and underscores (_).',
    );
  }
  throw new CloudTrailError('TrailNotFoundException', `Unknown trail: ${name} for the user: ${account}`);
}

/** CloudTrail's other operations: real ones, answered as unsupported rather than unknown. */
const UNSUPPORTED = new Set([
  'AddTags', 'CancelQuery', 'CreateChannel', 'CreateDashboard', 'CreateEventDataStore', 'CreateTrail', 'DeleteChannel', 'DeleteDashboard',
  'DeleteEventDataStore', 'DeleteResourcePolicy', 'DeleteTrail', 'DeregisterOrganizationDelegatedAdmin', 'DescribeQuery', 'DisableFederation',
  'EnableFederation', 'GenerateQuery', 'GetChannel', 'GetDashboard', 'GetEventConfiguration', 'GetEventDataStore', 'GetEventSelectors', 'GetImport',
  'GetInsightSelectors', 'GetQueryResults', 'GetResourcePolicy', 'ListChannels', 'ListDashboards', 'ListEventDataStores', 'ListImportFailures',
  'ListImports', 'ListInsightsMetricData', 'ListPublicKeys', 'ListQueries', 'ListTags', 'PutEventConfiguration', 'PutEventSelectors',
  'PutInsightSelectors', 'PutResourcePolicy', 'RegisterOrganizationDelegatedAdmin', 'RemoveTags', 'RestoreEventDataStore', 'SearchSampleQueries',
  'StartDashboardRefresh', 'StartEventDataStoreIngestion', 'StartImport', 'StartLogging', 'StartQuery', 'StopEventDataStoreIngestion', 'StopImport',
  'StopLogging', 'UpdateChannel', 'UpdateDashboard', 'UpdateEventDataStore', 'UpdateTrail',
]);

/** Parameters as CloudTrail records them: lowerCamelCase member names. */
function lowerCamel(input: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(input).map(([k, v]) => [k.charAt(0).toLowerCase() + k.slice(1), v]));
}
