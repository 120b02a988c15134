import type { IncomingMessage } from 'node:http';
import type { Principal } from './auth/principal.js';
import type { AuthzDecision } from './decision.js';

export type AuthzContext = Record<string, string | string[] | undefined>;

/** A request's tags as IAM's condition keys, `aws:RequestTag/<key>` for each and `aws:TagKeys`; none for no tags. */
export function requestTagContext(tags: ReadonlyArray<{ Key: string; Value: string }>): AuthzContext | undefined {
  if (tags.length === 0) return undefined;
  const context: AuthzContext = { 'aws:TagKeys': tags.map((t) => t.Key) };
  for (const { Key, Value } of tags) context[`aws:RequestTag/${Key}`] = Value;
  return context;
}

/** The tag keys a request removes, as `aws:TagKeys`. */
export function tagKeysContext(keys: string[]): AuthzContext {
  return { 'aws:TagKeys': keys };
}

/**
 * Accounts, credentials and authorization, as the doors see them. Every authorization decision
 * in berth goes through `authorize`; each door renders a denial in its own protocol.
 */
export interface Identity {
  /** The account the embedded default created first; /v2 addresses it unless told otherwise. */
  defaultAccountId(): string;
  /** Verifies a SigV4-signed API request (body already read) and returns its principal; throws AuthenticationError. */
  authenticateSigV4(req: IncomingMessage, body: Buffer, service: string): Promise<Principal>;
  /** The principal a registry password (from GetAuthorizationToken) stands for; undefined if it is invalid or expired. */
  verifyRegistryPassword(password: string): Promise<Principal | undefined>;
  authorize(principal: Principal, action: string, resourceArn: string, context?: AuthzContext): Promise<AuthzDecision>;
  /** The decision a KMS key policy not yet in force would give (the lockout safety check of PutKeyPolicy). */
  authorizeUnderKeyPolicy?(principal: Principal, action: string, keyArn: string, policyText: string): Promise<AuthzDecision>;
  /** Called after an API call that may have changed resource policies or tags, so caches forget. */
  resourcesChanged?(): void;
  /**
   * Issues the registry password for `docker login` (GetAuthorizationToken): returns the base64 of
   * "AWS:<password>", the password self-validating, free of ':', valid for 12 hours.
   */
  issueAuthorizationToken(principal: Principal): Promise<{ authorizationToken: string; expiresAt: Date }>;
  /** Called once the server listens, with its base URL (e.g. to print how to use the credentials). */
  afterListen?(baseUrl: string): Promise<void>;
}
