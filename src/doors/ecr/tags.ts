import type { AuthzContext } from '../../iam/identity.js';
import { isValidRepositoryName, parseRepositoryArn } from '../../domain/registry/names.js';
import type { Repository } from '../../domain/registry/model.js';
import { MAX_RESOURCE_TAGS } from '../../domain/registry/settings.js';
import type { ResourceTag } from '../../domain/registry/settings.js';
import { EcrError } from './errors.js';
import type { EcrContext, EcrInput } from './operation.js';
import { findRepository, repositoryArn } from './repositories.js';
import { optionalList, requiredList, requiredString } from './validate.js';

function invalidTag(message: string): EcrError {
  return new EcrError('InvalidTagParameterException', message);
}

/** Repository tags ({Key, Value}, capitalised unlike the rest of ECR). */
export function parseTags(input: EcrInput, field: string, required: boolean): ResourceTag[] | undefined {
  const list = required ? requiredList(input, field, 0, 200) : optionalList(input, field, 0, 200);
  if (list === undefined) return undefined;
  const tags = list.map((t) => {
    if (typeof t !== 'object' || t === null || Array.isArray(t)) throw new EcrError('SerializationException', `Expected an object for member '${field}'`);
    const { Key, Value } = t as Record<string, unknown>;
    if (typeof Key !== 'string' || Key.length < 1 || Key.length > 128) throw invalidTag('Tag keys must be between 1 and 128 characters long');
    if (typeof Value !== 'string' || Value.length > 256) throw invalidTag('Tag values must be at most 256 characters long');
    if (Key.toLowerCase().startsWith('aws:')) throw invalidTag("Tag keys starting with 'aws:' are reserved for system use");
    return { Key, Value };
  });
  if (new Set(tags.map((t) => t.Key)).size !== tags.length) throw invalidTag('Tag keys must be unique');
  if (tags.length > MAX_RESOURCE_TAGS) throw new EcrError('TooManyTagsException', `A repository can have at most ${MAX_RESOURCE_TAGS} tags`);
  return tags;
}

/**
 * The repository a tagging ARN names (only repositories are taggable), once the caller may do
 * `action` on it. An ARN that names no repository of this region is refused as ECR does.
 */
export async function taggedRepository(input: EcrInput, ctx: EcrContext, action: string, context?: AuthzContext): Promise<Repository> {
  const arn = requiredString(input, 'resourceArn', { min: 1, max: 1011 });
  const ref = parseRepositoryArn(arn);
  if (!ref || ref.region !== ctx.region || !isValidRepositoryName(ref.name)) {
    throw new EcrError('InvalidParameterException', 'The ARN provided is invalid.');
  }
  await ctx.authorize(action, repositoryArn(ctx, ref.name, ref.registryId), context);
  return findRepository(ctx, ref.name, ref.registryId);
}
