import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { Principal } from './auth/principal.js';
import { verifySigV4 } from './auth/sigv4.js';
import type { TokenIssuer } from './auth/tokens.js';
import type { Authorizer } from './authorizer.js';
import type { AuthzDecision } from './decision.js';
import type { AuthzContext, Identity } from './identity.js';
import { ADMIN_CREDENTIALS_FILE } from './identity/bootstrap.js';
import type { IdentityDirectory } from './identity/directory.js';

export interface BerthIdentityDeps {
  directory: IdentityDirectory;
  authorizer: Authorizer;
  tokens: TokenIssuer;
  accountId: string;
  dataDir: string;
  /** The region this deployment serves: requests to its regional services must be signed for it. */
  region: string;
}

/**
 * Services with one endpoint per region: a request signed for a region this deployment does not
 * serve is refused, as AWS refuses one sent to another region's endpoint. IAM and STS are global
 * (any signing region), and ECR Public lives in one region on AWS whatever the client's default.
 */
const REGIONAL_SERVICES = new Set(['ecr', 'kms', 'events', 'cloudtrail']);

/** Accounts, users and keys in the identity directory; every decision through the IAM evaluator. */
export class BerthIdentity implements Identity {
  constructor(private readonly deps: BerthIdentityDeps) {}

  defaultAccountId(): string {
    return this.deps.accountId;
  }

  async authenticateSigV4(req: IncomingMessage, body: Buffer, service: string): Promise<Principal> {
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    let principal: Principal | undefined;
    await verifySigV4(
      { method: req.method ?? 'GET', path: q < 0 ? raw : raw.slice(0, q), query: q < 0 ? '' : raw.slice(q + 1), headers: req.headers, body },
      service,
      async (accessKeyId) => {
        const key = await this.deps.directory.getAccessKey(accessKeyId);
        if (!key || key.status !== 'Active') return undefined;
        const user = await this.deps.directory.getUser(key.accountId, key.userName);
        if (!user) return undefined;
        principal = { arn: user.arn, account: user.accountId, userName: user.name, accessKeyId, anonymous: false };
        return key.secret;
      },
      Date.now(),
      REGIONAL_SERVICES.has(service) ? [this.deps.region] : undefined,
    );
    return principal!;
  }

  async verifyRegistryPassword(password: string): Promise<Principal | undefined> {
    return this.deps.tokens.verifyPassword(password);
  }

  authorizeUnderKeyPolicy(principal: Principal, action: string, keyArn: string, policyText: string): Promise<AuthzDecision> {
    return this.deps.authorizer.authorizeUnderKeyPolicy(principal, action, keyArn, policyText);
  }

  authorize(principal: Principal, action: string, resourceArn: string, context?: AuthzContext): Promise<AuthzDecision> {
    return this.deps.authorizer.authorize(principal, action, resourceArn, { 'aws:RequestedRegion': requestedRegion(action, this.deps.region), ...context });
  }

  resourcesChanged(): void {
    this.deps.authorizer.invalidate();
  }

  async issueAuthorizationToken(principal: Principal): Promise<{ authorizationToken: string; expiresAt: Date }> {
    return this.deps.tokens.issueAuthorizationToken(principal);
  }

  async afterListen(baseUrl: string): Promise<void> {
    const file = join(this.deps.dataDir, ADMIN_CREDENTIALS_FILE);
    process.stdout.write(
      `Administrator credentials are in ${file} (profile berth). Use them like this:\n` +
        `  AWS_SHARED_CREDENTIALS_FILE=${file} aws --profile berth --endpoint-url ${baseUrl} ecr describe-repositories\n`,
    );
  }
}

/** The region a call is made in, as policies see it: IAM, STS and ECR Public are called in us-east-1 on AWS. */
function requestedRegion(action: string, region: string): string {
  return /^(iam|sts|ecr-public):/i.test(action) ? 'us-east-1' : region;
}
