import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { KmsError } from '../../domain/kms/errors.js';
import type { Kms } from '../../domain/kms/kms.js';
import type { Identity } from '../../iam/identity.js';
import { readBody } from '../http/io.js';
import { KMS_OPERATIONS, READ_ONLY, type KmsContext } from './operations.js';
import { sendAwsJson, sendAwsJsonFailure } from '../http/aws-json.js';

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
        sendAwsJson(res, 200, await operation(input as Record<string, unknown>, ctx), requestId);
      } finally {
        if (!READ_ONLY.test(name)) identity.resourcesChanged?.();
      }
    } catch (err) {
      sendAwsJsonFailure(req, res, err, requestId, {
        fault: (e) => (e instanceof KmsError ? { status: e.status, type: e.type, message: e.message } : undefined),
        internalType: 'KMSInternalException',
        api: 'KMS',
        log,
      });
    }
  };
}

