import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { AuthenticationError } from './authentication-error.js';

/** A received request, as far as its signature covers it. */
export interface SignedRequest {
  method: string;
  /** The path exactly as received (still percent-encoded), without the query. */
  path: string;
  /** The raw query string without '?', possibly empty. */
  query: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface SigV4Credential {
  accessKeyId: string;
  region: string;
  service: string;
}

/** Looks up the secret of an access key; undefined when unknown or not usable. */
export type SecretLookup = (accessKeyId: string) => Promise<string | undefined>;

const MAX_SKEW_MS = 15 * 60_000;
const AUTH = /^AWS4-HMAC-SHA256\s+(.*)$/s;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

export const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

function incomplete(message: string): AuthenticationError {
  return new AuthenticationError('IncompleteSignatureException', message, 400);
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

export function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function parseAmzDate(text: string): number | undefined {
  const m = AMZ_DATE.exec(text);
  if (!m) return undefined;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  return Number.isFinite(ms) ? ms : undefined;
}

interface ParsedAuthorization {
  credential: string[];
  signedHeaders: string[];
  signature: string;
}

function parseAuthorization(value: string): ParsedAuthorization {
  const m = AUTH.exec(value.trim());
  if (!m) throw incomplete(`Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=${value.split(' ')[0]}`);
  const parts = new Map<string, string>();
  for (const piece of m[1]!.split(',')) {
    const eq = piece.indexOf('=');
    if (eq > 0) parts.set(piece.slice(0, eq).trim(), piece.slice(eq + 1).trim());
  }
  const credential = parts.get('Credential');
  const signedHeaders = parts.get('SignedHeaders');
  const signature = parts.get('Signature');
  for (const [name, v] of [['Credential', credential], ['SignedHeaders', signedHeaders], ['Signature', signature]] as const) {
    if (!v) throw incomplete(`Authorization header requires '${name}' parameter. Authorization=AWS4-HMAC-SHA256`);
  }
  const scope = credential!.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request') {
    throw incomplete(`Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`);
  }
  return { credential: scope, signedHeaders: signedHeaders!.toLowerCase().split(';'), signature: signature! };
}

/** The credential scope of a request's Authorization header, or undefined if it has none. */
export function peekCredential(headers: IncomingHttpHeaders): SigV4Credential | undefined {
  const auth = header(headers, 'authorization');
  if (!auth) return undefined;
  try {
    const { credential } = parseAuthorization(auth);
    return { accessKeyId: credential[0]!, region: credential[2]!, service: credential[3]! };
  } catch {
    return undefined;
  }
}

/** RFC 3986 percent-encoding, as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ */
function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The path with empty, "." and ".." segments resolved, encoded once more (every service but S3 does). */
function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalized = `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
  return escapeUri(normalized).replace(/%2F/g, '/');
}

/** Parameters sorted by encoded name, repeated ones by encoded pair; any X-Amz-Signature left out. */
function canonicalQuery(query: string): string {
  const byName = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(query)) {
    if (name.toLowerCase() === 'x-amz-signature') continue;
    const key = escapeUri(name);
    const pairs = byName.get(key) ?? [];
    pairs.push(`${key}=${escapeUri(value)}`);
    byName.set(key, pairs);
  }
  return [...byName.keys()]
    .sort()
    .map((key) => byName.get(key)!.sort().join('&'))
    .join('&');
}

function canonicalHeaderValue(value: string): string {
  return value.replace(/[\r\n]/g, ' ').replace(/[ \t]+/g, ' ').replace(/^ | $/g, '');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** The signature a holder of `secret` computes over the request, per the SigV4 specification. */
function expectedSignature(req: SignedRequest, signedHeaders: string[], payloadHash: string, scope: string[], amzDate: string, secret: string): string {
  const names = [...new Set(signedHeaders)].filter((name) => header(req.headers, name) !== undefined).sort();
  const canonicalRequest = [
    req.method,
    canonicalPath(req.path),
    canonicalQuery(req.query),
    ...names.map((name) => `${name}:${canonicalHeaderValue(header(req.headers, name)!)}`),
    '',
    names.join(';'),
    payloadHash,
  ].join('\n');
  const [, date, region, service] = scope as [string, string, string, string];
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, `${date}/${region}/${service}/aws4_request`, createHash('sha256').update(canonicalRequest, 'utf8').digest('hex')].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  return hmac(signingKey, stringToSign).toString('hex');
}

/**
 * Verifies an AWS Signature Version 4 (Authorization header form) by recomputing it over the
 * received request. The service must be `service`; the region one of `regions` (any region when
 * undefined: a global service). Throws AuthenticationError with AWS's error names.
 */
export async function verifySigV4(
  req: SignedRequest,
  service: string,
  lookupSecret: SecretLookup,
  now = Date.now(),
  regions?: readonly string[],
): Promise<SigV4Credential> {
  const auth = header(req.headers, 'authorization');
  if (!auth) throw new AuthenticationError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
  const parsed = parseAuthorization(auth);
  const [accessKeyId, scopeDate, region, scopeService] = parsed.credential as [string, string, string, string];

  const amzDate = header(req.headers, 'x-amz-date');
  if (!amzDate) throw incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  const signedAt = parseAmzDate(amzDate);
  if (signedAt === undefined) throw incomplete(`Date must be in ISO-8601 'basic format'. Got '${amzDate}'.`);
  if (!parsed.signedHeaders.includes('host')) throw incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");

  if (signedAt < now - MAX_SKEW_MS) {
    throw new AuthenticationError(
      'InvalidSignatureException',
      `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(now - MAX_SKEW_MS)} (${formatAmzDate(now)} - 15 min.)`,
    );
  }
  if (signedAt > now + MAX_SKEW_MS) {
    throw new AuthenticationError(
      'InvalidSignatureException',
      `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(now + MAX_SKEW_MS)} (${formatAmzDate(now)} + 15 min.)`,
    );
  }
  if (scopeService !== service) {
    throw new AuthenticationError('InvalidSignatureException', `Credential should be scoped to correct service: '${service}'. `);
  }
  if (regions && !regions.includes(region)) {
    throw new AuthenticationError('InvalidSignatureException', `Credential should be scoped to a valid region, not '${region}'. `);
  }
  if (scopeDate !== amzDate.slice(0, 8)) {
    throw new AuthenticationError('InvalidSignatureException', `Credential should be scoped to a valid date, got '${scopeDate}' for a request dated '${amzDate.slice(0, 8)}'.`);
  }

  const secret = await lookupSecret(accessKeyId);
  if (secret === undefined) throw new AuthenticationError('UnrecognizedClientException', 'The security token included in the request is invalid.');

  const bodyHash = createHash('sha256').update(req.body).digest('hex');
  const declaredHash = parsed.signedHeaders.includes('x-amz-content-sha256') ? header(req.headers, 'x-amz-content-sha256') : undefined;
  if (declaredHash !== undefined && declaredHash !== bodyHash) {
    throw new AuthenticationError('InvalidSignatureException', SIGNATURE_MISMATCH);
  }

  const expected = expectedSignature(req, parsed.signedHeaders, bodyHash, parsed.credential, amzDate, secret);
  const got = Buffer.from(parsed.signature);
  const want = Buffer.from(expected);
  if (got.length !== want.length || !timingSafeEqual(got, want)) {
    throw new AuthenticationError('InvalidSignatureException', SIGNATURE_MISMATCH);
  }
  return { accessKeyId, region, service };
}
