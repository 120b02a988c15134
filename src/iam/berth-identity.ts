import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { BerthConfig } from '../config.js';
import type { OciAccess } from '../oci/access.js';
import type { MetadataStore } from '../store/meta/metadata-store.js';
import { Authorizer, type AuthzContext } from './authorizer.js';
import { ADMIN_CREDENTIALS_FILE } from './bootstrap.js';
import type { Identity } from './identity.js';
import { IdentityStore } from './identity-store.js';
import { createOciAccess } from './oci-access.js';
import type { Principal } from './principal.js';
import { handleQueryApi } from './query-api.js';
import { verifySigV4 } from './sigv4.js';
import type { TokenIssuer } from './tokens.js';

export interface BerthIdentityDeps {
  meta: MetadataStore;
  config: BerthConfig;
  accountId: string;
  log: Logger;
  tokens: TokenIssuer;
}

/** Accounts, users and keys in the metadata store; every decision through the IAM evaluator. */
export class BerthIdentity implements Identity {
  readonly store: IdentityStore;
  readonly authorizer: Authorizer;
  readonly oci: OciAccess;
  private baseUrl = '';

  constructor(private readonly deps: BerthIdentityDeps) {
    this.store = new IdentityStore(deps.meta);
    this.authorizer = new Authorizer(deps.meta, this.store);
    this.baseUrl = deps.config.publicUrl ?? `http://${deps.config.host}:${deps.config.port}`;
    this.oci = createOciAccess({
      tokens: deps.tokens,
      authorizer: this.authorizer,
      region: deps.config.region,
      defaultAccountId: deps.accountId,
      baseUrl: () => this.baseUrl,
    });
  }

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
        const key = await this.store.getAccessKey(accessKeyId);
        if (!key || key.status !== 'Active') return undefined;
        const user = await this.store.getUser(key.accountId, key.userName);
        if (!user) return undefined;
        principal = { arn: user.arn, account: user.accountId, userName: user.name, accessKeyId, anonymous: false };
        return key.secret;
      },
    );
    return principal!;
  }

  async authorize(principal: Principal, action: string, resourceArn: string, context?: AuthzContext): Promise<void> {
    await this.authorizer.authorize(principal, action, resourceArn, context);
  }

  resourcesChanged(): void {
    this.authorizer.invalidate();
  }

  async issueAuthorizationToken(principal: Principal): Promise<{ authorizationToken: string; expiresAt: Date }> {
    return this.deps.tokens.issueAuthorizationToken(principal);
  }

  async handleQueryApi(req: IncomingMessage, res: ServerResponse): Promise<void> {
    await handleQueryApi(req, res, { identity: this, store: this.store, log: this.deps.log, onChange: () => this.authorizer.invalidate() });
  }

  async afterListen(baseUrl: string): Promise<void> {
    this.baseUrl = baseUrl;
    const file = join(this.deps.config.dataDir, ADMIN_CREDENTIALS_FILE);
    process.stdout.write(
      `Administrator credentials are in ${file} (profile berth). Use them like this:\n` +
        `  AWS_SHARED_CREDENTIALS_FILE=${file} aws --profile berth --endpoint-url ${baseUrl} ecr describe-repositories\n`,
    );
  }
}
