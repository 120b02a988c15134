import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { readBody } from '../http/io.js';
import { requestRecord, type AuditReport } from '../http/request-record.js';
import { publicNamespace } from '../../domain/registry/names.js';
import { RegistryError } from '../../domain/registry/errors.js';
import { makeEcrPublicContext, type EcrPublicContextDeps } from './context.js';
import { EcrPublicError } from './errors.js';
import { LOGO_PATH_PREFIX, sendLogo } from './logos.js';
import { SIGNING_NAME, TARGET_PREFIX } from './model.js';
import { OPERATIONS } from './operations/index.js';
import { toEcrPublicError } from './registry-errors.js';
import { validateInput } from './validate.js';
import { sendAwsJson, sendAwsJsonFailure } from '../http/aws-json.js';

/** A 20 MiB layer part, base64-encoded, with room for the rest of the request. */
const MAX_REQUEST_BYTES = 32 * 1024 * 1024;
const READ_ONLY_OPERATION = /^(Describe|List|Get|BatchCheck)/;

/** Whether a request is for ECR Public: its JSON 1.1 API, or a repository logo it serves. */
export function isEcrPublicRequest(req: IncomingMessage, url: URL): boolean {
  if (req.method === 'POST' && url.pathname === '/') return String(req.headers['x-amz-target'] ?? '').startsWith(TARGET_PREFIX);
  return (req.method === 'GET' || req.method === 'HEAD') && url.pathname.startsWith(LOGO_PATH_PREFIX);
}

/**
 * The ECR Public door: AWS JSON 1.1 over `POST /`, SigV4-signed for `ecr-public`, dispatched by
 * X-Amz-Target (`SpencerFrontendService.<Operation>`); and the repository logos its catalog data names.
 */
export function createEcrPublicDoor(deps: EcrPublicContextDeps, log: Logger) {
  return async function handleEcrPublic(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method !== 'POST') return sendLogo(deps.registry, req, res, url);
    const record = requestRecord(req);
    const requestId = record.id;
    record.door = 'ecr-public';
    try {
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = await readBody(req, MAX_REQUEST_BYTES);
      const name = target.slice(TARGET_PREFIX.length);
      record.action = name || target;
      const operation = Object.hasOwn(OPERATIONS, name) ? OPERATIONS[name] : undefined;
      const principal = await deps.identity.authenticateSigV4(req, body, SIGNING_NAME);
      record.principal = principal;
      if (!operation) throw new EcrPublicError('UnknownOperationException', `Unknown operation ${target}`);
      let input: unknown;
      try {
        input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
      } catch {
        throw new EcrPublicError('SerializationException', 'Malformed JSON request body');
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) {
        throw new EcrPublicError('SerializationException', 'Request body must be a JSON object');
      }
      const fields = validateInput(name, input as Record<string, unknown>);
      const readOnly = READ_ONLY_OPERATION.test(name);
      if (typeof fields.repositoryName === 'string') {
        record.repository = fields.repositoryName;
        record.usedRepository = { registryId: publicNamespace(principal.account), name: fields.repositoryName };
      }
      const audit: AuditReport = { eventSource: 'ecr-public.amazonaws.com', eventName: name, readOnly, requestParameters: fields };
      record.audit = audit;
      let output: Record<string, unknown>;
      try {
        output = await operation(fields, makeEcrPublicContext(deps, req, principal));
      } catch (err) {
        if (!(err instanceof RegistryError)) throw err;
        throw toEcrPublicError(err);
      } finally {
        if (!READ_ONLY_OPERATION.test(name)) deps.identity.resourcesChanged?.();
      }
      if (!readOnly) audit.responseElements = output;
      sendAwsJson(res, 200, output, requestId);
    } catch (err) {
      const fault = sendAwsJsonFailure(req, res, err, requestId, {
        fault: (e) => (e instanceof EcrPublicError ? { status: e.status, type: e.type, message: e.message, extra: e.extra } : undefined),
        internalType: 'ServerException',
        api: 'ECR Public',
        log,
      });
      record.errorCode = fault.type;
      record.errorMessage = fault.message;
    }
  };
}

