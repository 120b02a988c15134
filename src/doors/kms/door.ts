import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { KmsError } from '../../domain/kms/errors.js';
import type { Kms } from '../../domain/kms/kms.js';
import { AuthenticationError } from '../../iam/auth/authentication-error.js';
import type { Identity } from '../../iam/identity.js';
import { BodyTooLargeError, readBody } from '../http/io.js';
import { KMS_OPERATIONS, READ_ONLY, type KmsContext } from './operations.js';

export const KMS_TARGET_PREFIX = 'TrentService.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
const MAX_REQUEST_BYTES = 1024 * 1024;

export interface KmsDoorDeps {
  identity: Identity;
  kms: Kms;
  region: string;
  log: Logger;
}

/** The KMS door: AWS JSON 1.1 over `POST /` with X-Amz-Target `TrentService.*`, SigV4 service `kms`. */
export function createKmsDoor(deps: KmsDoorDeps) {
  const { identity, kms, region, log } = deps;
  return async function handleKms(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    try {
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = await readBody(req, MAX_REQUEST_BYTES);
      const name = target.slice(KMS_TARGET_PREFIX.length);
      const operation = Object.hasOwn(KMS_OPERATIONS, name) ? KMS_OPERATIONS[name] : undefined;
      const principal = await identity.authenticateSigV4(req, body, 'kms');
      if (!operation) throw new KmsError('UnknownOperationException', `Unknown operation ${target}`);
      let input: unknown;
      try {
        input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
      } catch {
        throw new KmsError('SerializationException', 'Malformed JSON request body');
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new KmsError('SerializationException', 'Request body must be a JSON object');
      const context = { 'aws:SourceIp': req.socket.remoteAddress, 'kms:CallerAccount': principal.account };
      const ctx: KmsContext = {
        principal,
        scope: { accountId: principal.account, region },
        kms,
        async authorize(action, resourceArn) {
          const decision = await identity.authorize(principal, action, resourceArn, context);
          if (!decision.allowed) throw new KmsError('AccessDeniedException', decision.message);
        },
        async wouldAllow(action, keyArn, policyText) {
          if (!identity.authorizeUnderKeyPolicy) return true;
          return (await identity.authorizeUnderKeyPolicy(principal, action, keyArn, policyText)).allowed;
        },
      };
      try {
        send(res, 200, await operation(input as Record<string, unknown>, ctx), requestId);
      } finally {
        if (!READ_ONLY.test(name)) identity.resourcesChanged?.();
      }
    } catch (err) {
      if (!req.readableEnded) req.resume();
      if (err instanceof KmsError) {
        send(res, err.status, { __type: err.type, message: err.message }, requestId, err.type);
      } else if (err instanceof AuthenticationError) {
        send(res, err.status, { __type: err.code, message: err.message }, requestId, err.code);
      } else if (err instanceof BodyTooLargeError) {
        send(res, 413, { __type: 'ValidationException', message: err.message }, requestId, 'ValidationException');
      } else {
        log.error({ err }, 'unexpected error in the KMS API');
        send(res, 500, { __type: 'KMSInternalException', message: 'An internal error occurred.' }, requestId, 'KMSInternalException');
      }
    }
  };
}

function send(res: ServerResponse, status: number, body: unknown, requestId: string, errorType?: string): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = {
    'Content-Type': CONTENT_TYPE,
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': requestId,
  };
  if (errorType) headers['x-amzn-ErrorType'] = errorType;
  res.writeHead(status, headers);
  res.end(text);
}
