import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { BodyTooLargeError, readBody } from '../http/io.js';
import { requestRecord } from '../http/request-record.js';
import { AuthenticationError } from '../../iam/auth/authentication-error.js';
import { peekCredential } from '../../iam/auth/sigv4.js';
import type { Identity } from '../../iam/identity.js';
import type { IdentityDirectory } from '../../iam/identity/directory.js';
import { IAM_ACTIONS, isMutation, ROLE_POLICY_ACTIONS, type Action, type ActionResult } from './iam-actions.js';
import { IamError } from './iam-error.js';
import { paginate } from './paging.js';
import { ROLE_ACTIONS } from './role-actions.js';
import { TAG_ACTIONS } from './tag-actions.js';
import { POLICY_ENTITY_ACTIONS } from './policy-entity-actions.js';
import { errorXml, IAM_XMLNS, responseXml, STS_XMLNS } from './query-xml.js';
import { connectionConditionKeys } from '../http/condition-keys.js';

const MAX_BODY = 1024 * 1024;

const ACTIONS: Record<string, Action> = { ...IAM_ACTIONS, ...ROLE_ACTIONS, ...ROLE_POLICY_ACTIONS, ...TAG_ACTIONS, ...POLICY_ENTITY_ACTIONS };

export interface QueryApiDeps {
  identity: Identity;
  directory: IdentityDirectory;
  log: Logger;
  /** Called after any change to users, keys, groups or policies. */
  onChange(): void;
}

/** AWS's query-protocol codes for authentication failures. */
const AUTH_ERRORS: Record<string, { code: string; status: number }> = {
  MissingAuthenticationTokenException: { code: 'MissingAuthenticationToken', status: 403 },
  UnrecognizedClientException: { code: 'InvalidClientTokenId', status: 403 },
  InvalidSignatureException: { code: 'SignatureDoesNotMatch', status: 403 },
  IncompleteSignatureException: { code: 'IncompleteSignature', status: 400 },
};

/** The IAM and STS query APIs: form-encoded `POST /` with `Action=`, SigV4 service iam or sts. */
export async function handleQueryApi(req: IncomingMessage, res: ServerResponse, deps: QueryApiDeps): Promise<void> {
  const record = requestRecord(req);
  const requestId = record.id;
  const service = peekCredential(req.headers)?.service === 'sts' ? 'sts' : 'iam';
  record.door = service;
  const xmlns = service === 'sts' ? STS_XMLNS : IAM_XMLNS;
  const send = (status: number, text: string, errorCode?: string, errorMessage?: string) => {
    record.errorCode = errorCode;
    record.errorMessage = errorMessage;
    res.writeHead(status, { 'Content-Type': 'text/xml', 'Content-Length': Buffer.byteLength(text), 'x-amzn-RequestId': requestId });
    res.end(text);
  };
  try {
    const body = await readBody(req, MAX_BODY);
    const params = new URLSearchParams(body.toString('utf8'));
    const action = params.get('Action') ?? '';
    record.action = action;
    const principal = await deps.identity.authenticateSigV4(req, body, service);
    record.principal = principal;
    record.audit = { eventSource: `${service}.amazonaws.com`, eventName: action, readOnly: !isMutation(action), requestParameters: queryParameters(params) };
    let result: ActionResult;
    if (service === 'sts') {
      if (action !== 'GetCallerIdentity') throw new IamError('InvalidAction', `Could not find operation ${action} for version ${params.get('Version') ?? ''}`);
      const user = principal.userName ? await deps.directory.getUser(principal.account, principal.userName) : undefined;
      result = { UserId: user?.userId ?? principal.account, Account: principal.account, Arn: principal.arn };
    } else {
      const handler = Object.hasOwn(ACTIONS, action) ? ACTIONS[action] : undefined;
      if (!handler) throw new IamError('InvalidAction', `Could not find operation ${action} for version ${params.get('Version') ?? ''}`);
      result = paginate(await handler({
        principal,
        params,
        directory: deps.directory,
        authorize: async (resourceArn, context) => {
          const decision = await deps.identity.authorize(principal, `iam:${action}`, resourceArn, { ...connectionConditionKeys(req), ...context });
          if (!decision.allowed) throw new IamError('AccessDenied', decision.message, 403);
        },
      }), params);
      if (isMutation(action)) deps.onChange();
    }
    send(200, responseXml(action, xmlns, result, requestId));
  } catch (err) {
    if (!req.readableEnded) req.resume();
    if (err instanceof IamError) return send(err.status, errorXml(xmlns, err.code, err.message, requestId), err.code, err.message);
    if (err instanceof AuthenticationError) {
      const mapped = AUTH_ERRORS[err.code] ?? { code: err.code, status: err.status };
      return send(mapped.status, errorXml(xmlns, mapped.code, err.message, requestId), mapped.code, err.message);
    }
    if (err instanceof BodyTooLargeError) return send(413, errorXml(xmlns, 'ValidationError', err.message, requestId), 'ValidationError', err.message);
    deps.log.error({ err }, 'unexpected error in the IAM/STS API');
    send(500, errorXml(xmlns, 'ServiceFailure', 'An internal error occurred.', requestId, 'Receiver'), 'ServiceFailure');
  }
}

/** A query call's parameters as CloudTrail shows them: lowerCamelCase names, without Action and Version. */
function queryParameters(params: URLSearchParams): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of params) {
    if (key === 'Action' || key === 'Version') continue;
    out[key.charAt(0).toLowerCase() + key.slice(1)] = value;
  }
  return out;
}
