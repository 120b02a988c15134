import type { IncomingMessage } from 'node:http';
import { EcrError } from '../ecr/errors.js';
import type { OciAccess, OciAction, OciCaller } from '../oci/access.js';
import { OciError } from '../oci/errors.js';
import type { RepoRef } from '../registry/registry.js';
import type { Authorizer } from './authorizer.js';
import type { Principal } from './principal.js';
import type { TokenIssuer } from './tokens.js';

interface IdentifiedCaller extends OciCaller {
  principal: Principal;
  sourceIp: string;
}

const ACCOUNT_HOST = /^(\d{12})\./;

/** `Basic` with an empty user and password, which some clients send when they have no credentials. */
function isEmptyBasic(value: string): boolean {
  const m = /^Basic\s*(\S*)$/i.exec(value.trim());
  return m !== null && ['', ':'].includes(Buffer.from(m[1]!, 'base64').toString('utf8'));
}

/** The account a /v2 request addresses: `<12 digits>.<anything>` in Host, like ECR's registry hosts. */
export function addressedAccount(host: string | undefined): string | undefined {
  return ACCOUNT_HOST.exec(host ?? '')?.[1];
}

export interface OciAccessDeps {
  tokens: TokenIssuer;
  authorizer: Authorizer;
  region: string;
  defaultAccountId: string;
  /** Base URL for the Basic challenge's realm, known once the server listens. */
  baseUrl(): string;
}

/** /v2 authentication (Basic AWS:<token>, or anonymous) and authorization through the IAM evaluator. */
export function createOciAccess(deps: OciAccessDeps): OciAccess {
  const repositoryArn = (repo: RepoRef) => `arn:aws:ecr:${deps.region}:${repo.registryId}:repository/${repo.name}`;

  function principalFromBasic(value: string): Principal | undefined {
    const m = /^Basic\s+(\S+)$/i.exec(value.trim());
    if (!m) return undefined;
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0 || decoded.slice(0, colon) !== 'AWS') return undefined;
    return deps.tokens.verifyPassword(decoded.slice(colon + 1));
  }

  async function check(caller: OciCaller, action: string, repo: RepoRef): Promise<void> {
    const c = caller as IdentifiedCaller;
    await deps.authorizer.authorize(c.principal, action, repositoryArn(repo), { 'aws:SourceIp': c.sourceIp });
  }

  return {
    async authenticate(req: IncomingMessage): Promise<OciCaller> {
      const sourceIp = req.socket.remoteAddress ?? '';
      const addressed = addressedAccount(req.headers.host);
      const auth = req.headers.authorization;
      if (!auth || isEmptyBasic(auth)) {
        // The base endpoint answers 401 so clients know to log in; anonymous pulls go on from there.
        const path = (req.url ?? '').split('?')[0];
        if (path === '/v2/' || path === '/v2') throw new OciError('UNAUTHORIZED', 'Not Authorized');
        const registryId = addressed ?? deps.defaultAccountId;
        const principal: Principal = { arn: '*', account: registryId, anonymous: true };
        const caller: IdentifiedCaller = { registryId, principalArn: '*', anonymous: true, principal, sourceIp };
        return caller;
      }
      const principal = principalFromBasic(auth);
      if (!principal) throw new OciError('UNAUTHORIZED', 'Your authorization token is invalid or has expired.');
      const registryId = addressed ?? principal.account;
      const caller: IdentifiedCaller = { registryId, principalArn: principal.arn, anonymous: false, principal, sourceIp };
      return caller;
    },

    async authorize(caller: OciCaller, action: OciAction, repo: RepoRef): Promise<void> {
      try {
        await check(caller, action, repo);
      } catch (err) {
        if (!(err instanceof EcrError)) throw err;
        if (caller.anonymous) throw new OciError('UNAUTHORIZED', 'authentication required');
        throw new OciError('DENIED', err.message);
      }
    },

    async canList(caller: OciCaller, repo: RepoRef): Promise<boolean> {
      try {
        await check(caller, 'ecr:DescribeRepositories', repo);
        return true;
      } catch (err) {
        if (err instanceof EcrError) return false;
        throw err;
      }
    },

    challenge(): string {
      return `Basic realm="${deps.baseUrl()}/",service="ecr.amazonaws.com"`;
    },
  };
}
