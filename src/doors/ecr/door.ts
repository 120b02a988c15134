import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { BodyTooLargeError, readBody } from '../http/io.js';
import { requestRecord, type AuditReport } from '../http/request-record.js';
import { AuthenticationError } from '../../iam/auth/authentication-error.js';
import type { Identity } from '../../iam/identity.js';
import { asRegistryError } from '../../domain/registry/errors.js';
import { EcrError } from './errors.js';
import { modelledMembers, validateAgainstModel } from './model-validate.js';
import { toEcrError } from './registry-errors.js';
import type { EcrContext, EcrOperations } from './operation.js';
import { sendAwsJson } from '../http/aws-json.js';

export const TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921.';
const MAX_REQUEST_BYTES = 64 * 1024 * 1024;
const READ_ONLY_OPERATION = /^(Describe|List|Get|BatchGet|BatchCheck)/;

export type EcrContextFactory = (req: IncomingMessage, principal: EcrContext['principal'], input: Record<string, unknown>) => EcrContext;

/** The ECR door: AWS JSON 1.1 over `POST /`, SigV4-authenticated, dispatched by X-Amz-Target. */
export function createEcrDoor(identity: Identity, operations: EcrOperations, makeContext: EcrContextFactory, log: Logger) {
  return async function handleEcr(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const record = requestRecord(req);
    const requestId = record.id;
    record.door = 'ecr';
    try {
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = await readBody(req, MAX_REQUEST_BYTES);
      const name = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
      const operation = Object.hasOwn(operations, name) ? operations[name] : undefined;
      record.action = name || target;
      const principal = await identity.authenticateSigV4(req, body, 'ecr');
      record.principal = principal;
      if (!operation) throw new EcrError('UnknownOperationException', `Unknown operation ${target}`);
      let input: unknown;
      try {
        input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
      } catch {
        throw new EcrError('SerializationException', 'Malformed JSON request body');
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) {
        throw new EcrError('SerializationException', 'Request body must be a JSON object');
      }
      validateAgainstModel(name, input as Record<string, unknown>);
      const fields = modelledMembers(name, input as Record<string, unknown>);
      if (typeof fields.repositoryName === 'string') record.repository = fields.repositoryName;
      const ctx = makeContext(req, principal, fields);
      if (typeof fields.repositoryName === 'string') record.usedRepository = { registryId: ctx.registryId, name: fields.repositoryName };
      const readOnly = READ_ONLY_OPERATION.test(name);
      const audit: AuditReport = { eventSource: 'ecr.amazonaws.com', eventName: name, readOnly, requestParameters: fields, recipientAccountId: ctx.registryId };
      record.audit = audit;
      let output: Record<string, unknown>;
      try {
        output = await operation(fields, ctx);
      } catch (err) {
        const domainError = asRegistryError(err);
        if (!domainError) throw err;
        throw toEcrError(domainError, { repositoryName: String(fields.repositoryName ?? ''), registryId: ctx.registryId });
      } finally {
        if (!readOnly) identity.resourcesChanged?.();
      }
      if (!readOnly) audit.responseElements = output;
      sendAwsJson(res, 200, output, requestId);
    } catch (err) {
      if (!req.readableEnded) req.resume();
      if (err instanceof EcrError || err instanceof AuthenticationError) {
        record.errorCode = err instanceof EcrError ? err.type : err.code;
        record.errorMessage = err.message;
      }
      if (err instanceof EcrError) {
        sendAwsJson(res, err.status, { __type: err.type, message: err.message, ...err.extra }, requestId, err.type);
      } else if (err instanceof AuthenticationError) {
        // ECR answers every credential failure, a missing signature included, with a 400.
        sendAwsJson(res, 400, { __type: err.code, message: err.message }, requestId, err.code);
      } else if (err instanceof BodyTooLargeError) {
        record.errorCode = 'ValidationException';
        sendAwsJson(res, 413, { __type: 'ValidationException', message: err.message }, requestId, 'ValidationException');
      } else {
        log.error({ err }, 'unexpected error in the ECR API');
        record.errorCode = 'ServerException';
        sendAwsJson(res, 500, { __type: 'ServerException', message: 'An internal error occurred.' }, requestId, 'ServerException');
      }
    }
  };
}

