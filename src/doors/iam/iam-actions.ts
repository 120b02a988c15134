import type { Principal } from '../../iam/auth/principal.js';
import { requestTagContext, type AuthzContext } from '../../iam/identity.js';
import {
  groupArn,
  policyArn,
  roleArn,
  userArn,
  type AccessKey,
  type Group,
  type IdentityDirectory,
  type ManagedPolicy,
  type OwnerKind,
  type Role,
  type User,
} from '../../iam/identity/directory.js';
import { managedPolicyByArn } from '../../policy/managed-policies.js';
import { parsePolicyDocument, PolicyValidationError } from '../../policy/index.js';
import { alreadyExists, deleteConflict, IamError, noSuchEntity, validationError } from './iam-error.js';
import { isoSeconds, type XmlValue } from './query-xml.js';
import { tagsParam } from './tag-params.js';

export interface ActionContext {
  principal: Principal;
  params: URLSearchParams;
  directory: IdentityDirectory;
  /** Authorizes `iam:<action>` on the resource, with the request's own condition keys (its tags); throws AccessDenied. */
  authorize(resourceArn: string, context?: AuthzContext): Promise<void>;
}

/** Refuses a parameter berth would otherwise store and not honour. */
export function refuseUnsupported(ctx: ActionContext, name: string, what: string): void {
  if ([...ctx.params.keys()].some((k) => k === name || k.startsWith(`${name}.`))) throw new IamError('InvalidInput', `${what} not supported by this endpoint.`, 400);
}

export type ActionResult = { [key: string]: XmlValue } | undefined;
export type Action = (ctx: ActionContext) => Promise<ActionResult>;

const NAME = /^[\w+=,.@-]{1,128}$/;
const MAX_POLICY_VERSIONS = 5;

export function param(ctx: ActionContext, name: string): string {
  const v = ctx.params.get(name);
  if (v === null || v === '') throw validationError(`1 validation error detected: Value null at '${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`);
  return v;
}

export function nameParam(ctx: ActionContext, name: string): string {
  const v = param(ctx, name);
  if (!NAME.test(v)) throw validationError(`The specified value for ${name.charAt(0).toLowerCase()}${name.slice(1)} is invalid. It must contain only alphanumeric characters and/or the following: +=,.@_-`);
  return v;
}

export function pathParam(ctx: ActionContext): string {
  const p = ctx.params.get('Path') || '/';
  if (!/^\/([\x21-\x7e]*\/)?$/.test(p)) throw validationError('The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.');
  return p;
}

function policyDocumentParam(ctx: ActionContext): string {
  const doc = param(ctx, 'PolicyDocument');
  try {
    parsePolicyDocument(doc, 'identity');
  } catch (err) {
    if (err instanceof PolicyValidationError) throw new IamError('MalformedPolicyDocument', err.message, 400);
    throw err;
  }
  return doc;
}

export const account = (ctx: ActionContext) => ctx.principal.account;

/** The User shape; `full` adds the tags GetUser and CreateUser show (ListUsers does not). */
function userXml(u: User, full = false): XmlValue {
  return { Path: u.path, UserName: u.name, UserId: u.userId, Arn: u.arn, CreateDate: isoSeconds(u.createdAt), Tags: full && u.tags.length > 0 ? u.tags : undefined };
}
function groupXml(g: Group): XmlValue {
  return { Path: g.path, GroupName: g.name, GroupId: g.groupId, Arn: g.arn, CreateDate: isoSeconds(g.createdAt) };
}
function keyMetadataXml(k: AccessKey): XmlValue {
  return { UserName: k.userName, AccessKeyId: k.id, Status: k.status, CreateDate: isoSeconds(k.createdAt) };
}
function policyXml(p: ManagedPolicy): XmlValue {
  return {
    PolicyName: p.name,
    PolicyId: p.policyId,
    Arn: p.arn,
    Path: p.path,
    DefaultVersionId: p.defaultVersion,
    AttachmentCount: p.attachmentCount,
    PermissionsBoundaryUsageCount: 0,
    IsAttachable: true,
    Description: p.description || undefined,
    CreateDate: isoSeconds(p.createdAt),
    UpdateDate: isoSeconds(p.updatedAt),
  };
}

