import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AuditTrail } from '../../domain/audit/audit-trail.js';
import { AuthenticationError } from '../../iam/auth/authentication-error.js';
import type { Identity } from '../../iam/identity.js';
import { BodyTooLargeError, readBody } from '../http/io.js';
import { requestRecord } from '../http/request-record.js';
import { lookupEvents } from './lookup-events.js';
import { CloudTrailError } from './errors.js';

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
      if (name !== 'LookupEvents') throw new CloudTrailError('UnknownOperationException', `Unknown operation ${target}`);
      const fields = input as Record<string, unknown>;
      record.audit = { eventSource: 'cloudtrail.amazonaws.com', eventName: name, readOnly: true, requestParameters: lowerCamel(fields), recipientAccountId: principal.account };
      const decision = await deps.identity.authorize(principal, 'cloudtrail:LookupEvents', '*', { 'aws:SourceIp': req.socket.remoteAddress });
      if (!decision.allowed) throw new CloudTrailError('AccessDeniedException', decision.message);
      send(200, await lookupEvents(deps.trail, fields));
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

/** Parameters as CloudTrail records them: lowerCamelCase member names. */
function lowerCamel(input: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(input).map(([k, v]) => [k.charAt(0).toLowerCase() + k.slice(1), v]));
}
