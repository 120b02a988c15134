import { createHash, randomBytes, randomInt } from 'node:crypto';
import type {
  AccessKeyRow,
  GroupRow,
  IamTag,
  IdentityStore,
  ManagedPolicyRow,
  OwnerKind,
  PolicyVersionRow,
  RoleRow,
  UserRow,
} from '../../store/meta/identity-store.js';
import type { IdentityPolicySource } from '../authorizer.js';
import { MANAGED_POLICIES, managedPolicyByArn } from '../../policy/managed-policies.js';

export type { IamTag, OwnerKind };
export type User = UserRow;
export type AccessKey = AccessKeyRow;
export type Group = GroupRow;
export type ManagedPolicy = ManagedPolicyRow;
export type PolicyVersion = PolicyVersionRow;
export type Role = RoleRow;

/** What a new role is made of. */
export interface NewRole {
  name: string;
  path?: string;
  assumeRolePolicy: string;
  description?: string;
  maxSessionDuration?: number;
  tags?: Array<{ Key: string; Value: string }>;
}

/** IAM's quota of tags per user or role. */
export const MAX_IAM_TAGS = 50;

/** A tag change that would leave more than MAX_IAM_TAGS tags. */
export class TooManyTags extends Error {}

/** IAM's default MaxSessionDuration of a role, in seconds. */
export const DEFAULT_MAX_SESSION_DURATION = 3600;

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function randomId(prefix: string, length = 17): string {
  let out = prefix;
  while (out.length < prefix.length + length) out += ALNUM[randomInt(ALNUM.length)];
  return out;
}

export function newAccessKeyId(): string {
  return randomId('AKIA', 16);
}

export function newSecretAccessKey(): string {
  return randomBytes(30).toString('base64').replace(/[+/]/g, (c) => (c === '+' ? 'k' : 'Q'));
}

export function normalisePath(path: string | undefined): string {
  return path && path.length > 0 ? path : '/';
}

export const userArn = (accountId: string, name: string, path = '/') => `arn:aws:iam::${accountId}:user${path}${name}`;
export const groupArn = (accountId: string, name: string, path = '/') => `arn:aws:iam::${accountId}:group${path}${name}`;
export const roleArn = (accountId: string, name: string, path = '/') => `arn:aws:iam::${accountId}:role${path}${name}`;
export const policyArn = (accountId: string, name: string, path = '/') => `arn:aws:iam::${accountId}:policy${path}${name}`;

/**
 * The accounts' users, access keys, groups and policies: new identities get their ids, ARNs and
 * secrets here; the rest is read and written as stored. No authorization: callers decide.
 */
export class IdentityDirectory implements IdentityPolicySource {
  constructor(private readonly store: IdentityStore) {}

  accountExists(accountId: string): Promise<boolean> {
    return this.store.accountExists(accountId);
  }

  /** False if the account exists already. */
  createAccount(accountId: string, region: string): Promise<boolean> {
    return this.store.createAccount(accountId, region);
  }

  // ---- users -----------------------------------------------------------------------------------
  /** The new user, or undefined if the account has one of that name. */
  async createUser(accountId: string, name: string, path?: string, tags: IamTag[] = []): Promise<User | undefined> {
    const p = normalisePath(path);
    const user: User = { accountId, name, userId: randomId('AIDA'), arn: userArn(accountId, name, p), path: p, tags, createdAt: Date.now() };
    return (await this.store.insertUser(user)) ? user : undefined;
  }

  getUser(accountId: string, name: string): Promise<User | undefined> {
    return this.store.getUser(accountId, name);
  }

  listUsers(accountId: string): Promise<User[]> {
    return this.store.listUsers(accountId);
  }

  /** Whether the user still has keys, policies or groups (IAM refuses to delete it then). */
  userHasDependents(accountId: string, name: string): Promise<boolean> {
    return this.store.userHasDependents(accountId, name);
  }