/** A user of the caller's account; NoSuchEntity if there is none. */
export async function existingUser(ctx: ActionContext, name: string): Promise<User> {
  const u = await ctx.directory.getUser(account(ctx), name);
  if (!u) throw noSuchEntity(`The user with name ${name} cannot be found.`);
  return u;
}

/** A role of the caller's account; NoSuchEntity if there is none. */
export async function existingRole(ctx: ActionContext, name: string): Promise<Role> {
  const r = await ctx.directory.getRole(account(ctx), name);
  if (!r) throw noSuchEntity(`The role with name ${name} cannot be found.`);
  return r;
}

async function existingGroup(ctx: ActionContext, name: string): Promise<Group> {
  const g = await ctx.directory.getGroup(account(ctx), name);
  if (!g) throw noSuchEntity(`The group with name ${name} cannot be found.`);
  return g;
}

async function attachablePolicy(ctx: ActionContext, arn: string): Promise<void> {
  if (managedPolicyByArn(arn)) return;
  const p = await ctx.directory.getPolicy(arn);
  if (!p || p.accountId !== account(ctx)) throw noSuchEntity(`Policy ${arn} does not exist or is not attachable.`);
}

/** A customer managed policy of the caller's account (AWS managed ones cannot be changed). */
async function customerPolicy(ctx: ActionContext, arn: string): Promise<ManagedPolicy> {
  const p = await ctx.directory.getPolicy(arn);
  if (!p || p.accountId !== account(ctx)) throw noSuchEntity(`Policy ${arn} was not found.`);
  return p;
}

/** PolicyArn and VersionId of a call that changes a version of a customer managed policy. */
async function policyVersionTarget(ctx: ActionContext): Promise<{ arn: string; versionId: string; p: ManagedPolicy }> {
  const arn = param(ctx, 'PolicyArn');
  const versionId = param(ctx, 'VersionId');
  await ctx.authorize(arn);
  return { arn, versionId, p: await customerPolicy(ctx, arn) };
}

/** A customer managed policy of the caller's account, or an AWS managed one; NoSuchEntity if neither. */
export async function existingPolicy(ctx: ActionContext, arn: string): Promise<ManagedPolicy> {
  const p = await ctx.directory.getPolicy(arn);
  if (p && p.accountId === account(ctx)) return p;
  const aws = (await ctx.directory.awsManagedPolicies()).find((m) => m.arn === arn);
  if (aws) return aws;
  throw noSuchEntity(`Policy ${arn} was not found.`);
}

const OWNERS = {
  user: { param: 'UserName', arn: userArn, exists: existingUser, name: nameParam },
  group: { param: 'GroupName', arn: groupArn, exists: existingGroup, name: nameParam },
  role: { param: 'RoleName', arn: roleArn, exists: existingRole, name: roleNameParam },
};

/** RoleName: 1 to 64 of IAM's name characters. */
export function roleNameParam(ctx: ActionContext, name = 'RoleName'): string {
  const v = nameParam(ctx, name);
  if (v.length > 64) throw validationError(`1 validation error detected: Value '${v}' at 'roleName' failed to satisfy constraint: Member must have length less than or equal to 64`);
  return v;
}

