import type { IncomingMessage, ServerResponse } from 'node:http';
import { PUBLIC_PATH_PREFIX } from '../../domain/registry/public-registries.js';
import type { Identity } from '../../iam/identity.js';
import { sendJson } from '../http/io.js';
import { requestRecord } from '../http/request-record.js';
import { ANONYMOUS_TOKEN } from './identity-access.js';

/**
 * ECR Public's registry on a listen address of its own (`BERTH_PUBLIC_LISTEN`), as public.ecr.aws
 * serves it: repositories at `<host>/<alias>/<name>`, and token authentication, so that a client
 * without credentials (the Docker engine among them) is handed an anonymous token and pulls.
 */
export const TOKEN_PATH = '/token';

/** How long a token handed out stands, in seconds: the registry password's own lifetime bounds a signed-in one. */
const ANONYMOUS_TOKEN_SECONDS = 12 * 3600;

/** `/v2/<alias>/<name>/…` as the registry knows it: `/v2/ecr--public/<alias>/<name>/…`. */
export function publicRegistryPath(pathname: string): string {
  if (!pathname.startsWith('/v2/')) return pathname;
  const rest = pathname.slice('/v2/'.length);
  if (rest === '' || rest === '_catalog' || rest.startsWith(`${PUBLIC_PATH_PREFIX}/`)) return pathname;
  return `/v2/${PUBLIC_PATH_PREFIX}/${rest}`;
}

function basicCredentials(value: string | undefined): { user: string; password: string } | undefined {
  const m = /^Basic\s+(\S*)$/i.exec((value ?? '').trim());
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? { user: decoded, password: '' } : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * `GET /token?service=…&scope=…`: with no credentials, an anonymous token (anonymous pulls of
 * public repositories); with `Basic AWS:<password from get-login-password>`, a token for that caller.
 */
export function createTokenEndpoint(identity: Identity) {
  return async function handleToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const record = requestRecord(req);
    record.door = 'oci';
    record.action = 'token';
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { errors: [{ code: 'UNSUPPORTED', message: `${req.method} is not supported here` }] });
    const credentials = basicCredentials(req.headers.authorization);
    const issuedAt = new Date();
    if (!credentials || (credentials.user === '' && credentials.password === '')) {
      return sendJson(res, 200, { token: ANONYMOUS_TOKEN, access_token: ANONYMOUS_TOKEN, expires_in: ANONYMOUS_TOKEN_SECONDS, issued_at: issuedAt.toISOString() });
    }
    const principal = credentials.user === 'AWS' ? await identity.verifyRegistryPassword(credentials.password) : undefined;
    if (!principal) {
      return sendJson(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'Your authorization token is invalid or has expired.' }] });
    }
    record.principal = principal;
    // The registry password is itself a signed token with its expiry: it is the Bearer token too.
    return sendJson(res, 200, { token: credentials.password, access_token: credentials.password, issued_at: issuedAt.toISOString() });
  };
}
