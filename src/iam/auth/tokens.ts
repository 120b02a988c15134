import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Principal } from './principal.js';

/** The setting that holds the token key, shared by every node. */
export const TOKEN_SECRET_SETTING = 'iam:token_secret';
export const TOKEN_LIFETIME_MS = 12 * 3600_000;

/** A new token key, hex-encoded. */
export function newTokenSecret(): string {
  return randomBytes(32).toString('hex');
}

interface TokenClaims {
  /** principal ARN */
  p: string;
  a: string;
  u?: string;
  k?: string;
  /** expiry, epoch ms */
  e: number;
}

/**
 * Registry passwords that validate themselves: base64url(claims) "." base64url(HMAC). Both parts
 * are free of ':', so "AWS:<password>" splits unambiguously.
 */
export class TokenIssuer {
  constructor(private readonly secret: Buffer) {}

  private mac(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }

  issuePassword(principal: Principal, now = Date.now()): { password: string; expiresAt: Date } {
    const claims: TokenClaims = { p: principal.arn, a: principal.account, e: now + TOKEN_LIFETIME_MS };
    if (principal.userName !== undefined) claims.u = principal.userName;
    if (principal.accessKeyId !== undefined) claims.k = principal.accessKeyId;
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return { password: `${payload}.${this.mac(payload)}`, expiresAt: new Date(claims.e) };
  }

  /** The principal a password stands for, or undefined if it is forged, malformed or expired. */
  verifyPassword(password: string, now = Date.now()): Principal | undefined {
    const dot = password.indexOf('.');
    if (dot <= 0) return undefined;
    const payload = password.slice(0, dot);
    const given = Buffer.from(password.slice(dot + 1));
    const expected = Buffer.from(this.mac(payload));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    let claims: TokenClaims;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TokenClaims;
    } catch {
      return undefined;
    }
    if (typeof claims.e !== 'number' || claims.e <= now || typeof claims.p !== 'string' || typeof claims.a !== 'string') return undefined;
    const principal: Principal = { arn: claims.p, account: claims.a, anonymous: false };
    if (claims.u !== undefined) principal.userName = claims.u;
    if (claims.k !== undefined) principal.accessKeyId = claims.k;
    return principal;
  }

  issueAuthorizationToken(principal: Principal, now = Date.now()): { authorizationToken: string; expiresAt: Date } {
    const { password, expiresAt } = this.issuePassword(principal, now);
    return { authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'), expiresAt };
  }
}