function inlinePolicyActions(kind: OwnerKind) {
  const { param: ownerParam, arn: arnOf, exists, name: ownerName } = OWNERS[kind];
  return {
    put: async (ctx: ActionContext) => {
      const owner = ownerName(ctx, ownerParam);
      const policyName = nameParam(ctx, 'PolicyName');
      const doc = policyDocumentParam(ctx);
      await ctx.authorize(arnOf(account(ctx), owner));
      await exists(ctx, owner);
      await ctx.directory.putInlinePolicy(account(ctx), kind, owner, policyName, doc);
      return undefined;
    },
    get: async (ctx: ActionContext): Promise<ActionResult> => {
      const owner = ownerName(ctx, ownerParam);
      const policyName = nameParam(ctx, 'PolicyName');
      await ctx.authorize(arnOf(account(ctx), owner));
      await exists(ctx, owner);
      const doc = await ctx.directory.getInlinePolicy(account(ctx), kind, owner, policyName);
      if (doc === undefined) throw noSuchEntity(`The ${kind} policy with name ${policyName} cannot be found.`);
      return { [ownerParam]: owner, PolicyName: policyName, PolicyDocument: encodeURIComponent(doc) };
    },
    list: async (ctx: ActionContext): Promise<ActionResult> => {
      const owner = ownerName(ctx, ownerParam);
      await ctx.authorize(arnOf(account(ctx), owner));
      await exists(ctx, owner);
      const names = await ctx.directory.inlinePolicyNames(account(ctx), kind, owner);
      return { PolicyNames: names, IsTruncated: false };
    },
    delete: async (ctx: ActionContext) => {
      const owner = ownerName(ctx, ownerParam);
      const policyName = nameParam(ctx, 'PolicyName');
      await ctx.authorize(arnOf(account(ctx), owner));
      await exists(ctx, owner);
      if (!(await ctx.directory.deleteInlinePolicy(account(ctx), kind, owner, policyName))) {
        throw noSuchEntity(`The ${kind} policy with name ${policyName} cannot be found.`);
      }
      return undefined;
    },
    attach: async (ctx: ActionContext) => {
      const owner = ownerName(ctx, ownerParam);
      const arn = param(ctx, 'PolicyArn');
      await ctx.authorize(arnOf(account(ctx), owner));
      await exists(ctx, owner);
      await attachablePolicy(ctx, arn);
      await ctx.directory.attachPolicy(account(ctx), kind, owner, arn);
      return undefined;
    },
    detach: async (ctx: ActionContext) => {
      const owner = ownerName(ctx, ownerParam);
      const arn = param(ctx, 'PolicyArn');
      await ctx.authorize(arnOf(account(ctx), owner));
      await exists(ctx, owner);
      if (!(await ctx.directory.detachPolicy(account(ctx), kind, owner, arn))) throw noSuchEntity(`Policy ${arn} was not found.`);
      return undefined;
    },
    listAttached: async (ctx: ActionContext): Promise<ActionResult> => {
      const owner = ownerName(ctx, ownerParam);
      await ctx.authorize(arnOf(account(ctx), owner));
      await exists(ctx, owner);
      const arns = await ctx.directory.attachedPolicies(account(ctx), kind, owner);
      return { AttachedPolicies: arns.map((arn) => ({ PolicyName: arn.slice(arn.lastIndexOf('/') + 1), PolicyArn: arn })), IsTruncated: false };
    },
  };
}

const userPolicies = inlinePolicyActions('user');
const groupPolicies = inlinePolicyActions('group');
const rolePolicies = inlinePolicyActions('role');

/** Inline and managed policies of roles, as of users and groups. */
export const ROLE_POLICY_ACTIONS: Record<string, Action> = {
  PutRolePolicy: rolePolicies.put,
  GetRolePolicy: rolePolicies.get,
  ListRolePolicies: rolePolicies.list,
  DeleteRolePolicy: rolePolicies.delete,
  AttachRolePolicy: rolePolicies.attach,
  DetachRolePolicy: rolePolicies.detach,
  ListAttachedRolePolicies: rolePolicies.listAttached,
};

