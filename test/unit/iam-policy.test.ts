import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MANAGED_POLICIES } from '../../src/policy/managed-policies.js';
import {
  evaluate,
  parseCidr,
  parseIp,
  cidrContains,
  parsePolicyDocument,
  PolicyValidationError,
  type Decision,
  type PolicyDocument,
  type Principal,
  type RawContext,
} from '../../src/policy/index.js';

const A = '111122223333'; // the registry's account
const B = '444455556666'; // another account
const REPO = `arn:aws:ecr:us-east-1:${A}:repository/app/web`;
const repo = (name: string) => `arn:aws:ecr:us-east-1:${A}:repository/${name}`;

const alice: Principal = { arn: `arn:aws:iam::${A}:user/alice`, account: A, userName: 'alice' };
const bob: Principal = { arn: `arn:aws:iam::${A}:user/bob`, account: A, userName: 'bob' };
const root: Principal = { arn: `arn:aws:iam::${A}:root`, account: A };
const deployerSession: Principal = { arn: `arn:aws:sts::${A}:assumed-role/deployer/s1`, account: A };
const carol: Principal = { arn: `arn:aws:iam::${B}:user/carol`, account: B, userName: 'carol' };
const dave: Principal = { arn: `arn:aws:iam::${B}:user/dave`, account: B, userName: 'dave' };
const ciSession: Principal = { arn: `arn:aws:sts::${B}:assumed-role/ci-role/build-42`, account: B };
const anonymous: Principal = { arn: '*', account: '', anonymous: true };

type Stmt = Record<string, unknown>;
/** A policy: a full document object, or just its statements (Version 2012-10-17). */
type PolicyInput = Stmt[] | { Version?: string; Statement: unknown };

const allow = (action: string | string[], resource: string | string[] = '*', extra: Stmt = {}): Stmt => ({
  Effect: 'Allow', Action: action, Resource: resource, ...extra,
});
const deny = (action: string | string[], resource: string | string[] = '*', extra: Stmt = {}): Stmt => ({
  Effect: 'Deny', Action: action, Resource: resource, ...extra,
});
/** A repository-policy statement (no Resource). */
const grant = (effect: 'Allow' | 'Deny', principal: unknown, action: string | string[], extra: Stmt = {}): Stmt => ({
  Effect: effect, Principal: principal, Action: action, ...extra,
});
const PULL = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'];

function toDocument(policy: PolicyInput, kind: 'identity' | 'resource'): PolicyDocument {
  const body = Array.isArray(policy) ? { Version: '2012-10-17', Statement: policy } : policy;
  return parsePolicyDocument(JSON.stringify(body), kind);
}

interface Case {
  name: string;
  identity?: PolicyInput[];
  resource?: PolicyInput[];
  principal?: Principal;
  action?: string;
  arn?: string;
  resourceAccount?: string;
  context?: RawContext;
  expect: Decision;
}

function run(c: Case) {
  return evaluate(
    {
      action: c.action ?? 'ecr:BatchGetImage',
      resource: c.arn ?? REPO,
      resourceAccount: c.resourceAccount ?? A,
      principal: c.principal ?? alice,
      context: c.context ?? {},
    },
    {
      identityPolicies: (c.identity ?? []).map((p) => toDocument(p, 'identity')),
      resourcePolicies: (c.resource ?? []).map((p) => toDocument(p, 'resource')),
    },
  );
}

const managed = (name: keyof typeof MANAGED_POLICIES): PolicyInput => JSON.parse(MANAGED_POLICIES[name].document);

