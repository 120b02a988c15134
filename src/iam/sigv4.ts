import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { EcrError } from '../ecr/errors.js';

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

function incomplete(message: string): EcrError {
  return new EcrError('IncompleteSignatureException', message, 400);
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

function parseQuery(query: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(query)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/**
 * Verifies an AWS Signature Version 4 (Authorization header form) by recomputing it over the
 * received request. Any region is accepted; the service must be `service`. Throws AWS's errors.
 */
export async function verifySigV4(req: SignedRequest, service: string, lookupSecret: SecretLookup, now = Date.now()): Promise<SigV4Credential> {
  const auth = header(req.headers, 'authorization');
  if (!auth) throw new EcrError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
  const parsed = parseAuthorization(auth);
  const [accessKeyId, scopeDate, region, scopeService] = parsed.credential as [string, string, string, string];

  const amzDate = header(req.headers, 'x-amz-date');
  if (!amzDate) throw incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  const signedAt = parseAmzDate(amzDate);
  if (signedAt === undefined) throw incomplete(`Date must be in ISO-8601 'basic format'. Got '${amzDate}'.`);
  if (!parsed.signedHeaders.includes('host')) throw incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");

  if (signedAt < now - MAX_SKEW_MS) {
    throw new EcrError(
      'InvalidSignatureException',
      `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(now - MAX_SKEW_MS)} (${formatAmzDate(now)} - 15 min.)`,
    );
  }
  if (signedAt > now + MAX_SKEW_MS) {
    throw new EcrError(
      'InvalidSignatureException',
      `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(now + MAX_SKEW_MS)} (${formatAmzDate(now)} + 15 min.)`,
    );
  }
  if (scopeService !== service) {
    throw new EcrError('InvalidSignatureException', `Credential should be scoped to correct service: '${service}'. `);
  }
  if (scopeDate !== amzDate.slice(0, 8)) {
    throw new EcrError('InvalidSignatureException', `Credential should be scoped to a valid date, got '${scopeDate}' for a request dated '${amzDate.slice(0, 8)}'.`);
  }

  const secret = await lookupSecret(accessKeyId);
  if (secret === undefined) throw new EcrError('UnrecognizedClientException', 'The security token included in the request is invalid.');

  const headers: Record<string, string> = {};
  for (const name of parsed.signedHeaders) {
    const value = header(req.headers, name);
    if (value !== undefined) headers[name] = value;
  }
  const bodyHash = createHash('sha256').update(req.body).digest('hex');
  if (headers['x-amz-content-sha256'] !== undefined && headers['x-amz-content-sha256'] !== bodyHash) {
    throw new EcrError('InvalidSignatureException', SIGNATURE_MISMATCH);
  }

  const signer = new SignatureV4({ service, region, credentials: { accessKeyId, secretAccessKey: secret }, sha256: Sha256, applyChecksum: false });
  const signed = await signer.sign(
    {
      method: req.method,
      protocol: 'http:',
      hostname: headers.host ?? '',
      path: req.path,
      query: parseQuery(req.query),
      headers,
      body: req.body,
    },
    { signingDate: new Date(signedAt), signingRegion: region, signingService: service, signableHeaders: new Set(parsed.signedHeaders) },
  );
  const expected = /Signature=([0-9a-f]+)/.exec(String(signed.headers.authorization ?? ''))?.[1] ?? '';
  const got = Buffer.from(parsed.signature);
  const want = Buffer.from(expected);
  if (got.length !== want.length || !timingSafeEqual(got, want)) {
    throw new EcrError('InvalidSignatureException', SIGNATURE_MISMATCH);
  }
  return { accessKeyId, region, service };
}
