import type { IncomingMessage } from 'node:http';
import type { Principal } from '../../iam/auth/principal.js';
import type { Identity } from '../../iam/identity.js';
import { OciError } from './errors.js';
import { requestRecord } from '../http/request-record.js';
import { publicNamespaceAccount, repositoryArn, type RepoRef } from '../../domain/registry/names.js';
import { publicRepositoryArn } from '../../domain/registry/public-registries.js';
import type { OciAccess, OciAction, OciCaller } from './access.js';
import { connectionConditionKeys, type ConnectionKeys } from '../http/condition-keys.js';

interface IdentifiedCaller extends OciCaller {
  principal: Principal;
  connection: ConnectionKeys;
}

const ACCOUNT_HOST = /^(\d{12})\./;

/** `Basic` with an empty user and password, which some clients send when they have no credentials. */
function isEmptyBasic(value: string): boolean {
  const m = /^Basic\s*(\S*)$/i.exec(value.trim());
  return m !== null && ['', ':'].includes(Buffer.from(m[1]!, 'base64').toString('utf8'));
}

/** The password of `Basic base64(AWS:<password>)`, the form `docker login` sends ECR's token in. */
function registryPassword(value: string): string | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(value.trim());
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0 || decoded.slice(0, colon) !== 'AWS') return undefined;
  return decoded.slice(colon + 1);
}

/** What the token endpoint hands a caller without credentials: it stands for no one. */
export const ANONYMOUS_TOKEN = 'anonymous';

function bearerToken(value: string): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(value.trim())?.[1];
}

/** The account a /v2 request addresses: `<12 digits>.<anything>` in Host, like ECR's registry hosts. */
export function addressedAccount(host: string | undefined): string | undefined {
  return ACCOUNT_HOST.exec(host ?? '')?.[1];
}

export interface IdentityAccessDeps {
  identity: Identity;
  region: string;
  /** Base URL for the Basic challenge's realm, known once the server listens. */
  baseUrl(): string;
  /** The ARN of the KMS key that encrypts the repository, if one does: pulling needs kms:Decrypt on it. */
  repositoryKeyArn?(repo: RepoRef): Promise<string | undefined>;
  /**
   * Token authentication, as ECR Public's registry does it: a Bearer challenge naming the token
   * endpoint, and Bearer tokens from it (anonymous ones too) accepted. Unset: ECR's Basic challenge.
   */
  bearer?: { realm(): string; service(): string };
}

/** The /v2 actions that hand out a repository's content. */
const PULL_ACTIONS = new Set(['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer']);

/** /v2 authentication (Basic AWS:<token>, or anonymous) and authorization, rendered as OCI errors. */
export function createIdentityAccess(deps: IdentityAccessDeps): OciAccess {
  const { identity } = deps;
  function decide(caller: OciCaller, action: string, repo: RepoRef) {
    const c = caller as IdentifiedCaller;
    const context = c.connection;
    // An ECR Public repository is authorized as ECR Public authorizes it: `ecr-public:` actions on its ARN.
    const publicAccount = publicNamespaceAccount(repo.registryId);
    if (publicAccount !== undefined) {
      return identity.authorize(c.principal, action.replace(/^ecr:/, 'ecr-public:'), publicRepositoryArn(publicAccount, repo.name), context);
    }
    return identity.authorize(c.principal, action, repositoryArn(deps.region, repo), context);
  }

  function anonymousCaller(req: IncomingMessage, registryId: string, connection: ConnectionKeys): IdentifiedCaller {
    const principal: Principal = { arn: '*', account: registryId, anonymous: true };
    requestRecord(req).principal = principal;
    return { registryId, principalArn: '*', anonymous: true, principal, connection };
  }

  return {
    async authenticate(req: IncomingMessage): Promise<OciCaller> {
      const connection = connectionConditionKeys(req);
      const addressed = addressedAccount(req.headers.host);
      const auth = req.headers.authorization;
      const bearer = deps.bearer && auth ? bearerToken(auth) : undefined;
      if (bearer === ANONYMOUS_TOKEN) return anonymousCaller(req, addressed ?? identity.defaultAccountId(), connection);
      if (bearer !== undefined) {
        const principal = await identity.verifyRegistryPassword(bearer);
        if (!principal) throw new OciError('UNAUTHORIZED', 'Your authorization token is invalid or has expired.');
        requestRecord(req).principal = principal;
        const caller: IdentifiedCaller = { registryId: addressed ?? principal.account, principalArn: principal.arn, anonymous: false, principal, connection };
        return caller;
      }
      if (!auth || isEmptyBasic(auth)) {
        // The base endpoint answers 401 so clients know to log in; anonymous pulls go on from there.
        const path = (req.url ?? '').split('?')[0];
        if (path === '/v2/' || path === '/v2') throw new OciError('UNAUTHORIZED', 'Not Authorized');
        return anonymousCaller(req, addressed ?? identity.defaultAccountId(), connection);
      }
      const password = registryPassword(auth);
      const principal = password === undefined ? undefined : await identity.verifyRegistryPassword(password);
      if (!principal) throw new OciError('UNAUTHORIZED', 'Your authorization token is invalid or has expired.');
      const registryId = addressed ?? principal.account;
      const caller: IdentifiedCaller = { registryId, principalArn: principal.arn, anonymous: false, principal, connection };
      requestRecord(req).principal = principal;
      return caller;
    },

    async authorize(caller: OciCaller, action: OciAction, repo: RepoRef): Promise<void> {
      let decision = await decide(caller, action, repo);
      const keyArn = decision.allowed && PULL_ACTIONS.has(action) ? await deps.repositoryKeyArn?.(repo) : undefined;
      if (keyArn) {
        const c = caller as IdentifiedCaller;
        decision = await identity.authorize(c.principal, 'kms:Decrypt', keyArn, {
          ...c.connection,
          'kms:ViaService': `ecr.${deps.region}.amazonaws.com`,
          'kms:CallerAccount': c.principal.account,
        });
      }
      if (decision.allowed) return;
      if (caller.anonymous) throw new OciError('UNAUTHORIZED', 'authentication required');
      throw new OciError('DENIED', decision.message);
    },

    async canList(caller: OciCaller, repo: RepoRef): Promise<boolean> {
      return (await decide(caller, 'ecr:DescribeRepositories', repo)).allowed;
    },

    challenge(): string {
      if (deps.bearer) return `Bearer realm="${deps.bearer.realm()}",service="${deps.bearer.service()}",scope="aws"`;
      return `Basic realm="${deps.baseUrl()}/",service="ecr.amazonaws.com"`;
    },
  };
}