  /**
   * Adds tags to a user or role, replacing the value of a key it has (keys compare without case, as
   * in IAM). Undefined if there is no such user or role; throws TooManyTags past the limit.
   */
  tag(kind: 'user' | 'role', accountId: string, name: string, tags: IamTag[]): Promise<IamTag[] | undefined> {
    return this.store.changeTags(kind, accountId, name, (current) => {
      const added = new Set(tags.map((t) => t.Key.toLowerCase()));
      const merged = [...current.filter((t) => !added.has(t.Key.toLowerCase())), ...tags];
      if (merged.length > MAX_IAM_TAGS) throw new TooManyTags(`Cannot exceed quota for TagsPerEntity: ${MAX_IAM_TAGS}.`);
      return merged;
    });
  }

  untag(kind: 'user' | 'role', accountId: string, name: string, keys: string[]): Promise<IamTag[] | undefined> {
    const removed = new Set(keys.map((k) => k.toLowerCase()));
    return this.store.changeTags(kind, accountId, name, (current) => current.filter((t) => !removed.has(t.Key.toLowerCase())));
  }

  deleteUser(accountId: string, name: string): Promise<boolean> {
    return this.store.deleteUser(accountId, name);
  }

  // ---- access keys -----------------------------------------------------------------------------
  async createAccessKey(accountId: string, userName: string): Promise<AccessKey> {
    const key: AccessKey = { id: newAccessKeyId(), secret: newSecretAccessKey(), accountId, userName, status: 'Active', createdAt: Date.now() };
    await this.store.insertAccessKey(key);
    return key;
  }

  getAccessKey(id: string): Promise<AccessKey | undefined> {
    return this.store.getAccessKey(id);
  }

  listAccessKeys(accountId: string, userName: string): Promise<AccessKey[]> {
    return this.store.listAccessKeys(accountId, userName);
  }

  setAccessKeyStatus(accountId: string, userName: string, id: string, status: AccessKey['status']): Promise<boolean> {
    return this.store.setAccessKeyStatus(accountId, userName, id, status);
  }

  deleteAccessKey(accountId: string, userName: string, id: string): Promise<boolean> {
    return this.store.deleteAccessKey(accountId, userName, id);
  }

  // ---- groups ----------------------------------------------------------------------------------
  /** The new group, or undefined if the account has one of that name. */
  async createGroup(accountId: string, name: string, path?: string): Promise<Group | undefined> {
    const p = normalisePath(path);
    const group: Group = { accountId, name, groupId: randomId('AGPA'), arn: groupArn(accountId, name, p), path: p, createdAt: Date.now() };
    return (await this.store.insertGroup(group)) ? group : undefined;
  }

  getGroup(accountId: string, name: string): Promise<Group | undefined> {
    return this.store.getGroup(accountId, name);
  }

  listGroups(accountId: string): Promise<Group[]> {
    return this.store.listGroups(accountId);
  }

  groupHasDependents(accountId: string, name: string): Promise<boolean> {
    return this.store.groupHasDependents(accountId, name);
  }

  deleteGroup(accountId: string, name: string): Promise<boolean> {
    return this.store.deleteGroup(accountId, name);
  }

  addUserToGroup(accountId: string, groupName: string, userName: string): Promise<void> {
    return this.store.addUserToGroup(accountId, groupName, userName);
  }

  removeUserFromGroup(accountId: string, groupName: string, userName: string): Promise<boolean> {
    return this.store.removeUserFromGroup(accountId, groupName, userName);
  }

  groupMembers(accountId: string, groupName: string): Promise<User[]> {
    return this.store.groupMembers(accountId, groupName);
  }

  /** The groups a user belongs to, by name. */
  async groupsOfUser(accountId: string, userName: string): Promise<Group[]> {
    const groups = await Promise.all((await this.store.groupsOfUser(accountId, userName)).map((name) => this.store.getGroup(accountId, name)));
    return groups.filter((g): g is Group => g !== undefined);
  }

  // ---- roles ----------------------------------------------------------------------------------
  /** The new role, or undefined if the account has one of that name. */
  async createRole(accountId: string, input: NewRole): Promise<Role | undefined> {
    const p = normalisePath(input.path);
    const role: Role = {
      accountId,
      name: input.name,
      roleId: randomId('AROA'),
      arn: roleArn(accountId, input.name, p),
      path: p,
      ...(input.description === undefined ? {} : { description: input.description }),
      maxSessionDuration: input.maxSessionDuration ?? DEFAULT_MAX_SESSION_DURATION,
      assumeRolePolicy: input.assumeRolePolicy,
      tags: input.tags ?? [],
      createdAt: Date.now(),
    };
    return (await this.store.insertRole(role)) ? role : undefined;
  }