/** The IAM actions berth answers, by their query-API name. */
export const IAM_ACTIONS: Record<string, Action> = {
  async CreateUser(ctx) {
    const name = nameParam(ctx, 'UserName');
    const path = pathParam(ctx);
    refuseUnsupported(ctx, 'PermissionsBoundary', 'Permissions boundaries are');
    const tags = tagsParam(ctx.params);
    await ctx.authorize(userArn(account(ctx), name), requestTagContext(tags));
    const u = await ctx.directory.createUser(account(ctx), name, path, tags);
    if (!u) throw alreadyExists(`User with name ${name} already exists.`);
    return { User: userXml(u, true) };
  },
  async GetUser(ctx) {
    const name = ctx.params.get('UserName') || ctx.principal.userName;
    if (!name) throw validationError('Must specify userName when calling with non-User credentials');
    await ctx.authorize(userArn(account(ctx), name));
    return { User: userXml(await existingUser(ctx, name), true) };
  },
  async ListUsers(ctx) {
    await ctx.authorize(`arn:aws:iam::${account(ctx)}:user/*`);
    const prefix = ctx.params.get('PathPrefix') || '/';
    const users = (await ctx.directory.listUsers(account(ctx))).filter((u) => u.path.startsWith(prefix));
    return { Users: users.map((u) => userXml(u)), IsTruncated: false };
  },
  async DeleteUser(ctx) {
    const name = nameParam(ctx, 'UserName');
    await ctx.authorize(userArn(account(ctx), name));
    await existingUser(ctx, name);
    if (await ctx.directory.userHasDependents(account(ctx), name)) {
      throw deleteConflict('Cannot delete entity, must remove access keys, group memberships and policies first.');
    }
    await ctx.directory.deleteUser(account(ctx), name);
    return undefined;
  },

  async CreateAccessKey(ctx) {
    const name = ctx.params.get('UserName') || ctx.principal.userName;
    if (!name) throw validationError('Must specify userName when calling with non-User credentials');
    await ctx.authorize(userArn(account(ctx), name));
    await existingUser(ctx, name);
    if ((await ctx.directory.listAccessKeys(account(ctx), name)).length >= 2) {
      throw new IamError('LimitExceeded', 'Cannot exceed quota for AccessKeysPerUser: 2', 409);
    }
    const k = await ctx.directory.createAccessKey(account(ctx), name);
    return { AccessKey: { UserName: name, AccessKeyId: k.id, Status: k.status, SecretAccessKey: k.secret, CreateDate: isoSeconds(k.createdAt) } };
  },
  async ListAccessKeys(ctx) {
    const name = ctx.params.get('UserName') || ctx.principal.userName;
    if (!name) throw validationError('Must specify userName when calling with non-User credentials');
    await ctx.authorize(userArn(account(ctx), name));
    await existingUser(ctx, name);
    return { AccessKeyMetadata: (await ctx.directory.listAccessKeys(account(ctx), name)).map(keyMetadataXml), IsTruncated: false };
  },
  async UpdateAccessKey(ctx) {
    const name = ctx.params.get('UserName') || ctx.principal.userName;
    if (!name) throw validationError('Must specify userName when calling with non-User credentials');
    const id = param(ctx, 'AccessKeyId');
    const status = param(ctx, 'Status');
    if (status !== 'Active' && status !== 'Inactive') {
      throw validationError(`1 validation error detected: Value '${status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]`);
    }
    await ctx.authorize(userArn(account(ctx), name));
    await existingUser(ctx, name);
    if (!(await ctx.directory.setAccessKeyStatus(account(ctx), name, id, status))) throw noSuchEntity(`The Access Key with id ${id} cannot be found.`);
    return undefined;
  },
  async DeleteAccessKey(ctx) {
    const name = ctx.params.get('UserName') || ctx.principal.userName;
    if (!name) throw validationError('Must specify userName when calling with non-User credentials');
    const id = param(ctx, 'AccessKeyId');
    await ctx.authorize(userArn(account(ctx), name));
    await existingUser(ctx, name);
    if (!(await ctx.directory.deleteAccessKey(account(ctx), name, id))) throw noSuchEntity(`The Access Key with id ${id} cannot be found.`);
    return undefined;
  },

  async CreateGroup(ctx) {
    const name = nameParam(ctx, 'GroupName');
    const path = pathParam(ctx);
    await ctx.authorize(groupArn(account(ctx), name));
    const g = await ctx.directory.createGroup(account(ctx), name, path);
    if (!g) throw alreadyExists(`Group with name ${name} already exists.`);
    return { Group: groupXml(g) };
  },
  async GetGroup(ctx) {
    const name = nameParam(ctx, 'GroupName');
    await ctx.authorize(groupArn(account(ctx), name));
    const g = await existingGroup(ctx, name);
    return { Group: groupXml(g), Users: (await ctx.directory.groupMembers(account(ctx), name)).map((u) => userXml(u)), IsTruncated: false };
  },
  async ListGroupsForUser(ctx) {
    const name = nameParam(ctx, 'UserName');
    await ctx.authorize(userArn(account(ctx), name));
    await existingUser(ctx, name);
    return { Groups: (await ctx.directory.groupsOfUser(account(ctx), name)).map(groupXml), IsTruncated: false };
  },
  async ListGroups(ctx) {
    await ctx.authorize(`arn:aws:iam::${account(ctx)}:group/*`);
    return { Groups: (await ctx.directory.listGroups(account(ctx))).map(groupXml), IsTruncated: false };
  },
  async DeleteGroup(ctx) {
    const name = nameParam(ctx, 'GroupName');
    await ctx.authorize(groupArn(account(ctx), name));
    await existingGroup(ctx, name);
    if (await ctx.directory.groupHasDependents(account(ctx), name)) throw deleteConflict('Cannot delete entity, must remove users and policies from group first.');
    await ctx.directory.deleteGroup(account(ctx), name);
    return undefined;
  },
  async AddUserToGroup(ctx) {
    const group = nameParam(ctx, 'GroupName');
    const user = nameParam(ctx, 'UserName');
    await ctx.authorize(groupArn(account(ctx), group));
    await existingGroup(ctx, group);
    await existingUser(ctx, user);
    await ctx.directory.addUserToGroup(account(ctx), group, user);
    return undefined;
  },
  async RemoveUserFromGroup(ctx) {
    const group = nameParam(ctx, 'GroupName');
    const user = nameParam(ctx, 'UserName');
    await ctx.authorize(groupArn(account(ctx), group));
    await existingGroup(ctx, group);
    await existingUser(ctx, user);
    if (!(await ctx.directory.removeUserFromGroup(account(ctx), group, user))) throw noSuchEntity(`User ${user} is not in group ${group}.`);
    return undefined;
  },

  PutUserPolicy: userPolicies.put,
  GetUserPolicy: userPolicies.get,
  ListUserPolicies: userPolicies.list,
  DeleteUserPolicy: userPolicies.delete,
  AttachUserPolicy: userPolicies.attach,
  DetachUserPolicy: userPolicies.detach,
  ListAttachedUserPolicies: userPolicies.listAttached,
  PutGroupPolicy: groupPolicies.put,
  GetGroupPolicy: groupPolicies.get,
  ListGroupPolicies: groupPolicies.list,
  DeleteGroupPolicy: groupPolicies.delete,
  AttachGroupPolicy: groupPolicies.attach,
  DetachGroupPolicy: groupPolicies.detach,
  ListAttachedGroupPolicies: groupPolicies.listAttached,

  async CreatePolicy(ctx) {
    const name = nameParam(ctx, 'PolicyName');
    const path = pathParam(ctx);
    const doc = policyDocumentParam(ctx);
    refuseUnsupported(ctx, 'Tags', 'Tags on managed policies are');
    const arn = policyArn(account(ctx), name, path);
    await ctx.authorize(arn);
    const p = await ctx.directory.createPolicy(account(ctx), name, path, ctx.params.get('Description') ?? '', doc);
    if (!p) throw alreadyExists(`A policy called ${name} already exists. Duplicate names are not allowed.`);
    return { Policy: policyXml(p) };
  },
  async GetPolicy(ctx) {
    const arn = param(ctx, 'PolicyArn');
    await ctx.authorize(arn);
    return { Policy: policyXml(await existingPolicy(ctx, arn)) };
  },
  async GetPolicyVersion(ctx) {
    const arn = param(ctx, 'PolicyArn');
    const versionId = param(ctx, 'VersionId');
    await ctx.authorize(arn);
    const aws = managedPolicyByArn(arn);
    if (aws) {
      const p = await existingPolicy(ctx, arn);
      if (versionId !== p.defaultVersion) throw noSuchEntity(`Policy ${arn} version ${versionId} does not exist or is not attachable.`);
      return { PolicyVersion: { Document: encodeURIComponent(aws.document), VersionId: versionId, IsDefaultVersion: true, CreateDate: isoSeconds(p.updatedAt) } };
    }
    await existingPolicy(ctx, arn);
    const v = await ctx.directory.getPolicyVersion(arn, versionId);
    if (!v) throw noSuchEntity(`Policy ${arn} version ${versionId} does not exist or is not attachable.`);
    return { PolicyVersion: { Document: encodeURIComponent(v.document), VersionId: v.versionId, IsDefaultVersion: v.isDefault, CreateDate: isoSeconds(v.createdAt) } };
  },
  async ListPolicies(ctx) {
    await ctx.authorize(`arn:aws:iam::${account(ctx)}:policy/*`);
    const scope = ctx.params.get('Scope') || 'All';
    const onlyAttached = ctx.params.get('OnlyAttached') === 'true';
    const usage = ctx.params.get('PolicyUsageFilter');
    if (usage !== null && usage !== 'PermissionsPolicy' && usage !== 'PermissionsBoundary') {
      throw validationError(`1 validation error detected: Value '${usage}' at 'policyUsageFilter' failed to satisfy constraint: Member must satisfy enum value set: [PermissionsPolicy, PermissionsBoundary]`);
    }
    // Every policy here is a permissions policy: none is used as a boundary (berth has no boundaries).
    if (usage === 'PermissionsBoundary') return { Policies: [], IsTruncated: false };
    let rows: ManagedPolicy[] = [];
    if (scope === 'All' || scope === 'AWS') rows.push(...(await ctx.directory.awsManagedPolicies()));
    if (scope === 'All' || scope === 'Local') rows.push(...(await ctx.directory.listPolicies(account(ctx))));
    if (onlyAttached) rows = rows.filter((p) => p.attachmentCount > 0);
    return { Policies: rows.map(policyXml), IsTruncated: false };
  },
  async CreatePolicyVersion(ctx) {
    const arn = param(ctx, 'PolicyArn');
    const doc = policyDocumentParam(ctx);
    await ctx.authorize(arn);
    await customerPolicy(ctx, arn);
    if ((await ctx.directory.countPolicyVersions(arn)) >= MAX_POLICY_VERSIONS) {
      throw new IamError('LimitExceeded', 'A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.', 409);
    }
    const setAsDefault = ctx.params.get('SetAsDefault') === 'true';
    const versionId = await ctx.directory.createPolicyVersion(arn, doc, setAsDefault);
    return { PolicyVersion: { VersionId: versionId, IsDefaultVersion: setAsDefault, CreateDate: isoSeconds(Date.now()) } };
  },
  async ListPolicyVersions(ctx) {
    const arn = param(ctx, 'PolicyArn');
    await ctx.authorize(arn);
    const aws = managedPolicyByArn(arn);
    if (aws) {
      const p = await existingPolicy(ctx, arn);
      return { Versions: [{ VersionId: p.defaultVersion, IsDefaultVersion: true, CreateDate: isoSeconds(p.updatedAt) }], IsTruncated: false };
    }
    await existingPolicy(ctx, arn);
    const versions = await ctx.directory.listPolicyVersions(arn);
    return { Versions: versions.map((v) => ({ VersionId: v.versionId, IsDefaultVersion: v.isDefault, CreateDate: isoSeconds(v.createdAt) })), IsTruncated: false };
  },
  async DeletePolicyVersion(ctx) {
    const { arn, versionId, p } = await policyVersionTarget(ctx);
    if (versionId === p.defaultVersion) throw deleteConflict('Cannot delete the default version of a policy.');
    if (!(await ctx.directory.deletePolicyVersion(arn, versionId))) throw noSuchEntity(`Policy ${arn} version ${versionId} does not exist or is not deletable.`);
    return undefined;
  },
  async SetDefaultPolicyVersion(ctx) {
    const { arn, versionId } = await policyVersionTarget(ctx);
    if (!(await ctx.directory.setDefaultPolicyVersion(arn, versionId))) throw noSuchEntity(`Policy ${arn} version ${versionId} does not exist or is not attachable.`);
    return undefined;
  },
  async DeletePolicy(ctx) {
    const arn = param(ctx, 'PolicyArn');
    await ctx.authorize(arn);
    const p = await customerPolicy(ctx, arn);
    if (p.attachmentCount > 0) throw deleteConflict('Cannot delete a policy attached to entities.');
    await ctx.directory.deletePolicy(arn);
    return undefined;
  },
};

/** Actions that change who may do what (the authorizer's caches must forget). */
export function isMutation(action: string): boolean {
  return !/^(Get|List)/.test(action);
}
