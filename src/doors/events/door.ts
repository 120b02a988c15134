import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { EventBridgeError, type EventBridge, type EventBridgeErrorKind } from '../../domain/eventbridge/eventbridge.js';
import { AuthenticationError } from '../../iam/auth/authentication-error.js';
import type { Identity } from '../../iam/identity.js';
import { BodyTooLargeError, readBody } from '../http/io.js';
import { EVENTS_OPERATIONS } from './operations.js';
import { EventsError } from './validate.js';

export const EVENTS_TARGET_PREFIX = 'AWSEvents.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
const MAX_REQUEST_BYTES = 1024 * 1024;

const FROM_DOMAIN: Record<EventBridgeErrorKind, string> = {
  NotFound: 'ResourceNotFoundException',
  AlreadyExists: 'ResourceAlreadyExistsException',
  Invalid: 'ValidationException',
  InvalidPattern: 'InvalidEventPatternException',
  LimitExceeded: 'LimitExceededException',
};

/** The EventBridge door: AWS JSON 1.1 over `POST /`, SigV4 service `events`, on the default event bus. */
export function createEventsDoor(identity: Identity, eventbridge: EventBridge, log: Logger) {
  return async function handleEvents(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    try {
      const body = await readBody(req, MAX_REQUEST_BYTES);
      const target = String(req.headers['x-amz-target'] ?? '');
      const name = target.slice(EVENTS_TARGET_PREFIX.length);
      const principal = await identity.authenticateSigV4(req, body, 'events');
      const operation = Object.hasOwn(EVENTS_OPERATIONS, name) ? EVENTS_OPERATIONS[name] : undefined;
      if (!operation) throw new EventsError('UnknownOperationException', `Unknown operation ${target}`);
      let input: unknown;
      try {
        input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
      } catch {
        throw new EventsError('SerializationException', 'Malformed JSON request body');
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new EventsError('SerializationException', 'Request body must be a JSON object');
      const output = await operation(input as Record<string, unknown>, {
        accountId: principal.account,
        region: eventbridge.region,
        eventbridge,
        authorize: async (action, resource) => {
          const decision = await identity.authorize(principal, `events:${action}`, resource, { 'aws:SourceIp': req.socket.remoteAddress });
          if (!decision.allowed) throw new EventsError('AccessDeniedException', decision.message);
        },
      });
      send(res, 200, output, requestId);
    } catch (err) {
      if (!req.readableEnded) req.resume();
      if (err instanceof EventsError) return send(res, err.status, { __type: err.type, message: err.message }, requestId, err.type);
      if (err instanceof EventBridgeError) {
        const type = FROM_DOMAIN[err.kind];
        return send(res, 400, { __type: type, message: err.message }, requestId, type);
      }
      if (err instanceof AuthenticationError) return send(res, err.status, { __type: err.code, message: err.message }, requestId, err.code);
      if (err instanceof BodyTooLargeError) return send(res, 413, { __type: 'ValidationException', message: err.message }, requestId, 'ValidationException');
      log.error({ err }, 'unexpected error in the EventBridge API');
      send(res, 500, { __type: 'InternalException', message: 'An internal error occurred.' }, requestId, 'InternalException');
    }
  };
}

function send(res: ServerResponse, status: number, body: unknown, requestId: string, errorType?: string): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = { 'Content-Type': CONTENT_TYPE, 'Content-Length': Buffer.byteLength(text), 'x-amzn-RequestId': requestId };
  if (errorType) headers['x-amzn-ErrorType'] = errorType;
  res.writeHead(status, headers);
  res.end(text);
}