  getRole(accountId: string, name: string): Promise<Role | undefined> {
    return this.store.getRole(accountId, name);
  }

  getRoleByArn(arn: string): Promise<Role | undefined> {
    return this.store.getRoleByArn(arn);
  }

  listRoles(accountId: string): Promise<Role[]> {
    return this.store.listRoles(accountId);
  }

  /** False if there is no such role. */
  updateRole(accountId: string, name: string, change: { description?: string; maxSessionDuration?: number; assumeRolePolicy?: string }): Promise<boolean> {
    return this.store.updateRole(accountId, name, change);
  }

  /** Whether the role still has inline or attached policies (IAM refuses to delete it then). */
  roleHasDependents(accountId: string, name: string): Promise<boolean> {
    return this.store.roleHasDependents(accountId, name);
  }

  deleteRole(accountId: string, name: string): Promise<boolean> {
    return this.store.deleteRole(accountId, name);
  }

  /** The documents (JSON text) of the role's identity policies: inline and attached managed ones. */
  async rolePolicies(accountId: string, roleName: string): Promise<string[]> {
    const texts = (await this.store.listInlinePolicies(accountId, 'role', roleName)).map((p) => p.document);
    for (const arn of await this.store.attachedPolicies(accountId, 'role', roleName)) {
      const text = await this.policyDocument(arn);
      if (text !== undefined) texts.push(text);
    }
    return texts;
  }

  // ---- inline policies -------------------------------------------------------------------------
  putInlinePolicy(accountId: string, kind: OwnerKind, owner: string, policyName: string, document: string): Promise<void> {
    return this.store.putInlinePolicy(accountId, kind, owner, policyName, document);
  }

  getInlinePolicy(accountId: string, kind: OwnerKind, owner: string, policyName: string): Promise<string | undefined> {
    return this.store.getInlinePolicy(accountId, kind, owner, policyName);
  }

  async inlinePolicyNames(accountId: string, kind: OwnerKind, owner: string): Promise<string[]> {
    return (await this.store.listInlinePolicies(accountId, kind, owner)).map((p) => p.name);
  }

  deleteInlinePolicy(accountId: string, kind: OwnerKind, owner: string, policyName: string): Promise<boolean> {
    return this.store.deleteInlinePolicy(accountId, kind, owner, policyName);
  }

  // ---- managed policies ------------------------------------------------------------------------
  /** The new customer managed policy (version v1), or undefined if the account has one of that name. */
  async createPolicy(accountId: string, name: string, path: string | undefined, description: string, document: string): Promise<ManagedPolicy | undefined> {
    const p = normalisePath(path);
    const now = Date.now();
    const policy = { arn: policyArn(accountId, name, p), accountId, name, policyId: randomId('ANPA'), path: p, description, createdAt: now };
    if (!(await this.store.insertPolicy(policy, document))) return undefined;
    return { ...policy, defaultVersion: 'v1', updatedAt: now, attachmentCount: 0 };
  }

  /** A customer managed policy. */
  getPolicy(arn: string): Promise<ManagedPolicy | undefined> {
    return this.store.getPolicy(arn);
  }

  /** The account's customer managed policies. */
  listPolicies(accountId: string): Promise<ManagedPolicy[]> {
    return this.store.listPolicies(accountId);
  }

  /** AWS managed policies as rows, so they list and attach like customer managed ones. */
  async awsManagedPolicies(): Promise<ManagedPolicy[]> {
    return Promise.all(
      Object.entries(MANAGED_POLICIES).map(async ([name, p]) => ({
        arn: p.arn,
        accountId: 'aws',
        name,
        policyId: `ANPA${createHash('sha256').update(name).digest('hex').toUpperCase().slice(0, 17)}`,
        path: '/',
        description: p.description,
        defaultVersion: name.endsWith('PullOnly') ? 'v1' : 'v3',
        createdAt: Date.UTC(2015, 9, 9),
        updatedAt: Date.UTC(2023, 0, 1),
        attachmentCount: await this.store.policyAttachmentCount(p.arn),
      })),
    );
  }

