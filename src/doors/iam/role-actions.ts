import { requestTagContext } from '../../iam/identity.js';
import { DEFAULT_MAX_SESSION_DURATION, roleArn, type Role } from '../../iam/identity/directory.js';
import { parsePolicyDocument, PolicyValidationError } from '../../policy/index.js';
import { account, existingRole, param, pathParam, roleNameParam, type Action, type ActionContext } from './iam-actions.js';
import { alreadyExists, deleteConflict, IamError, validationError } from './iam-error.js';
import { isoSeconds, type XmlValue } from './query-xml.js';
import { tagsParam } from './tag-params.js';

// Constraints from botocore's IAM model (roleDescriptionType, roleMaxSessionDurationType, …).
const MAX_DESCRIPTION = 1000;
const MIN_SESSION = 3600;
const MAX_SESSION = 43_200;

const malformed = (message: string) => new IamError('MalformedPolicyDocument', message, 400);

/**
 * A trust policy: a resource policy (it names principals) that may only grant STS's assume-role
 * actions and names no Resource, as IAM insists.
 */
function trustPolicyParam(ctx: ActionContext, name: string): string {
  const text = param(ctx, name);
  let statements;
  try {
    statements = parsePolicyDocument(text, 'resource').statements;
  } catch (err) {
    if (err instanceof PolicyValidationError) throw malformed(err.message);
    throw err;
  }
  for (const s of statements) {
    if (s.resource || s.notResource) throw malformed('Has prohibited field Resource');
    if (!(s.action ?? s.notAction ?? []).every((a) => /^sts:(\*|AssumeRole[A-Za-z]*|TagSession|SetSourceIdentity|SetContext)$/i.test(a))) {
      throw malformed('AssumeRole policy may only specify STS AssumeRole actions.');
    }
  }
  return text;
}

function descriptionParam(ctx: ActionContext): string | undefined {
  const d = ctx.params.get('Description');
  if (d === null) return undefined;
  if (d.length > MAX_DESCRIPTION) throw validationError(`1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to ${MAX_DESCRIPTION}`);
  return d;
}

function maxSessionParam(ctx: ActionContext): number | undefined {
  const raw = ctx.params.get('MaxSessionDuration');
  if (raw === null || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw validationError(`1 validation error detected: Value '${raw.slice(0, 20)}' at 'maxSessionDuration' failed to satisfy constraint: Member must be an integer`);
  if (n < MIN_SESSION) throw validationError(`1 validation error detected: Value '${n}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to ${MIN_SESSION}`);
  if (n > MAX_SESSION) throw validationError(`1 validation error detected: Value '${n}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to ${MAX_SESSION}`);
  return n;
}

/** The Role shape; `full` adds what GetRole and CreateRole show beyond ListRoles. */
function roleXml(r: Role, full: boolean): XmlValue {
  return {
    Path: r.path,
    RoleName: r.name,
    RoleId: r.roleId,
    Arn: r.arn,
    CreateDate: isoSeconds(r.createdAt),
    AssumeRolePolicyDocument: encodeURIComponent(r.assumeRolePolicy),
    Description: r.description,
    MaxSessionDuration: r.maxSessionDuration,
    Tags: full && r.tags.length > 0 ? r.tags : undefined,
    RoleLastUsed: full ? {} : undefined,
  };
}

/** IAM roles: their trust policy and settings (their policies are in ROLE_POLICY_ACTIONS). */
export const ROLE_ACTIONS: Record<string, Action> = {
  async CreateRole(ctx) {
    const name = roleNameParam(ctx);
    const path = pathParam(ctx);
    const assumeRolePolicy = trustPolicyParam(ctx, 'AssumeRolePolicyDocument');
    const description = descriptionParam(ctx);
    const maxSessionDuration = maxSessionParam(ctx) ?? DEFAULT_MAX_SESSION_DURATION;
    const tags = tagsParam(ctx.params);
    if (ctx.params.get('PermissionsBoundary')) throw new IamError('InvalidInput', 'Permissions boundaries are not supported by this endpoint.', 400);
    await ctx.authorize(roleArn(account(ctx), name, path), requestTagContext(tags));
    const role = await ctx.directory.createRole(account(ctx), { name, path, assumeRolePolicy, description, maxSessionDuration, tags });
    if (!role) throw alreadyExists(`Role with name ${name} already exists.`);
    return { Role: roleXml(role, true) };
  },
  async GetRole(ctx) {
    const name = roleNameParam(ctx);
    await ctx.authorize(roleArn(account(ctx), name));
    return { Role: roleXml(await existingRole(ctx, name), true) };
  },
  async ListRoles(ctx) {
    await ctx.authorize(`arn:aws:iam::${account(ctx)}:role/*`);
    const prefix = ctx.params.get('PathPrefix') || '/';
    const roles = (await ctx.directory.listRoles(account(ctx))).filter((r) => r.path.startsWith(prefix));
    return { Roles: roles.map((r) => roleXml(r, false)), IsTruncated: false };
  },
  async UpdateRole(ctx) {
    const name = roleNameParam(ctx);
    const description = descriptionParam(ctx);
    const maxSessionDuration = maxSessionParam(ctx);
    await ctx.authorize(roleArn(account(ctx), name));
    await existingRole(ctx, name);
    await ctx.directory.updateRole(account(ctx), name, { description, maxSessionDuration });
    return {};
  },
  async UpdateAssumeRolePolicy(ctx) {
    const name = roleNameParam(ctx);
    const assumeRolePolicy = trustPolicyParam(ctx, 'PolicyDocument');
    await ctx.authorize(roleArn(account(ctx), name));
    await existingRole(ctx, name);
    await ctx.directory.updateRole(account(ctx), name, { assumeRolePolicy });
    return undefined;
  },
  async DeleteRole(ctx) {
    const name = roleNameParam(ctx);
    await ctx.authorize(roleArn(account(ctx), name));
    await existingRole(ctx, name);
    if (await ctx.directory.roleHasDependents(account(ctx), name)) throw deleteConflict('Cannot delete entity, must detach all policies first.');
    await ctx.directory.deleteRole(account(ctx), name);
    return undefined;
  },
};
