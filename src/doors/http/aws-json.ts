import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { AuthenticationError } from '../../iam/auth/authentication-error.js';
import { BodyTooLargeError } from './io.js';

const CONTENT_TYPE = 'application/x-amz-json-1.1';

/** An AWS exception as the JSON 1.1 protocol carries it. */
export interface AwsJsonFault {
  status: number;
  type: string;
  message: string;
  extra?: Record<string, unknown>;
}

/** Writes an AWS JSON 1.1 response; an error names its type in `x-amzn-ErrorType` too. */
export function sendAwsJson(res: ServerResponse, status: number, body: unknown, requestId: string, errorType?: string): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = { 'Content-Type': CONTENT_TYPE, 'Content-Length': Buffer.byteLength(text), 'x-amzn-RequestId': requestId };
  if (errorType) headers['x-amzn-ErrorType'] = errorType;
  res.writeHead(status, headers);
  res.end(text);
}

export interface FailureOptions {
  /** The door's own exceptions as faults; undefined for anything else. */
  fault(err: unknown): AwsJsonFault | undefined;
  /** The service's exception for an internal error, e.g. ServerException. */
  internalType: string;
  /** The API's name, for the log line of an internal error. */
  api: string;
  log: Logger;
}

/**
 * Answers a failed request: the door's own exception, a credential failure, a body over the limit,
 * or else an internal error (logged, never described to the caller). Returns what was sent.
 */
export function sendAwsJsonFailure(req: IncomingMessage, res: ServerResponse, err: unknown, requestId: string, opts: FailureOptions): AwsJsonFault {
  if (!req.readableEnded) req.resume();
  let fault = opts.fault(err);
  if (!fault && err instanceof AuthenticationError) fault = { status: err.status, type: err.code, message: err.message };
  if (!fault && err instanceof BodyTooLargeError) fault = { status: 413, type: 'ValidationException', message: err.message };
  if (!fault) {
    opts.log.error({ err }, `unexpected error in the ${opts.api} API`);
    fault = { status: 500, type: opts.internalType, message: 'An internal error occurred.' };
  }
  sendAwsJson(res, fault.status, { __type: fault.type, message: fault.message, ...fault.extra }, requestId, fault.type);
  return fault;
}