  getPolicyVersion(arn: string, versionId: string): Promise<PolicyVersion | undefined> {
    return this.store.getPolicyVersion(arn, versionId);
  }

  countPolicyVersions(arn: string): Promise<number> {
    return this.store.countPolicyVersions(arn);
  }

  /** Adds a version; returns its id. */
  createPolicyVersion(arn: string, document: string, setAsDefault: boolean): Promise<string> {
    return this.store.createPolicyVersion(arn, document, setAsDefault);
  }

  listPolicyVersions(arn: string): Promise<PolicyVersion[]> {
    return this.store.listPolicyVersions(arn);
  }

  deletePolicyVersion(arn: string, versionId: string): Promise<boolean> {
    return this.store.deletePolicyVersion(arn, versionId);
  }

  setDefaultPolicyVersion(arn: string, versionId: string): Promise<boolean> {
    return this.store.setDefaultPolicyVersion(arn, versionId);
  }

  deletePolicy(arn: string): Promise<boolean> {
    return this.store.deletePolicy(arn);
  }

  attachPolicy(accountId: string, kind: OwnerKind, owner: string, policyArn: string): Promise<void> {
    return this.store.attachPolicy(accountId, kind, owner, policyArn);
  }

  detachPolicy(accountId: string, kind: OwnerKind, owner: string, policyArn: string): Promise<boolean> {
    return this.store.detachPolicy(accountId, kind, owner, policyArn);
  }

  /** The account's groups, users and roles a managed policy is attached to. */
  async policyEntities(accountId: string, policyArn: string): Promise<{ groups: Group[]; users: User[]; roles: Role[] }> {
    const found: { groups: Group[]; users: User[]; roles: Role[] } = { groups: [], users: [], roles: [] };
    for (const { kind, name } of await this.store.policyOwners(accountId, policyArn)) {
      if (kind === 'group') {
        const group = await this.store.getGroup(accountId, name);
        if (group) found.groups.push(group);
      } else if (kind === 'user') {
        const user = await this.store.getUser(accountId, name);
        if (user) found.users.push(user);
      } else {
        const role = await this.store.getRole(accountId, name);
        if (role) found.roles.push(role);
      }
    }
    return found;
  }

  attachedPolicies(accountId: string, kind: OwnerKind, owner: string): Promise<string[]> {
    return this.store.attachedPolicies(accountId, kind, owner);
  }

  /** The document of an AWS managed policy, or of a customer managed policy's default version. */
  async policyDocument(arn: string): Promise<string | undefined> {
    return managedPolicyByArn(arn)?.document ?? (await this.store.defaultPolicyDocument(arn));
  }

  async iamResourceTags(arn: string): Promise<IamTag[] | undefined> {
    const m = /^arn:[^:]+:iam::(\d{12}):(user|role)\/(?:.*\/)?([^/]+)$/.exec(arn);
    if (!m) return undefined;
    const found = m[2] === 'user' ? await this.store.getUser(m[1]!, m[3]!) : await this.store.getRole(m[1]!, m[3]!);
    // By name alone: some IAM calls are authorized on the ARN without the user's path.
    return found?.tags;
  }

  async userTags(accountId: string, userName: string): Promise<IamTag[]> {
    return (await this.store.getUser(accountId, userName))?.tags ?? [];
  }

  async userPolicies(accountId: string, userName: string): Promise<string[]> {
    if (!(await this.store.getUser(accountId, userName))) return [];
    const texts = (await this.store.listInlinePolicies(accountId, 'user', userName)).map((p) => p.document);
    const attached = await this.store.attachedPolicies(accountId, 'user', userName);
    for (const group of await this.store.groupsOfUser(accountId, userName)) {
      for (const p of await this.store.listInlinePolicies(accountId, 'group', group)) texts.push(p.document);
      attached.push(...(await this.store.attachedPolicies(accountId, 'group', group)));
    }
    for (const arn of new Set(attached)) {
      const text = await this.policyDocument(arn);
      if (text !== undefined) texts.push(text);
    }
    return texts;
  }
}