const cases: Case[] = [
  // ---- basics: default deny, Allow, explicit Deny wins ----
  { name: 'no policies at all: implicit deny', expect: 'ImplicitDeny' },
  { name: 'identity policy allows the action on the repository', identity: [[allow('ecr:BatchGetImage', REPO)]], expect: 'Allow' },
  { name: 'identity policy allows a different action', identity: [[allow('ecr:PutImage', REPO)]], expect: 'ImplicitDeny' },
  { name: 'ecr:* covers PutImage', identity: [[allow('ecr:*')]], action: 'ecr:PutImage', expect: 'Allow' },
  { name: 'action matching is case-insensitive', identity: [[allow('ECR:batchgetimage')]], expect: 'Allow' },
  { name: 'ecr:Batch* matches BatchGetImage', identity: [[allow('ecr:Batch*')]], expect: 'Allow' },
  { name: 'ecr:Batch* does not match GetDownloadUrlForLayer', identity: [[allow('ecr:Batch*')]], action: 'ecr:GetDownloadUrlForLayer', expect: 'ImplicitDeny' },
  { name: '? matches exactly one character in an action', identity: [[allow('ecr:?etDownloadUrlForLayer')]], action: 'ecr:GetDownloadUrlForLayer', expect: 'Allow' },
  { name: '? does not match zero characters', identity: [[allow('ecr:?GetDownloadUrlForLayer')]], action: 'ecr:GetDownloadUrlForLayer', expect: 'ImplicitDeny' },
  { name: 'Action "*" allows anything', identity: [[allow('*')]], action: 'ecr:DeleteRepository', expect: 'Allow' },
  { name: 'Resource wildcard over a namespace', identity: [[allow('ecr:*', repo('app/*'))]], expect: 'Allow' },
  { name: 'Resource wildcard does not cover another namespace', identity: [[allow('ecr:*', repo('app/*'))]], arn: repo('other/x'), expect: 'ImplicitDeny' },
  { name: 'Resource matching is case-sensitive', identity: [[allow('ecr:*', repo('APP/*'))]], expect: 'ImplicitDeny' },
  { name: 'Resource * spans ":" and "/"', identity: [[allow('ecr:*', `arn:aws:ecr:*:${A}:*`)]], expect: 'Allow' },
  { name: 'Resource ? matches one character', identity: [[allow('ecr:*', `arn:aws:ecr:us-east-?:${A}:repository/app/web`)]], expect: 'Allow' },
  { name: 'a list of resources is ORed', identity: [[allow('ecr:*', [repo('x'), REPO])]], expect: 'Allow' },
  { name: 'explicit Deny beats Allow in the same policy', identity: [[allow('ecr:*'), deny('ecr:BatchGetImage', REPO)]], expect: 'ExplicitDeny' },
  { name: 'explicit Deny in a second identity policy beats Allow in the first', identity: [[allow('ecr:*')], [deny('ecr:*', REPO)]], expect: 'ExplicitDeny' },
  { name: 'Deny on another repository does not apply', identity: [[allow('ecr:*'), deny('ecr:*', repo('secret'))]], expect: 'Allow' },

  // ---- NotAction / NotResource (IAM user guide examples) ----
  { name: 'Allow NotAction iam:* allows ecr actions', identity: [[{ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }]], action: 'ecr:PutImage', expect: 'Allow' },
  { name: 'Allow NotAction iam:* does not allow iam actions', identity: [[{ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }]], action: 'iam:CreateUser', arn: '*', expect: 'ImplicitDeny' },
  { name: 'Deny NotAction: everything but pull is denied', identity: [[allow('ecr:*'), { Effect: 'Deny', NotAction: PULL, Resource: '*' }]], action: 'ecr:PutImage', expect: 'ExplicitDeny' },
  { name: 'Deny NotAction: pull stays allowed', identity: [[allow('ecr:*'), { Effect: 'Deny', NotAction: PULL, Resource: '*' }]], action: 'ecr:BatchGetImage', expect: 'Allow' },
  { name: 'Deny NotResource outside prod/* denies app/web', identity: [[allow('ecr:*'), { Effect: 'Deny', Action: 'ecr:*', NotResource: repo('prod/*') }]], expect: 'ExplicitDeny' },
  { name: 'Deny NotResource outside prod/* spares prod/api', identity: [[allow('ecr:*'), { Effect: 'Deny', Action: 'ecr:*', NotResource: repo('prod/*') }]], arn: repo('prod/api'), expect: 'Allow' },
  { name: 'Allow NotResource secret covers app/web', identity: [[{ Effect: 'Allow', Action: 'ecr:*', NotResource: repo('secret') }]], expect: 'Allow' },
  { name: 'Allow NotResource secret does not cover secret', identity: [[{ Effect: 'Allow', Action: 'ecr:*', NotResource: repo('secret') }]], arn: repo('secret'), expect: 'ImplicitDeny' },

  // ---- policy variables ----
  { name: '${aws:username} in Resource: own namespace', identity: [[allow('ecr:*', repo('${aws:username}/*'))]], arn: repo('alice/tool'), expect: 'Allow' },
  { name: "${aws:username} in Resource: someone else's namespace", identity: [[allow('ecr:*', repo('${aws:username}/*'))]], arn: repo('bob/tool'), expect: 'ImplicitDeny' },
  { name: 'Version 2008-10-17 has no policy variables', identity: [{ Version: '2008-10-17', Statement: [allow('ecr:*', repo('${aws:username}/*'))] }], arn: repo('alice/tool'), expect: 'ImplicitDeny' },
  { name: 'a variable the request lacks (role session has no username) matches nothing', principal: deployerSession, identity: [[allow('ecr:*', repo('${aws:username}/*'))]], arn: repo('deployer/tool'), expect: 'ImplicitDeny' },
  { name: "a variable's default value is used when the key is missing", principal: deployerSession, identity: [[allow('ecr:*', repo("${aws:username, 'shared'}/*"))]], arn: repo('shared/tool'), expect: 'Allow' },
  { name: '${*} is a literal asterisk, not a wildcard', identity: [[allow('ecr:*', repo('${*}'))]], expect: 'ImplicitDeny' },
  { name: 'variable in a condition value: owner tag equals the caller', identity: [[allow('ecr:*', '*', { Condition: { StringEquals: { 'aws:ResourceTag/owner': '${aws:username}' } } })]], context: { 'aws:ResourceTag/owner': 'alice' }, expect: 'Allow' },
  { name: 'variable in a condition value: owner tag is someone else', principal: bob, identity: [[allow('ecr:*', '*', { Condition: { StringEquals: { 'aws:ResourceTag/owner': '${aws:username}' } } })]], context: { 'aws:ResourceTag/owner': 'alice' }, expect: 'ImplicitDeny' },

  // ---- same-account resource (repository) policies ----
  { name: 'repository policy naming the user allows without an identity policy', resource: [[grant('Allow', { AWS: alice.arn }, 'ecr:BatchGetImage')]], expect: 'Allow' },
  { name: 'repository policy naming another user does not allow', resource: [[grant('Allow', { AWS: bob.arn }, 'ecr:BatchGetImage')]], expect: 'ImplicitDeny' },
  { name: 'repository policy naming only the own account root delegates to IAM: no identity policy, no access', resource: [[grant('Allow', { AWS: `arn:aws:iam::${A}:root` }, 'ecr:*')]], expect: 'ImplicitDeny' },
  { name: 'repository policy naming the own account plus an identity Allow', resource: [[grant('Allow', { AWS: A }, 'ecr:*')]], identity: [[allow('ecr:BatchGetImage')]], expect: 'Allow' },
  { name: 'repository policy with Principal "*" allows a same-account user', resource: [[grant('Allow', '*', 'ecr:BatchGetImage')]], expect: 'Allow' },
  { name: 'repository policy naming a role allows its sessions', principal: deployerSession, resource: [[grant('Allow', { AWS: `arn:aws:iam::${A}:role/deployer` }, 'ecr:*')]], action: 'ecr:PutImage', expect: 'Allow' },
  { name: 'Service principal never matches a user', resource: [[grant('Allow', { Service: 'codebuild.amazonaws.com' }, PULL)]], expect: 'ImplicitDeny' },
  { name: 'repository policy Deny for everyone beats an identity Allow', identity: [[allow('ecr:*')]], resource: [[grant('Deny', '*', 'ecr:DeleteRepository')]], action: 'ecr:DeleteRepository', expect: 'ExplicitDeny' },
  { name: 'repository policy Deny for another user does not affect alice', identity: [[allow('ecr:*')]], resource: [[grant('Deny', { AWS: bob.arn }, 'ecr:*')]], expect: 'Allow' },
  { name: 'repository policy with an explicit Resource only covers that repository', resource: [[grant('Allow', '*', 'ecr:*', { Resource: repo('other') })]], expect: 'ImplicitDeny' },
  { name: 'account root user has full access in its own account', principal: root, action: 'ecr:DeleteRepository', expect: 'Allow' },
  { name: 'a repository policy Deny still binds the root user', principal: root, resource: [[grant('Deny', '*', 'ecr:DeleteRepository')]], action: 'ecr:DeleteRepository', expect: 'ExplicitDeny' },

  // ---- ECR example: deny everyone except one user (NotPrincipal) ----
  { name: 'Deny NotPrincipal [alice, account]: alice keeps access', identity: [[allow('ecr:*')]], resource: [[grant('Deny', undefined, 'ecr:*', { Principal: undefined, NotPrincipal: { AWS: [alice.arn, `arn:aws:iam::${A}:root`] } })]], expect: 'Allow' },
  { name: 'Deny NotPrincipal [alice, account]: bob is denied', principal: bob, identity: [[allow('ecr:*')]], resource: [[grant('Deny', undefined, 'ecr:*', { Principal: undefined, NotPrincipal: { AWS: [alice.arn, `arn:aws:iam::${A}:root`] } })]], expect: 'ExplicitDeny' },
  { name: 'Deny NotPrincipal listing only the user (not its account) denies that user too', identity: [[allow('ecr:*')]], resource: [[grant('Deny', undefined, 'ecr:*', { Principal: undefined, NotPrincipal: { AWS: alice.arn } })]], expect: 'ExplicitDeny' },
  { name: 'Deny NotPrincipal denies anonymous callers', principal: anonymous, resource: [[grant('Allow', '*', 'ecr:*'), grant('Deny', undefined, 'ecr:*', { Principal: undefined, NotPrincipal: { AWS: [alice.arn, A] } })]], expect: 'ExplicitDeny' },

  // ---- ECR example: allow another account to pull (cross-account) ----
  { name: 'cross-account pull: repository policy grants the account, caller identity allows', principal: carol, identity: [[allow('ecr:BatchGetImage')]], resource: [[grant('Allow', { AWS: `arn:aws:iam::${B}:root` }, PULL)]], expect: 'Allow' },
  { name: 'cross-account pull: no identity policy in the caller account', principal: carol, resource: [[grant('Allow', { AWS: `arn:aws:iam::${B}:root` }, PULL)]], expect: 'ImplicitDeny' },
  { name: 'cross-account: identity policy alone is not enough', principal: carol, identity: [[allow('ecr:*')]], expect: 'ImplicitDeny' },
  { name: 'cross-account push: action not granted by the repository policy', principal: carol, identity: [[allow('ecr:*')]], resource: [[grant('Allow', { AWS: `arn:aws:iam::${B}:root` }, PULL)]], action: 'ecr:PutImage', expect: 'ImplicitDeny' },
  { name: 'cross-account: repository policy names a different account', principal: carol, identity: [[allow('ecr:*')]], resource: [[grant('Allow', { AWS: 'arn:aws:iam::999988887777:root' }, PULL)]], expect: 'ImplicitDeny' },
  { name: 'cross-account: account given as a bare 12-digit id', principal: carol, identity: [[allow('ecr:*')]], resource: [[grant('Allow', { AWS: B }, PULL)]], expect: 'Allow' },
  { name: 'cross-account: repository policy names the user', principal: carol, identity: [[allow('ecr:*')]], resource: [[grant('Allow', { AWS: [carol.arn] }, PULL)]], expect: 'Allow' },
  { name: 'cross-account: repository policy names another user of that account', principal: dave, identity: [[allow('ecr:*')]], resource: [[grant('Allow', { AWS: [carol.arn] }, PULL)]], expect: 'ImplicitDeny' },
  { name: 'cross-account role session matched by its role ARN', principal: ciSession, identity: [[allow('ecr:*')]], resource: [[grant('Allow', { AWS: `arn:aws:iam::${B}:role/ci-role` }, PULL)]], expect: 'Allow' },
  { name: 'cross-account role session matched by a role ARN with a path', principal: ciSession, identity: [[allow('ecr:*')]], resource: [[grant('Allow', { AWS: `arn:aws:iam::${B}:role/build/ci-role` }, PULL)]], expect: 'Allow' },
  { name: 'cross-account: identity Deny wins over both Allows', principal: carol, identity: [[allow('ecr:*'), deny('ecr:BatchGetImage')]], resource: [[grant('Allow', { AWS: B }, PULL)]], expect: 'ExplicitDeny' },
  { name: 'cross-account: repository Deny for the account wins', principal: carol, identity: [[allow('ecr:*')]], resource: [[grant('Allow', '*', 'ecr:*'), grant('Deny', { AWS: B }, 'ecr:PutImage')]], action: 'ecr:PutImage', expect: 'ExplicitDeny' },
  { name: 'cross-account with Principal "*": still needs the caller identity policy', principal: carol, resource: [[grant('Allow', '*', PULL)]], expect: 'ImplicitDeny' },
  { name: 'cross-account with Principal "*" and an identity Allow', principal: carol, identity: [[allow('ecr:BatchGetImage')]], resource: [[grant('Allow', '*', PULL)]], expect: 'Allow' },

  // ---- ECR example: public pull (anonymous) ----
  { name: 'public pull: Principal "*" allows anonymous BatchGetImage', principal: anonymous, resource: [[grant('Allow', '*', PULL)]], expect: 'Allow' },
  { name: 'public pull: anonymous push is not allowed', principal: anonymous, resource: [[grant('Allow', '*', PULL)]], action: 'ecr:PutImage', expect: 'ImplicitDeny' },
  { name: 'public pull: {"AWS":"*"} also admits anonymous', principal: anonymous, resource: [[grant('Allow', { AWS: '*' }, PULL)]], expect: 'Allow' },
  { name: 'anonymous is not admitted by an account principal', principal: anonymous, resource: [[grant('Allow', { AWS: A }, PULL)]], expect: 'ImplicitDeny' },
  { name: 'identity policies never apply to anonymous callers', principal: anonymous, identity: [[allow('*')]], expect: 'ImplicitDeny' },
  { name: 'anonymous is not admitted by Allow NotPrincipal', principal: anonymous, resource: [[grant('Allow', undefined, PULL, { Principal: undefined, NotPrincipal: { AWS: bob.arn } })]], expect: 'ImplicitDeny' },

  // ---- ECR example: aws:SourceIp ----
  ...(() => {
    const ipFence: PolicyInput = [grant('Deny', '*', 'ecr:*', { Condition: { NotIpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '203.0.113.0/24'] } } })];
    const id: PolicyInput[] = [[allow('ecr:*')]];
    return [
      { name: 'SourceIp fence: caller inside 10.0.0.0/8', identity: id, resource: [ipFence], context: { 'aws:SourceIp': '10.1.2.3' }, expect: 'Allow' },
      { name: 'SourceIp fence: caller inside the second block', identity: id, resource: [ipFence], context: { 'aws:SourceIp': '203.0.113.77' }, expect: 'Allow' },
      { name: 'SourceIp fence: caller outside', identity: id, resource: [ipFence], context: { 'aws:SourceIp': '192.168.1.1' }, expect: 'ExplicitDeny' },
      { name: 'SourceIp fence: NotIpAddress with the key missing is true, so Deny applies', identity: id, resource: [ipFence], expect: 'ExplicitDeny' },
      { name: 'SourceIp fence: IPv4-mapped IPv6 address counts as IPv4', identity: id, resource: [ipFence], context: { 'aws:SourceIp': '::ffff:10.9.9.9' }, expect: 'Allow' },
    ] satisfies Case[];
  })(),
  { name: 'IpAddress IPv6 CIDR: address inside', identity: [[allow('ecr:*', '*', { Condition: { IpAddress: { 'aws:SourceIp': '2001:DB8:1234:5678::/64' } } })]], context: { 'aws:SourceIp': '2001:db8:1234:5678::1' }, expect: 'Allow' },
  { name: 'IpAddress IPv6 CIDR: address outside', identity: [[allow('ecr:*', '*', { Condition: { IpAddress: { 'aws:SourceIp': '2001:DB8:1234:5678::/64' } } })]], context: { 'aws:SourceIp': '2001:db8:1234:9999::1' }, expect: 'ImplicitDeny' },
  { name: 'IpAddress with a bare address is a single host', identity: [[allow('ecr:*', '*', { Condition: { IpAddress: { 'aws:SourceIp': '198.51.100.7' } } })]], context: { 'aws:SourceIp': '198.51.100.8' }, expect: 'ImplicitDeny' },

  // ---- String operators ----
  ...conditionCases('StringEquals', { 'aws:ResourceTag/team': 'platform' }, [
    ['matching tag', { 'aws:ResourceTag/team': 'platform' }, 'Allow'],
    ['value comparison is case-sensitive', { 'aws:ResourceTag/team': 'Platform' }, 'ImplicitDeny'],
    ['missing key is false', {}, 'ImplicitDeny'],
    ['condition key lookup is case-insensitive', { 'AWS:RESOURCETAG/TEAM': 'platform' }, 'Allow'],
  ]),
  ...conditionCases('StringEquals', { 'aws:ResourceTag/team': ['dev', 'platform'] }, [['several values are ORed', { 'aws:ResourceTag/team': 'platform' }, 'Allow']]),
  ...conditionCases('StringNotEquals', { 'aws:ResourceTag/env': ['prod', 'staging'] }, [
    ['value in the list', { 'aws:ResourceTag/env': 'staging' }, 'ImplicitDeny'],
    ['value not in the list', { 'aws:ResourceTag/env': 'dev' }, 'Allow'],
    ['missing key is true for a negated operator', {}, 'Allow'],
  ]),
  ...conditionCases('StringEqualsIgnoreCase', { 'aws:ResourceTag/team': 'PLATFORM' }, [['different case matches', { 'aws:ResourceTag/team': 'platform' }, 'Allow']]),
  ...conditionCases('StringNotEqualsIgnoreCase', { 'aws:ResourceTag/env': 'PROD' }, [['different case still equal', { 'aws:ResourceTag/env': 'prod' }, 'ImplicitDeny']]),
  ...conditionCases('StringLike', { 'aws:ResourceTag/team': 'plat*' }, [
    ['glob matches', { 'aws:ResourceTag/team': 'platform' }, 'Allow'],
    ['glob does not match', { 'aws:ResourceTag/team': 'data' }, 'ImplicitDeny'],
  ]),
  ...conditionCases('StringNotLike', { 'aws:ResourceTag/team': 'plat*' }, [['glob matches, so false', { 'aws:ResourceTag/team': 'platform' }, 'ImplicitDeny']]),
  ...conditionCases('StringEqualsIfExists', { 'aws:ResourceTag/team': 'platform' }, [
    ['missing key is true', {}, 'Allow'],
    ['present and different is false', { 'aws:ResourceTag/team': 'data' }, 'ImplicitDeny'],
  ]),
  { name: 'several keys in one operator are ANDed', identity: [[allow('ecr:*', '*', { Condition: { StringEquals: { 'aws:ResourceTag/team': 'platform', 'aws:ResourceTag/env': 'prod' } } })]], context: { 'aws:ResourceTag/team': 'platform', 'aws:ResourceTag/env': 'dev' }, expect: 'ImplicitDeny' },
  { name: 'several operators are ANDed', identity: [[allow('ecr:*', '*', { Condition: { StringEquals: { 'aws:ResourceTag/team': 'platform' }, Bool: { 'aws:SecureTransport': 'true' } } })]], context: { 'aws:ResourceTag/team': 'platform', 'aws:SecureTransport': true }, expect: 'Allow' },

  // ---- Numeric, Date, Bool, Binary, Arn, Null ----
  ...conditionCases('NumericLessThanEquals', { 'ecr:maxResults': '10' }, [
    ['5 <= 10', { 'ecr:maxResults': 5 }, 'Allow'],
    ['11 > 10', { 'ecr:maxResults': '11' }, 'ImplicitDeny'],
    ['a non-number never matches', { 'ecr:maxResults': 'ten' }, 'ImplicitDeny'],
  ]),
  ...conditionCases('NumericGreaterThan', { 'ecr:maxResults': 10 }, [['exactly 10 is not greater', { 'ecr:maxResults': 10 }, 'ImplicitDeny']]),
  ...conditionCases('NumericNotEquals', { 'ecr:maxResults': ['1', '2'] }, [['3 is neither', { 'ecr:maxResults': 3 }, 'Allow']]),
  { name: 'DateGreaterThan + DateLessThan window: inside', identity: [[allow('ecr:*', '*', { Condition: { DateGreaterThan: { 'aws:CurrentTime': '2020-04-01T00:00:00Z' }, DateLessThan: { 'aws:CurrentTime': '2020-06-30T23:59:59Z' } } })]], context: { 'aws:CurrentTime': '2020-05-01T12:00:00Z' }, expect: 'Allow' },
  { name: 'DateGreaterThan + DateLessThan window: after', identity: [[allow('ecr:*', '*', { Condition: { DateGreaterThan: { 'aws:CurrentTime': '2020-04-01T00:00:00Z' }, DateLessThan: { 'aws:CurrentTime': '2020-06-30T23:59:59Z' } } })]], context: { 'aws:CurrentTime': '2020-07-01T00:00:00Z' }, expect: 'ImplicitDeny' },
  ...conditionCases('DateLessThan', { 'aws:EpochTime': '1700000000' }, [['epoch seconds compare with an ISO date', { 'aws:EpochTime': '2023-01-01T00:00:00Z' }, 'Allow']]),
  { name: 'Deny when aws:SecureTransport is false (plain HTTP)', identity: [[allow('ecr:*'), deny('ecr:*', '*', { Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]], context: { 'aws:SecureTransport': false }, expect: 'ExplicitDeny' },
  { name: 'SecureTransport Deny does not apply over TLS', identity: [[allow('ecr:*'), deny('ecr:*', '*', { Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]], context: { 'aws:SecureTransport': true }, expect: 'Allow' },
  { name: 'Bool with the key missing is false, so the Deny does not apply', identity: [[allow('ecr:*'), deny('ecr:*', '*', { Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]], expect: 'Allow' },
  { name: 'MFA pattern: Deny NotAction iam:* BoolIfExists MFA false, key missing', identity: [[allow('ecr:*'), { Effect: 'Deny', NotAction: 'iam:*', Resource: '*', Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } } }]], expect: 'ExplicitDeny' },
  { name: 'MFA pattern: with MFA present the Deny does not apply', identity: [[allow('ecr:*'), { Effect: 'Deny', NotAction: 'iam:*', Resource: '*', Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } } }]], context: { 'aws:MultiFactorAuthPresent': 'true' }, expect: 'Allow' },
  ...conditionCases('BinaryEquals', { 'custom:blob': 'QmluYXJ5VmFsdWVJbkJhc2U2NA==' }, [
    ['same bytes', { 'custom:blob': 'QmluYXJ5VmFsdWVJbkJhc2U2NA==' }, 'Allow'],
    ['other bytes', { 'custom:blob': 'T3RoZXI=' }, 'ImplicitDeny'],
  ]),
  ...conditionCases('ArnLike', { 'aws:SourceArn': `arn:aws:codebuild:*:${A}:project/*` }, [
    ['matches per ARN segment', { 'aws:SourceArn': `arn:aws:codebuild:us-east-1:${A}:project/builder` }, 'Allow'],
    ['other account does not match', { 'aws:SourceArn': `arn:aws:codebuild:us-east-1:${B}:project/builder` }, 'ImplicitDeny'],
  ]),
  ...conditionCases('ArnEquals', { 'aws:SourceArn': `arn:aws:*:${A}:project/x` }, [['a wildcard does not span ARN segments', { 'aws:SourceArn': `arn:aws:codebuild:us-east-1:${A}:project/x` }, 'ImplicitDeny']]),
  ...conditionCases('ArnNotLike', { 'aws:PrincipalArn': `arn:aws:iam::${A}:user/adm*` }, [['caller is not an admin user', {}, 'Allow']]),
  ...conditionCases('Null', { 'aws:TokenIssueTime': 'true' }, [
    ['key absent: Null true holds', {}, 'Allow'],
    ['key present: Null true fails', { 'aws:TokenIssueTime': '2024-01-01T00:00:00Z' }, 'ImplicitDeny'],
  ]),
  ...conditionCases('Null', { 'aws:ResourceTag/team': 'false' }, [['key present: Null false holds', { 'aws:ResourceTag/team': 'x' }, 'Allow']]),

  // ---- set operators ----
  ...conditionCases('ForAllValues:StringEquals', { 'aws:TagKeys': ['environment', 'cost-center'] }, [
    ['every request tag key is allowed', { 'aws:TagKeys': ['environment'] }, 'Allow'],
    ['one request tag key is not allowed', { 'aws:TagKeys': ['environment', 'owner'] }, 'ImplicitDeny'],
    ['no tag keys at all: ForAllValues is true', {}, 'Allow'],
  ]),
  ...conditionCases('ForAnyValue:StringEquals', { 'aws:TagKeys': ['environment'] }, [
    ['one of the keys matches', { 'aws:TagKeys': ['owner', 'environment'] }, 'Allow'],
    ['none matches', { 'aws:TagKeys': ['owner'] }, 'ImplicitDeny'],
    ['no tag keys at all: ForAnyValue is false', {}, 'ImplicitDeny'],
  ]),
  ...conditionCases('ForAnyValue:StringNotLike', { 'aws:TagKeys': 'team*' }, [['one key outside team*', { 'aws:TagKeys': ['team-a', 'owner'] }, 'Allow']]),
  ...conditionCases('ForAllValues:StringLike', { 'aws:RequestTag/env': ['dev*', 'test'] }, [['single value counts as a one-element set', { 'aws:RequestTag/env': 'dev-1' }, 'Allow']]),

  // ---- AWS managed policies ----
  { name: 'ReadOnly allows BatchGetImage', identity: [managed('AmazonEC2ContainerRegistryReadOnly')], expect: 'Allow' },
  { name: 'ReadOnly does not allow PutImage', identity: [managed('AmazonEC2ContainerRegistryReadOnly')], action: 'ecr:PutImage', expect: 'ImplicitDeny' },
  { name: 'PowerUser allows PutImage', identity: [managed('AmazonEC2ContainerRegistryPowerUser')], action: 'ecr:PutImage', expect: 'Allow' },
  { name: 'PowerUser does not allow DeleteRepository', identity: [managed('AmazonEC2ContainerRegistryPowerUser')], action: 'ecr:DeleteRepository', expect: 'ImplicitDeny' },
  { name: 'PowerUser does not allow SetRepositoryPolicy', identity: [managed('AmazonEC2ContainerRegistryPowerUser')], action: 'ecr:SetRepositoryPolicy', expect: 'ImplicitDeny' },
  { name: 'FullAccess allows DeleteRepository', identity: [managed('AmazonEC2ContainerRegistryFullAccess')], action: 'ecr:DeleteRepository', expect: 'Allow' },
  { name: 'FullAccess allows the ECR replication service-linked role', identity: [managed('AmazonEC2ContainerRegistryFullAccess')], action: 'iam:CreateServiceLinkedRole', arn: '*', context: { 'iam:AWSServiceName': 'replication.ecr.amazonaws.com' }, expect: 'Allow' },
  { name: 'FullAccess does not allow other service-linked roles', identity: [managed('AmazonEC2ContainerRegistryFullAccess')], action: 'iam:CreateServiceLinkedRole', arn: '*', context: { 'iam:AWSServiceName': 'ec2.amazonaws.com' }, expect: 'ImplicitDeny' },
  { name: 'PullOnly allows BatchImportUpstreamImage', identity: [managed('AmazonEC2ContainerRegistryPullOnly')], action: 'ecr:BatchImportUpstreamImage', expect: 'Allow' },
  { name: 'PullOnly does not allow ListImages', identity: [managed('AmazonEC2ContainerRegistryPullOnly')], action: 'ecr:ListImages', expect: 'ImplicitDeny' },
];

/** Cases for one condition operator on an Allow statement, over several request contexts. */
function conditionCases(operator: string, block: Record<string, unknown>, rows: [string, RawContext, Decision][]): Case[] {
  return rows.map(([what, context, expect]) => ({
    name: `${operator}: ${what}`,
    identity: [[allow('ecr:*', '*', { Condition: { [operator]: block } })]],
    context,
    expect,
  }));
}

describe('IAM policy evaluation', () => {
  test('the table has at least 70 cases', () => {
    assert.ok(cases.length >= 70, `only ${cases.length} cases`);
  });
  for (const c of cases) {
    test(c.name, () => {
      const result = run(c);
      assert.equal(result.decision, c.expect, result.reason);
      assert.ok(result.reason.length > 0);
    });
  }
});

describe('parsePolicyDocument', () => {
  const valid = (statement: Stmt) => JSON.stringify({ Version: '2012-10-17', Statement: [statement] });
  const invalid: [string, string, 'identity' | 'resource', RegExp][] = [
    ['malformed JSON', '{"Version": "2012-10-17", "Statement": [', 'identity', /not valid JSON/],
    ['a JSON array instead of an object', '[]', 'identity', /JSON object/],
    ['unknown Version', JSON.stringify({ Version: '2020-01-01', Statement: [allow('ecr:*')] }), 'identity', /Version/],
    ['missing Statement', JSON.stringify({ Version: '2012-10-17' }), 'identity', /Statement/],
    ['empty Statement list', JSON.stringify({ Version: '2012-10-17', Statement: [] }), 'identity', /Statement/],
    ['unknown top-level field', JSON.stringify({ Version: '2012-10-17', Statement: [allow('ecr:*')], Extra: 1 }), 'identity', /Extra/],
    ['missing Effect', valid({ Action: 'ecr:*', Resource: '*' }), 'identity', /Effect/],
    ['bad Effect (lower case)', valid({ Effect: 'allow', Action: 'ecr:*', Resource: '*' }), 'identity', /effect/i],
    ['missing Action', valid({ Effect: 'Allow', Resource: '*' }), 'identity', /Action/],
    ['both Action and NotAction', valid({ Effect: 'Allow', Action: 'ecr:*', NotAction: 'iam:*', Resource: '*' }), 'identity', /NotAction/],
    ['action without a vendor prefix', valid({ Effect: 'Allow', Action: 'BatchGetImage', Resource: '*' }), 'identity', /vendor/],
    ['empty Action list', valid({ Effect: 'Allow', Action: [], Resource: '*' }), 'identity', /empty/],
    ['identity policy without Resource', valid({ Effect: 'Allow', Action: 'ecr:*' }), 'identity', /resources/],
    ['Resource not an ARN', valid({ Effect: 'Allow', Action: 'ecr:*', Resource: 'repository/app' }), 'identity', /ARN format/],
    ['Principal in an identity policy', valid({ Effect: 'Allow', Principal: '*', Action: 'ecr:*', Resource: '*' }), 'identity', /should not specify a principal/],
    ['resource policy without Principal', valid({ Effect: 'Allow', Action: 'ecr:*' }), 'resource', /Principal/],
    ['both Principal and NotPrincipal', valid({ Effect: 'Allow', Principal: '*', NotPrincipal: { AWS: A }, Action: 'ecr:*' }), 'resource', /NotPrincipal/],
    ['Principal string other than "*"', valid({ Effect: 'Allow', Principal: 'alice', Action: 'ecr:*' }), 'resource', /Invalid principal/],
    ['unknown principal type', valid({ Effect: 'Allow', Principal: { User: 'alice' }, Action: 'ecr:*' }), 'resource', /Invalid principal/],
    ['malformed AWS principal', valid({ Effect: 'Allow', Principal: { AWS: 'alice' }, Action: 'ecr:*' }), 'resource', /Invalid principal/],
    ['unknown condition operator', valid({ Effect: 'Allow', Action: 'ecr:*', Resource: '*', Condition: { StringEqualz: { 'aws:x': 'y' } } }), 'identity', /Invalid Condition type : StringEqualz/],
    ['bad CIDR in IpAddress', valid({ Effect: 'Allow', Action: 'ecr:*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/33' } } }), 'identity', /IP address/],
    ['non-numeric NumericEquals value', valid({ Effect: 'Allow', Action: 'ecr:*', Resource: '*', Condition: { NumericEquals: { 'ecr:maxResults': 'ten' } } }), 'identity', /not a number/],
    ['Bool value other than true/false', valid({ Effect: 'Allow', Action: 'ecr:*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'yes' } } }), 'identity', /true or false/],
    ['condition value that is an object', valid({ Effect: 'Allow', Action: 'ecr:*', Resource: '*', Condition: { StringEquals: { 'aws:x': { a: 1 } } } }), 'identity', /strings, numbers or booleans/],
    ['non-alphanumeric Sid in an identity policy', valid({ Sid: 'allow pull', Effect: 'Allow', Action: 'ecr:*', Resource: '*' }), 'identity', /alpha-numeric/],
    ['duplicate Sids in an identity policy', JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'A', ...allow('ecr:*') }, { Sid: 'A', ...allow('ecr:*') }] }), 'identity', /unique/],
    ['unknown statement field', valid({ Effect: 'Allow', Action: 'ecr:*', Resource: '*', Principals: '*' }), 'identity', /Principals/],
  ];
  for (const [name, text, kind, message] of invalid) {
    test(`rejects ${name}`, () => {
      assert.throws(() => parsePolicyDocument(text, kind), (error: unknown) => {
        assert.ok(error instanceof PolicyValidationError, 'expected a PolicyValidationError');
        assert.match(error.message, message);
        return true;
      });
    });
  }

  test('accepts an ECR repository policy without Resource, with a single Statement object', () => {
    const doc = parsePolicyDocument(
      JSON.stringify({ Version: '2008-10-17', Statement: { Sid: 'allow pull from dev account', Effect: 'Allow', Principal: { AWS: [`arn:aws:iam::${B}:root`, B] }, Action: PULL } }),
      'resource',
    );
    assert.equal(doc.version, '2008-10-17');
    assert.equal(doc.statements.length, 1);
    const [statement] = doc.statements;
    assert.equal(statement!.resource, undefined);
    assert.deepEqual(statement!.principal, { AWS: [`arn:aws:iam::${B}:root`, B] });
    assert.deepEqual(statement!.action, PULL);
  });

  test('repository policies may repeat Sids', () => {
    const statement = { Sid: 'same', Effect: 'Allow', Principal: '*', Action: 'ecr:BatchGetImage' };
    const doc = parsePolicyDocument(JSON.stringify({ Version: '2012-10-17', Statement: [statement, statement] }), 'resource');
    assert.equal(doc.statements.length, 2);
  });

  test('normalises string Action/Resource to lists and stringifies condition values', () => {
    const doc = parsePolicyDocument(
      valid({ Effect: 'Deny', Action: 'ecr:PutImage', Resource: REPO, Condition: { NumericGreaterThan: { 'ecr:maxResults': 5 }, Bool: { 'aws:SecureTransport': false } } }),
      'identity',
    );
    const [statement] = doc.statements;
    assert.deepEqual(statement!.action, ['ecr:PutImage']);
    assert.deepEqual(statement!.resource, [REPO]);
    assert.deepEqual(statement!.conditions, [
      { operator: 'NumericGreaterThan', key: 'ecr:maxResults', values: ['5'] },
      { operator: 'Bool', key: 'aws:SecureTransport', values: ['false'] },
    ]);
  });

  test('every managed policy parses as an identity policy with its published ARN', () => {
    for (const [name, policy] of Object.entries(MANAGED_POLICIES)) {
      assert.equal(policy.arn, `arn:aws:iam::aws:policy/${name}`);
      const doc = parsePolicyDocument(policy.document, 'identity');
      assert.equal(doc.version, '2012-10-17');
      assert.ok(doc.statements.length >= 1);
    }
  });
});

describe('IP addresses', () => {
  test('IPv4 CIDR containment', () => {
    assert.equal(cidrContains(parseCidr('10.0.0.0/8')!, parseIp('10.255.0.1')!), true);
    assert.equal(cidrContains(parseCidr('10.0.0.0/8')!, parseIp('11.0.0.1')!), false);
    assert.equal(cidrContains(parseCidr('0.0.0.0/0')!, parseIp('8.8.8.8')!), true);
  });
  test('IPv6 forms: compressed, embedded IPv4, families do not mix', () => {
    assert.equal(cidrContains(parseCidr('2001:db8::/32')!, parseIp('2001:0db8:ffff::1')!), true);
    assert.equal(cidrContains(parseCidr('::1/128')!, parseIp('::1')!), true);
    assert.equal(cidrContains(parseCidr('64:ff9b::/96')!, parseIp('64:ff9b::192.0.2.1')!), true);
    assert.equal(cidrContains(parseCidr('::/0')!, parseIp('10.0.0.1')!), false);
    assert.equal(parseIp('1.2.3.256'), null);
    assert.equal(parseIp('1::2::3'), null);
  });
});
