import { account, existingPolicy, param, type Action } from './iam-actions.js';
import { validationError } from './iam-error.js';
import { pageItems } from './paging.js';
import type { XmlValue } from './query-xml.js';

const ENTITY_FILTERS = ['User', 'Role', 'Group', 'LocalManagedPolicy', 'AWSManagedPolicy'];
const USAGE_FILTERS = ['PermissionsPolicy', 'PermissionsBoundary'];

function enumParam(params: URLSearchParams, name: string, values: string[]): string | undefined {
  const v = params.get(name);
  if (v === null || v === '') return undefined;
  if (!values.includes(v)) {
    throw validationError(`1 validation error detected: Value '${v.slice(0, 40)}' at '${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must satisfy enum value set: [${values.join(', ')}]`);
  }
  return v;
}

/** ListEntitiesForPolicy: the caller's groups, users and roles a managed policy is attached to. */
export const POLICY_ENTITY_ACTIONS: Record<string, Action> = {
  async ListEntitiesForPolicy(ctx) {
    const arn = param(ctx, 'PolicyArn');
    const filter = enumParam(ctx.params, 'EntityFilter', ENTITY_FILTERS);
    const usage = enumParam(ctx.params, 'PolicyUsageFilter', USAGE_FILTERS);
    const prefix = ctx.params.get('PathPrefix') || '/';
    await ctx.authorize(arn);
    await existingPolicy(ctx, arn);
    // Every attachment here is a permissions policy; none is a permissions boundary.
    const { groups, users, roles } = usage === 'PermissionsBoundary' ? { groups: [], users: [], roles: [] } : await ctx.directory.policyEntities(account(ctx), arn);
    const wanted = (kind: string) => filter === undefined || filter === kind;
    const entities: Array<{ list: 'PolicyGroups' | 'PolicyUsers' | 'PolicyRoles'; xml: XmlValue }> = [
      ...(wanted('Group') ? groups : []).filter((g) => g.path.startsWith(prefix)).map((g) => ({ list: 'PolicyGroups' as const, xml: { GroupName: g.name, GroupId: g.groupId } })),
      ...(wanted('User') ? users : []).filter((u) => u.path.startsWith(prefix)).map((u) => ({ list: 'PolicyUsers' as const, xml: { UserName: u.name, UserId: u.userId } })),
      ...(wanted('Role') ? roles : []).filter((r) => r.path.startsWith(prefix)).map((r) => ({ list: 'PolicyRoles' as const, xml: { RoleName: r.name, RoleId: r.roleId } })),
    ];
    const page = pageItems(entities, ctx.params);
    const pick = (list: string) => page.items.filter((e) => e.list === list).map((e) => e.xml);
    return {
      PolicyGroups: pick('PolicyGroups'),
      PolicyUsers: pick('PolicyUsers'),
      PolicyRoles: pick('PolicyRoles'),
      IsTruncated: page.truncated,
      ...(page.marker ? { Marker: page.marker } : {}),
    };
  },
};
