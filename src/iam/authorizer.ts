import { arnAccount, parseRepositoryArn } from '../domain/registry/names.js';
import { parsePublicRepositoryArn } from '../domain/registry/public-registries.js';
import type { Principal } from './auth/principal.js';
import { ALLOWED, denial, type AuthzDecision } from './decision.js';
import type { AuthzContext } from './identity.js';
import { evaluate, type PolicyDocument, type RawContext } from '../policy/index.js';
import { PolicyCache } from '../policy/policy-cache.js';

/**
 * How long policies read from the store are reused. Changes made through this process clear the
 * caches at once; other processes (admin commands, other nodes) see them within this time, much
 * as AWS propagates policy changes eventually.
 */
const POLICY_TTL_MS = 2000;
const MAX_CACHED_RESOURCES = 10_000;

interface IdentitySide {
  docs: PolicyDocument[];
  tags: Array<{ Key: string; Value: string }>;
}
const NO_IDENTITY: IdentitySide = { docs: [], tags: [] };

interface ResourceSide {
  docs: PolicyDocument[];
  tags: Array<{ Key: string; Value: string }>;
  /** A KMS key policy: the authority over its key (see `PolicySet.resourcePolicyIsAuthority`). */
  authority?: boolean;
}

const KMS_KEY_ARN = /^arn:[^:]+:kms:[^:]*:\d{12}:key\/.+$/;
const EVENTS_ARN = /^arn:[^:]+:events:[^:]*:\d{12}:(rule|event-bus)\/.+$/;
const IAM_USER_OR_ROLE_ARN = /^arn:[^:]+:iam::\d{12}:(user|role)\/.+$/;

/** What anonymous callers (and anyone else) may do on a repository marked `public`. */
export const PUBLIC_PULL_ACTIONS = [
  'ecr:BatchGetImage',
  'ecr:GetDownloadUrlForLayer',
  'ecr:BatchCheckLayerAvailability',
  'ecr:ListImages',
  'ecr:DescribeImages',
];

/**
 * ECR Public repositories are pulled by anyone, as on public.ecr.aws: the /v2 door asks for the
 * same pull actions under the `ecr-public` prefix (IAM has no such actions for ECR Public, because
 * AWS does not restrict its pulls).
 */
export const PUBLIC_REGISTRY_PULL_ACTIONS = ['ecr-public:BatchGetImage', 'ecr-public:GetDownloadUrlForLayer', 'ecr-public:BatchCheckLayerAvailability', 'ecr-public:ListImages'];

const PUBLIC_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Sid: 'BerthPublicRepository', Effect: 'Allow', Principal: '*', Action: [...PUBLIC_PULL_ACTIONS, ...PUBLIC_REGISTRY_PULL_ACTIONS] }],
});

/** The identity-based policies of users. */
export interface IdentityPolicySource {
  /** The documents (JSON text) of the user's own and its groups' policies, inline and attached; [] if there is no such user. */
  userPolicies(accountId: string, userName: string): Promise<string[]>;
  /** The user's tags, which policies read as `aws:PrincipalTag/<key>`; [] if there is no such user. */
  userTags?(accountId: string, userName: string): Promise<Array<{ Key: string; Value: string }>>;
  /** A user's or role's tags by its ARN (as `aws:ResourceTag/<key>` of IAM calls on it); undefined if there is none. */
  iamResourceTags?(arn: string): Promise<Array<{ Key: string; Value: string }> | undefined>;
}

/** Resource-based policies and resource tags. */
export interface ResourcePolicySource {
  /** The repository's policy text, public flag and resource tags; undefined if it does not exist. */
  repository(registryId: string, name: string): Promise<{ policyText?: string; public: boolean; tags: Array<{ Key: string; Value: string }> } | undefined>;
  /** The registry (account) policy text, if any. */
  registryPolicy(accountId: string): Promise<string | undefined>;
  /** A KMS key's policy and resource tags, by key ARN; undefined if there is no such key. */
  kmsKey?(keyArn: string): Promise<{ policyText: string; tags: Array<{ Key: string; Value: string }> } | undefined>;
  /** An EventBridge rule's or event bus's tags, by ARN; undefined if there is no such resource. */
  eventBridgeTags?(arn: string): Promise<Array<{ Key: string; Value: string }> | undefined>;
}

/** Gathers the policies that bear on a request and asks the evaluator for a decision. */
export class Authorizer {
  private readonly policies = new PolicyCache();
  private readonly identityCache = new Map<string, { at: number; side: IdentitySide }>();
  private readonly resourceCache = new Map<string, { at: number; side: ResourceSide }>();

  constructor(
    private readonly identities: IdentityPolicySource,
    private readonly resources: ResourcePolicySource,
  ) {}

  /** Forget cached policies (after a change made by this process to identities or resources). */
  invalidate(): void {
    this.identityCache.clear();
    this.resourceCache.clear();
  }

  async identityPolicies(principal: Principal): Promise<PolicyDocument[]> {
    return (await this.identitySide(principal)).docs;
  }

