import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { EventBridgeError, type EventBridge, type EventBridgeErrorKind } from '../../domain/eventbridge/eventbridge.js';
import type { Identity } from '../../iam/identity.js';
import { readBody } from '../http/io.js';
import { requestRecord, type AuditReport } from '../http/request-record.js';
import { EVENTS_NOT_OFFERED, EVENTS_OPERATIONS } from './operations.js';
import { EventsError } from './validate.js';
import { sendAwsJson, sendAwsJsonFailure, type AwsJsonFault } from '../http/aws-json.js';
import { connectionConditionKeys } from '../http/condition-keys.js';

export const EVENTS_TARGET_PREFIX = 'AWSEvents.';
const MAX_REQUEST_BYTES = 1024 * 1024;

const FROM_DOMAIN: Record<EventBridgeErrorKind, string> = {
  NotFound: 'ResourceNotFoundException',
  AlreadyExists: 'ResourceAlreadyExistsException',
  Invalid: 'ValidationException',
  InvalidPattern: 'InvalidEventPatternException',
  LimitExceeded: 'LimitExceededException',
};

function eventsFault(err: unknown): AwsJsonFault | undefined {
  if (err instanceof EventsError) return { status: err.status, type: err.type, message: err.message };
  if (err instanceof EventBridgeError) return { status: 400, type: FROM_DOMAIN[err.kind], message: err.message };
  return undefined;
}

const READ_ONLY_OPERATION = /^(Describe|List|Test)/;
const CHANGES_TAGS = new Set(['TagResource', 'UntagResource', 'PutRule', 'DeleteRule']);

/** The EventBridge door: AWS JSON 1.1 over `POST /`, SigV4 service `events`, on the default event bus. */
export function createEventsDoor(identity: Identity, eventbridge: EventBridge, log: Logger) {
  return async function handleEvents(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const record = requestRecord(req);
    const requestId = record.id;
    record.door = 'events';
    try {
      const body = await readBody(req, MAX_REQUEST_BYTES);
      const target = String(req.headers['x-amz-target'] ?? '');
      const name = target.slice(EVENTS_TARGET_PREFIX.length);
      record.action = name || target;
      const principal = await identity.authenticateSigV4(req, body, 'events');
      record.principal = principal;
      const operation = Object.hasOwn(EVENTS_OPERATIONS, name) ? EVENTS_OPERATIONS[name] : undefined;
      if (!operation && Object.hasOwn(EVENTS_NOT_OFFERED, name)) throw new EventsError('OperationDisabledException', `${name}: ${EVENTS_NOT_OFFERED[name]}`);
      if (!operation) throw new EventsError('UnknownOperationException', `Unknown operation ${target}`);
      let input: unknown;
      try {
        input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
      } catch {
        throw new EventsError('SerializationException', 'Malformed JSON request body');
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new EventsError('SerializationException', 'Request body must be a JSON object');
      const readOnly = READ_ONLY_OPERATION.test(name);
      // Connection credentials (AuthParameters) are hidden by the trail, as CloudTrail hides them.
      const audit: AuditReport = { eventSource: 'events.amazonaws.com', eventName: name, readOnly, requestParameters: input as Record<string, unknown> };
      record.audit = audit;
      const output = await operation(input as Record<string, unknown>, {
        accountId: principal.account,
        region: eventbridge.region,
        eventbridge,
        authorize: async (action, resource, context) => {
          const decision = await identity.authorize(principal, action.includes(':') ? action : `events:${action}`, resource, { ...connectionConditionKeys(req), ...context });
          if (!decision.allowed) throw new EventsError('AccessDeniedException', decision.message);
        },
      });
      if (!readOnly) audit.responseElements = output;
      // Tags take part in policy decisions: the next request must see them.
      if (CHANGES_TAGS.has(name)) identity.resourcesChanged?.();
      sendAwsJson(res, 200, output, requestId);
    } catch (err) {
      const fault = sendAwsJsonFailure(req, res, err, requestId, { fault: eventsFault, internalType: 'InternalException', api: 'EventBridge', log });
      record.errorCode = fault.type;
      record.errorMessage = fault.message;
    }
  };
}

