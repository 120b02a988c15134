import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { KmsError } from '../../domain/kms/errors.js';
import type { Kms } from '../../domain/kms/kms.js';
import type { Identity } from '../../iam/identity.js';
import { readBody } from '../http/io.js';
import { requestRecord, type AuditReport } from '../http/request-record.js';
import { DRY_RUN_OPERATIONS, KMS_OPERATIONS, KMS_UNSUPPORTED, READ_ONLY, type KmsContext } from './operations.js';
import { sendAwsJson, sendAwsJsonFailure } from '../http/aws-json.js';
import { connectionConditionKeys } from '../http/condition-keys.js';

export const KMS_TARGET_PREFIX = 'TrentService.';
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
    const record = requestRecord(req);
    const requestId = record.id;
    record.door = 'kms';
    try {
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = await readBody(req, MAX_REQUEST_BYTES);
      const name = target.slice(KMS_TARGET_PREFIX.length);
      record.action = name || target;
      const operation = Object.hasOwn(KMS_OPERATIONS, name) ? KMS_OPERATIONS[name] : undefined;
      const principal = await identity.authenticateSigV4(req, body, 'kms');
      record.principal = principal;
      if (!operation && Object.hasOwn(KMS_UNSUPPORTED, name)) throw new KmsError('UnsupportedOperationException', `${name} is not supported: ${KMS_UNSUPPORTED[name]}`);
      if (!operation) throw new KmsError('UnknownOperationException', `Unknown operation ${target}`);
      let input: unknown;
      try {
        input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
      } catch {
        throw new KmsError('SerializationException', 'Malformed JSON request body');
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new KmsError('SerializationException', 'Request body must be a JSON object');
      const readOnly = READ_ONLY.test(name);
      // CloudTrail records neither plaintext nor ciphertext of KMS calls (the trail redacts them).
      const audit: AuditReport = { eventSource: 'kms.amazonaws.com', eventName: name, readOnly, requestParameters: input as Record<string, unknown> };
      record.audit = audit;
      const context = { ...connectionConditionKeys(req), 'kms:CallerAccount': principal.account };
      const ctx: KmsContext = {
        principal,
        scope: { accountId: principal.account, region },
        kms,
        async authorize(action, resourceArn, requestContext) {
          const decision = await identity.authorize(principal, action, resourceArn, { ...context, ...requestContext });
          if (!decision.allowed) throw new KmsError('AccessDeniedException', decision.message);
        },
        async wouldAllow(action, keyArn, policyText) {
          if (!identity.authorizeUnderKeyPolicy) return true;
          return (await identity.authorizeUnderKeyPolicy(principal, action, keyArn, policyText)).allowed;
        },
      };
      const dryRun = (input as Record<string, unknown>).DryRun;
      if (dryRun !== undefined && dryRun !== null && typeof dryRun !== 'boolean') throw new KmsError('SerializationException', "Expected a boolean for member 'DryRun'");
      try {
        const output = await operation(input as Record<string, unknown>, ctx);
        // A dry run does all of it (these operations change nothing stored) and answers only whether it would succeed.
        if (dryRun === true && DRY_RUN_OPERATIONS.has(name)) throw new KmsError('DryRunOperationException', 'The request would have succeeded, but the DryRun option is set.');
        if (!readOnly) audit.responseElements = output;
        sendAwsJson(res, 200, output, requestId);
      } finally {
        if (!READ_ONLY.test(name)) identity.resourcesChanged?.();
      }
    } catch (err) {
      const fault = sendAwsJsonFailure(req, res, err, requestId, {
        fault: (e) => (e instanceof KmsError ? { status: e.status, type: e.type, message: e.message } : undefined),
        internalType: 'KMSInternalException',
        api: 'KMS',
        log,
      });
      record.errorCode = fault.type;
      record.errorMessage = fault.message;
    }
  };
}

