import { MAX_IAM_TAGS, type IamTag } from '../../iam/identity/directory.js';
import { IamError, validationError } from './iam-error.js';

// Constraints from botocore's IAM model (tagListType, tagKeyType, tagValueType).
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;

/** `Tags.member.N.Key` / `Tags.member.N.Value`. */
export function tagsParam(params: URLSearchParams): IamTag[] {
  const tags: IamTag[] = [];
  for (let n = 1; params.has(`Tags.member.${n}.Key`) || params.has(`Tags.member.${n}.Value`); n++) {
    const Key = params.get(`Tags.member.${n}.Key`) ?? '';
    const Value = params.get(`Tags.member.${n}.Value`);
    if (Value === null) throw validationError(`1 validation error detected: Value null at 'tags.${n}.member.value' failed to satisfy constraint: Member must not be null`);
    if (!TAG_KEY.test(Key)) throw validationError(`1 validation error detected: Value '${Key}' at 'tags.${n}.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+`);
    if (!TAG_VALUE.test(Value)) throw validationError(`1 validation error detected: Value '${Value}' at 'tags.${n}.member.value' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*`);
    if (Key.toLowerCase().startsWith('aws:')) throw new IamError('InvalidInput', 'User is not authorized to tag with the aws: prefix; it is reserved for AWS use.', 400);
    tags.push({ Key, Value });
  }
  if (tags.length > MAX_IAM_TAGS) throw validationError(`1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to ${MAX_IAM_TAGS}`);
  const keys = tags.map((t) => t.Key.toLowerCase());
  if (new Set(keys).size !== keys.length) throw new IamError('InvalidInput', 'Duplicate tag keys found. Please note that Tag keys are case insensitive.', 400);
  return tags;
}

/** `TagKeys.member.N`. */
export function tagKeysParam(params: URLSearchParams): string[] {
  const keys: string[] = [];
  for (let n = 1; params.has(`TagKeys.member.${n}`); n++) {
    const key = params.get(`TagKeys.member.${n}`)!;
    if (!TAG_KEY.test(key)) throw validationError(`1 validation error detected: Value '${key}' at 'tagKeys.${n}.member' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+`);
    keys.push(key);
  }
  if (keys.length > MAX_IAM_TAGS) throw validationError(`1 validation error detected: Value at 'tagKeys' failed to satisfy constraint: Member must have length less than or equal to ${MAX_IAM_TAGS}`);
  return keys;
}
