import { EcrError } from '../ecr/errors.js';
import type { MetadataStore } from '../store/meta/metadata-store.js';
import { managedPolicyByArn } from './managed-policies.js';
import { evaluate, type PolicyDocument, type RawContext } from './policy/index.js';
import type { IdentityStore } from './identity-store.js';
import { PolicyCache } from './policy-cache.js';
import type { Principal } from './principal.js';

const REPOSITORY_ARN = /^arn:[^:]+:ecr:[^:]*:(\d{12}):repository\/(.+)$/;
const ARN_ACCOUNT = /^arn:[^:]+:[^:]*:[^:]*:(\d{12}):/;
/**
 * How long policies read from the store are reused. Changes made through this process clear the
 * caches at once; other processes (admin commands, other nodes) see them within this time, much
 * as AWS propagates policy changes eventually.
 */
const POLICY_TTL_MS = 2000;
const MAX_CACHED_RESOURCES = 10_000;

interface ResourceSide {
  docs: PolicyDocument[];
  tags: Array<{ Key: string; Value: string }>;
}

/** What anonymous callers (and anyone else) may do on a repository marked `public`. */
export const PUBLIC_PULL_ACTIONS = [
  'ecr:BatchGetImage',
  'ecr:GetDownloadUrlForLayer',
  'ecr:BatchCheckLayerAvailability',
  'ecr:ListImages',
  'ecr:DescribeImages',
];

const PUBLIC_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Sid: 'BerthPublicRepository', Effect: 'Allow', Principal: '*', Action: PUBLIC_PULL_ACTIONS }],
});

export type AuthzContext = Record<string, string | string[] | undefined>;

/** Gathers the policies that bear on a request and turns the evaluator's decision into AWS's error. */
export class Authorizer {
  private readonly policies = new PolicyCache();
  private readonly identityCache = new Map<string, { at: number; docs: PolicyDocument[] }>();
  private readonly resourceCache = new Map<string, { at: number; side: ResourceSide }>();

  constructor(
    private readonly meta: MetadataStore,
    private readonly store: IdentityStore,
  ) {}

  /** Forget cached policies (after a change made by this process to identities or resources). */
  invalidate(): void {
    this.identityCache.clear();
    this.resourceCache.clear();
  }

  private async policyText(arn: string): Promise<string | undefined> {
    return managedPolicyByArn(arn)?.document ?? (await this.store.defaultPolicyDocument(arn));
  }

  async identityPolicies(principal: Principal): Promise<PolicyDocument[]> {
    if (principal.anonymous || principal.userName === undefined) return [];
    const cached = this.identityCache.get(principal.arn);
    const now = Date.now();
    if (cached && now - cached.at < POLICY_TTL_MS) return cached.docs;
    const account = principal.account;
    const user = principal.userName;
    const texts: string[] = [];
    if (await this.store.getUser(account, user)) {
      for (const p of await this.store.listInlinePolicies(account, 'user', user)) texts.push(p.document);
      const attached = await this.store.attachedPolicies(account, 'user', user);
      for (const group of await this.store.groupsOfUser(account, user)) {
        for (const p of await this.store.listInlinePolicies(account, 'group', group)) texts.push(p.document);
        attached.push(...(await this.store.attachedPolicies(account, 'group', group)));
      }
      for (const arn of new Set(attached)) {
        const text = await this.policyText(arn);
        if (text !== undefined) texts.push(text);
      }
    }
    const docs = texts.map((t) => this.policies.get(t, 'identity')).filter((d): d is PolicyDocument => d !== undefined);
    this.identityCache.set(principal.arn, { at: now, docs });
    return docs;
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
    const repo = REPOSITORY_ARN.exec(resourceArn);
    if (repo) {
      const row = await this.meta.getRepository(repo[1]!, repo[2]!);
      if (row) {
        const s = row.settings;
        if (typeof s.policyText === 'string') {
          const doc = this.policies.get(s.policyText, 'resource');
          if (doc) docs.push(doc);
        }
        if (s.public === true) docs.push(this.policies.get(PUBLIC_POLICY, 'resource')!);
        if (Array.isArray(s.tags)) tags = s.tags.filter((t): t is { Key: string; Value: string } => typeof t?.Key === 'string' && typeof t?.Value === 'string');
      }
    }
    const registryPolicy = await this.meta.getSetting(`account:${resourceAccount}:registryPolicy`);
    if (registryPolicy) {
      const doc = this.policies.get(registryPolicy, 'resource');
      if (doc) docs.push(doc);
    }
    return { docs, tags };
  }

  /** Throws AccessDeniedException unless the principal may perform `action` on `resourceArn`. */
  async authorize(principal: Principal, action: string, resourceArn: string, context: AuthzContext = {}): Promise<void> {
    const resourceAccount = ARN_ACCOUNT.exec(resourceArn)?.[1] ?? principal.account;
    const [identityPolicies, resource] = await Promise.all([this.identityPolicies(principal), this.resourceSide(resourceArn, resourceAccount, principal)]);
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
    for (const [k, v] of Object.entries(context)) if (v !== undefined) raw[k] = v;
    const result = evaluate(
      { action, resource: resourceArn, resourceAccount, principal, context: raw },
      { identityPolicies, resourcePolicies: resource.docs },
    );
    if (result.decision === 'Allow') return;
    throw accessDenied(principal, action, resourceArn, result.decision === 'ExplicitDeny', result.reason);
  }
}

function accessDenied(principal: Principal, action: string, resourceArn: string, explicit: boolean, reason: string): EcrError {
  const who = principal.anonymous ? 'anonymous' : principal.arn;
  let because: string;
  if (explicit) because = `with an explicit deny in ${/resource policy/.test(reason) ? 'a resource-based' : 'an identity-based'} policy`;
  else if (/no resource policy grants/.test(reason) && !/no identity policy/.test(reason)) because = `because no resource-based policy allows the ${action} action`;
  else because = `because no identity-based policy allows the ${action} action`;
  return new EcrError('AccessDeniedException', `User: ${who} is not authorized to perform: ${action} on resource: ${resourceArn} ${because}`, 400);
}
