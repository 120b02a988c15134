import type { IncomingMessage } from 'node:http';
import type { Principal } from '../../src/iam/auth/principal.js';
import { ALLOWED, type AuthzDecision } from '../../src/iam/decision.js';
import type { Identity } from '../../src/iam/identity.js';

/** Everyone is the account's root: for tests of the data plane alone, never the server default. */
export class OpenIdentity implements Identity {
  constructor(private readonly accountId: string) {}

  defaultAccountId(): string {
    return this.accountId;
  }

  private root(): Principal {
    return { arn: `arn:aws:iam::${this.accountId}:root`, account: this.accountId, anonymous: false };
  }

  async authenticateSigV4(_req: IncomingMessage, _body: Buffer): Promise<Principal> {
    return this.root();
  }

  async verifyRegistryPassword(): Promise<Principal> {
    return this.root();
  }

  async authorize(): Promise<AuthzDecision> {
    return ALLOWED;
  }

  async issueAuthorizationToken(): Promise<{ authorizationToken: string; expiresAt: Date }> {
    return { authorizationToken: Buffer.from('AWS:open').toString('base64'), expiresAt: new Date(Date.now() + 12 * 3600_000) };
  }
}
