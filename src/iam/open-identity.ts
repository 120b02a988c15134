import type { IncomingMessage } from 'node:http';
import type { OciAccess, OciCaller } from '../oci/access.js';
import type { Identity } from './identity.js';
import type { Principal } from './principal.js';

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

  async authorize(): Promise<void> {}

  async issueAuthorizationToken(): Promise<{ authorizationToken: string; expiresAt: Date }> {
    return { authorizationToken: Buffer.from('AWS:open').toString('base64'), expiresAt: new Date(Date.now() + 12 * 3600_000) };
  }

  readonly oci: OciAccess = {
    authenticate: async (): Promise<OciCaller> => ({ registryId: this.accountId, principalArn: this.root().arn, anonymous: false }),
    authorize: async () => {},
    canList: async () => true,
    challenge: () => 'Basic realm="berth",service="ecr.amazonaws.com"',
  };
}
