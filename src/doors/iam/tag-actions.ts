import { roleArn, TooManyTags, userArn, type IamTag } from '../../iam/identity/directory.js';
import { requestTagContext, tagKeysContext } from '../../iam/identity.js';
import { account, existingRole, existingUser, nameParam, roleNameParam, type Action, type ActionContext } from './iam-actions.js';
import { IamError, noSuchEntity, validationError } from './iam-error.js';
import { tagKeysParam, tagsParam } from './tag-params.js';

function requiredTags(ctx: ActionContext): IamTag[] {
  const tags = tagsParam(ctx.params);
  if (tags.length === 0) throw validationError("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null");
  return tags;
}

/** Tags as ListUserTags and ListRoleTags page them (every tag fits one page: at most 50). */
function tagPage(tags: IamTag[]): { Tags: IamTag[]; IsTruncated: boolean } {
  return { Tags: tags, IsTruncated: false };
}

interface Taggable {
  kind: 'user' | 'role';
  name(ctx: ActionContext): string;
  arn(ctx: ActionContext, name: string): Promise<string>;
  missing(name: string): IamError;
}

const USERS: Taggable = {
  kind: 'user',
  name: (ctx) => nameParam(ctx, 'UserName'),
  arn: async (ctx, name) => (await ctx.directory.getUser(account(ctx), name))?.arn ?? userArn(account(ctx), name),
  missing: (name) => noSuchEntity(`The user with name ${name} cannot be found.`),
};

const ROLES: Taggable = {
  kind: 'role',
  name: (ctx) => roleNameParam(ctx),
  arn: async (ctx, name) => (await ctx.directory.getRole(account(ctx), name))?.arn ?? roleArn(account(ctx), name),
  missing: (name) => noSuchEntity(`The role with name ${name} cannot be found.`),
};

function tagActions(t: Taggable): { tag: Action; untag: Action; list: Action } {
  return {
    async tag(ctx) {
      const name = t.name(ctx);
      const tags = requiredTags(ctx);
      await ctx.authorize(await t.arn(ctx, name), requestTagContext(tags));
      try {
        if (!(await ctx.directory.tag(t.kind, account(ctx), name, tags))) throw t.missing(name);
      } catch (err) {
        if (err instanceof TooManyTags) throw new IamError('LimitExceeded', err.message, 409);
        throw err;
      }
      return undefined;
    },
    async untag(ctx) {
      const name = t.name(ctx);
      const keys = tagKeysParam(ctx.params);
      await ctx.authorize(await t.arn(ctx, name), tagKeysContext(keys));
      if (!(await ctx.directory.untag(t.kind, account(ctx), name, keys))) throw t.missing(name);
      return undefined;
    },
    async list(ctx) {
      const name = t.name(ctx);
      await ctx.authorize(await t.arn(ctx, name));
      const found = t.kind === 'user' ? await existingUser(ctx, name) : await existingRole(ctx, name);
      return tagPage(found.tags);
    },
  };
}

const userTags = tagActions(USERS);
const roleTags = tagActions(ROLES);

/** Tags of users and roles. */
export const TAG_ACTIONS: Record<string, Action> = {
  TagUser: userTags.tag,
  UntagUser: userTags.untag,
  ListUserTags: userTags.list,
  TagRole: roleTags.tag,
  UntagRole: roleTags.untag,
  ListRoleTags: roleTags.list,
};