  /** The principal's own policies and tags. */
  private async identitySide(principal: Principal): Promise<IdentitySide> {
    if (principal.anonymous || principal.userName === undefined) return NO_IDENTITY;
    const cached = this.identityCache.get(principal.arn);
    const now = Date.now();
    if (cached && now - cached.at < POLICY_TTL_MS) return cached.side;
    const [texts, tags] = await Promise.all([
      this.identities.userPolicies(principal.account, principal.userName),
      this.identities.userTags?.(principal.account, principal.userName) ?? [],
    ]);
    const docs = texts.map((t) => this.policies.get(t, 'identity')).filter((d): d is PolicyDocument => d !== undefined);
    const side = { docs, tags };
    this.identityCache.set(principal.arn, { at: now, side });
    return side;
  }

  private async resourceSide(resourceArn: string, resourceAccount: string, principal: Principal): Promise<ResourceSide> {
    // Anonymous access hangs on one repository setting an operator may flip at any time (public
    // or not), so anonymous callers always see the stored policies.
    if (principal.anonymous) return this.loadResourceSide(resourceArn, resourceAccount);
    const key = `${resourceAccount} ${resourceArn}`;
    const cached = this.resourceCache.get(key);
    const now = Date.now();
    if (cached && now - cached.at < POLICY_TTL_MS) return cached.side;
    const side = await this.loadResourceSide(resourceArn, resourceAccount);
    if (this.resourceCache.size >= MAX_CACHED_RESOURCES) this.resourceCache.clear();
    this.resourceCache.set(key, { at: now, side });
    return side;
  }

  /** Resource policies and resource tags for a resource ARN. */
  private async loadResourceSide(resourceArn: string, resourceAccount: string): Promise<ResourceSide> {
    const docs: PolicyDocument[] = [];
    let tags: Array<{ Key: string; Value: string }> = [];
    if (KMS_KEY_ARN.test(resourceArn) && this.resources.kmsKey) {
      const key = await this.resources.kmsKey(resourceArn);
      const doc = key && this.policies.get(key.policyText, 'resource');
      return { docs: doc ? [doc] : [], tags: key?.tags ?? [], authority: true };
    }
    if (IAM_USER_OR_ROLE_ARN.test(resourceArn) && this.identities.iamResourceTags) {
      return { docs, tags: (await this.identities.iamResourceTags(resourceArn)) ?? [] };
    }
    if (EVENTS_ARN.test(resourceArn) && this.resources.eventBridgeTags) {
      return { docs, tags: (await this.resources.eventBridgeTags(resourceArn)) ?? [] };
    }
    const publicRepo = parsePublicRepositoryArn(resourceArn);
    const repo = publicRepo ?? parseRepositoryArn(resourceArn);
    const repository = repo ? await this.resources.repository(repo.registryId, repo.name) : undefined;
    if (repository) {
      if (repository.policyText !== undefined) {
        const doc = this.policies.get(repository.policyText, 'resource');
        if (doc) docs.push(doc);
      }
      if (repository.public) docs.push(this.policies.get(PUBLIC_POLICY, 'resource')!);
      tags = repository.tags;
    }
    // The registry policy is private ECR's; ECR Public has none.
    const registryPolicy = publicRepo ? undefined : await this.resources.registryPolicy(resourceAccount);
    if (registryPolicy) {
      const doc = this.policies.get(registryPolicy, 'resource');
      if (doc) docs.push(doc);
    }
    return { docs, tags };
  }

  /** The decision a KMS key policy not yet in force would give (KMS's policy lockout safety check). */
  async authorizeUnderKeyPolicy(principal: Principal, action: string, keyArn: string, policyText: string): Promise<AuthzDecision> {
    const doc = this.policies.get(policyText, 'resource');
    if (!doc) return denial(principal, action, keyArn, false, 'the key policy is not a valid policy document');
    const result = evaluate(
      { action, resource: keyArn, resourceAccount: arnAccount(keyArn) ?? principal.account, principal, context: {} },
      { identityPolicies: await this.identityPolicies(principal), resourcePolicies: [doc], resourcePolicyIsAuthority: true },
    );
    return result.decision === 'Allow' ? ALLOWED : denial(principal, action, keyArn, result.decision === 'ExplicitDeny', result.reason);
  }

  /** Whether the principal may perform `action` on `resourceArn`. */
  async authorize(principal: Principal, action: string, resourceArn: string, context: AuthzContext = {}): Promise<AuthzDecision> {
    const resourceAccount = arnAccount(resourceArn) ?? principal.account;
    const [identity, resource] = await Promise.all([this.identitySide(principal), this.resourceSide(resourceArn, resourceAccount, principal)]);
    const now = new Date();
    const raw: RawContext = {
      'aws:CurrentTime': now.toISOString(),
      'aws:EpochTime': String(Math.floor(now.getTime() / 1000)),
      'aws:SecureTransport': 'false',
    };
    for (const { Key, Value } of resource.tags) {
      raw[`ecr:ResourceTag/${Key}`] = Value;
      raw[`aws:ResourceTag/${Key}`] = Value;
    }
    for (const { Key, Value } of identity.tags) raw[`aws:PrincipalTag/${Key}`] = Value;
    for (const [k, v] of Object.entries(context)) if (v !== undefined) raw[k] = v;
    const result = evaluate(
      { action, resource: resourceArn, resourceAccount, principal, context: raw },
      { identityPolicies: identity.docs, resourcePolicies: resource.docs, resourcePolicyIsAuthority: resource.authority },
    );
    if (result.decision === 'Allow') return ALLOWED;
    return denial(principal, action, resourceArn, result.decision === 'ExplicitDeny', result.reason);
  }
}
