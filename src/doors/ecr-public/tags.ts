import { MAX_RESOURCE_TAGS } from '../../domain/registry/settings.js';
import type { ResourceTag } from '../../domain/registry/settings.js';
import { EcrPublicError } from './errors.js';

function invalidTag(message: string): EcrPublicError {
  return new EcrPublicError('InvalidTagParameterException', message);
}

/** A TagList (already checked against the model) as resource tags: keys present, unique, not `aws:`. */
export function resourceTags(raw: unknown): ResourceTag[] {
  const list = (raw ?? []) as Array<{ Key?: string; Value?: string }>;
  const tags = list.map(({ Key, Value }) => {
    if (Key === undefined || Key === null) throw invalidTag('Tag keys must not be null');
    if (Key.toLowerCase().startsWith('aws:')) throw invalidTag("Tag keys starting with 'aws:' are reserved for system use");
    return { Key, Value: Value ?? '' };
  });
  if (new Set(tags.map((t) => t.Key)).size !== tags.length) throw invalidTag('Tag keys must be unique');
  if (tags.length > MAX_RESOURCE_TAGS) throw new EcrPublicError('TooManyTagsException', `A repository can have at most ${MAX_RESOURCE_TAGS} tags`);
  return tags;
}
