// Parsing and validation of ECR lifecycle policy text.
// Failure messages follow ECR's InvalidParameterException wording: JSON-schema style reasons for
// shape errors, short sentences for the cross-field and cross-rule constraints.

export type TagStatus = 'tagged' | 'untagged' | 'any';
export type CountType = 'imageCountMoreThan' | 'sinceImagePushed' | 'sinceImagePulled' | 'sinceImageTransitioned';
/** The storage class a rule selects images from (ECR's `storageClass`, `standard` when omitted). */
export type StorageClass = 'standard' | 'archive';

export interface LifecycleSelection {
  tagStatus: TagStatus;
  tagPrefixList?: string[];
  tagPatternList?: string[];
  storageClass: StorageClass;
  countType: CountType;
  countUnit?: 'days';
  countNumber: number;
}

/** Expire deletes the image; transition moves it to the archive storage class. */
export type LifecycleAction = { type: 'expire' } | { type: 'transition'; targetStorageClass: 'archive' };

export interface LifecycleRule {
  rulePriority: number;
  description?: string;
  selection: LifecycleSelection;
  action: LifecycleAction;
}

/** A validated policy; `rules` are sorted by ascending rulePriority (evaluation order). */
export interface LifecyclePolicy {
  rules: LifecycleRule[];
}

export const LIFECYCLE_POLICY_TEXT_MIN_LENGTH = 100;
export const LIFECYCLE_POLICY_TEXT_MAX_LENGTH = 30720;
export const LIFECYCLE_POLICY_MAX_RULES = 50;
export const TAG_PATTERN_MAX_WILDCARDS = 4;
/** Archived images stay at least this many days before a lifecycle policy may delete them. */
export const ARCHIVE_MINIMUM_DAYS = 90;

const TAG_STATUSES: readonly string[] = ['any', 'tagged', 'untagged'];
const COUNT_TYPES: readonly string[] = ['imageCountMoreThan', 'sinceImagePulled', 'sinceImagePushed', 'sinceImageTransitioned'];
const COUNT_UNITS: readonly string[] = ['days'];
const ACTION_TYPES: readonly string[] = ['expire', 'transition'];
const STORAGE_CLASSES: readonly string[] = ['archive', 'standard'];
const TARGET_STORAGE_CLASSES: readonly string[] = ['archive'];

const POLICY_PROPERTIES = { required: ['rules'], allowed: ['rules'] };
const RULE_PROPERTIES = { required: ['action', 'rulePriority', 'selection'], allowed: ['action', 'description', 'rulePriority', 'selection'] };
const SELECTION_PROPERTIES = {
  required: ['countNumber', 'countType', 'tagStatus'],
  allowed: ['countNumber', 'countType', 'countUnit', 'storageClass', 'tagPatternList', 'tagPrefixList', 'tagStatus'],
};
const ACTION_PROPERTIES = { required: ['type'], allowed: ['targetStorageClass', 'type'] };

// ECR reports a selection or action that fits none of its schema alternatives with this reason.
const NO_MATCHING_SCHEMA = 'instance failed to match exactly one schema (matched 0 out of 2)';

/** Thrown for any invalid lifecycle policy; maps to ECR's InvalidParameterException. */
export class LifecyclePolicyValidationError extends Error {
  readonly code = 'InvalidParameterException';
  /** The constraint that failed, without the ECR message envelope. */
  readonly reason: string;

  constructor(message: string, reason: string) {
    super(message);
    this.name = 'LifecyclePolicyValidationError';
    this.reason = reason;
  }
}

function policyFailure(reason: string): LifecyclePolicyValidationError {
  return new LifecyclePolicyValidationError(
    `Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: ${reason}'`,
    reason,
  );
}

/** The API model's length constraint on `lifecyclePolicyText` (checked before the policy itself). */
export function checkLifecyclePolicyTextLength(text: string): void {
  let reason: string | undefined;
  if (text.length < LIFECYCLE_POLICY_TEXT_MIN_LENGTH) {
    reason = `must have length greater than or equal to ${LIFECYCLE_POLICY_TEXT_MIN_LENGTH}`;
  } else if (text.length > LIFECYCLE_POLICY_TEXT_MAX_LENGTH) {
    reason = `must have length less than or equal to ${LIFECYCLE_POLICY_TEXT_MAX_LENGTH}`;
  }
  if (reason !== undefined) {
    throw new LifecyclePolicyValidationError(
      `Invalid parameter at 'lifecyclePolicyText' failed to satisfy constraint: '${reason}'`,
      reason,
    );
  }
}

type JsonObject = Record<string, unknown>;

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function expectType(value: unknown, allowed: 'object' | 'array' | 'string' | 'integer'): void {
  if (jsonType(value) !== allowed) {
    throw policyFailure(
      `instance type (${jsonType(value)}) does not match any allowed primitive type (allowed: ["${allowed}"])`,
    );
  }
}

function expectObject(value: unknown, properties: { required: string[]; allowed: string[] }): JsonObject {
  expectType(value, 'object');
  const object = value as JsonObject;
  const keys = Object.keys(object);
  const missing = properties.required.filter((key) => !keys.includes(key));
  if (missing.length > 0) {
    throw policyFailure(`object has missing required properties (${JSON.stringify(missing.sort())})`);
  }
  const unknown = keys.filter((key) => !properties.allowed.includes(key));
  if (unknown.length > 0) {
    throw policyFailure(
      `object instance has properties which are not allowed by the schema: (${JSON.stringify(unknown.sort())})`,
    );
  }
  return object;
}

function expectEnum(value: unknown, allowed: readonly string[]): string {
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw policyFailure(
      `instance value (${JSON.stringify(value)}) not found in enum :(possible values: ${JSON.stringify(allowed)})`,
    );
  }
  return value;
}

function expectPositiveInteger(value: unknown): number {
  expectType(value, 'integer');
  const number = value as number;
  if (number < 1) {
    throw policyFailure(`numeric instance is lower than the required minimum (minimum: 1, found: ${number})`);
  }
  return number;
}

function expectTagList(value: unknown): string[] {
  expectType(value, 'array');
  const list = value as unknown[];
  if (list.length === 0) {
    throw policyFailure('array is too short: must have at least 1 elements but instance has 0 elements');
  }
  for (const entry of list) {
    expectType(entry, 'string');
    if ((entry as string).length === 0) {
      throw policyFailure('string "" is too short (length: 0, required minimum: 1)');
    }
  }
  return list as string[];
}

function parseSelection(value: unknown): LifecycleSelection {
  const raw = expectObject(value, SELECTION_PROPERTIES);
  const tagStatus = expectEnum(raw.tagStatus, TAG_STATUSES) as TagStatus;
  if (!COUNT_TYPES.includes(raw.countType as string)) throw policyFailure(NO_MATCHING_SCHEMA);
  const countType = raw.countType as CountType;
  const countNumber = expectPositiveInteger(raw.countNumber);
  const storageClass = raw.storageClass === undefined ? 'standard' : (expectEnum(raw.storageClass, STORAGE_CLASSES) as StorageClass);
  // Only sinceImageTransitioned selects archived images, and it selects nothing else.
  if (countType === 'sinceImageTransitioned' && storageClass !== 'archive') {
    throw policyFailure('storageClass archive is required when countType is sinceImageTransitioned');
  }
  if (countType !== 'sinceImageTransitioned' && storageClass !== 'standard') {
    throw policyFailure(`storageClass must be standard when countType is ${countType}`);
  }
  if (countType === 'sinceImageTransitioned' && countNumber < ARCHIVE_MINIMUM_DAYS) {
    throw policyFailure(
      `You cannot configure lifecycle policies that delete images that have been in archive for less than ${ARCHIVE_MINIMUM_DAYS} days (countNumber must be at least ${ARCHIVE_MINIMUM_DAYS} with sinceImageTransitioned)`,
    );
  }

  // countUnit belongs to the age-based alternative of the selection schema only.
  if (countType === 'imageCountMoreThan') {
    if (raw.countUnit !== undefined) throw policyFailure(NO_MATCHING_SCHEMA);
  } else {
    if (raw.countUnit === undefined) throw policyFailure(NO_MATCHING_SCHEMA);
    expectEnum(raw.countUnit, COUNT_UNITS);
  }

  const hasPrefixes = raw.tagPrefixList !== undefined;
  const hasPatterns = raw.tagPatternList !== undefined;
  const tagPrefixList = hasPrefixes ? expectTagList(raw.tagPrefixList) : undefined;
  const tagPatternList = hasPatterns ? expectTagList(raw.tagPatternList) : undefined;
  if (tagStatus !== 'tagged' && (hasPrefixes || hasPatterns)) {
    throw policyFailure('tagPrefixList and tagPatternList can only be specified when tagStatus is tagged');
  }
  if (tagStatus === 'tagged' && !hasPrefixes && !hasPatterns) {
    throw policyFailure('tagPrefixList or tagPatternList is required when tagStatus is tagged');
  }
  if (hasPrefixes && hasPatterns) {
    throw policyFailure('tagPrefixList and tagPatternList cannot both be specified in one rule');
  }
  for (const pattern of tagPatternList ?? []) {
    const wildcards = pattern.split('*').length - 1;
    if (wildcards > TAG_PATTERN_MAX_WILDCARDS) {
      throw policyFailure(
        `tagPatternList entry ${JSON.stringify(pattern)} has ${wildcards} wildcards; at most ${TAG_PATTERN_MAX_WILDCARDS} are allowed`,
      );
    }
  }

  const selection: LifecycleSelection = { tagStatus, storageClass, countType, countNumber };
  if (tagPrefixList) selection.tagPrefixList = [...tagPrefixList];
  if (tagPatternList) selection.tagPatternList = [...tagPatternList];
  if (countType !== 'imageCountMoreThan') selection.countUnit = 'days';
  return selection;
}

function parseAction(value: unknown): LifecycleAction {
  const raw = expectObject(value, ACTION_PROPERTIES);
  const type = expectEnum(raw.type, ACTION_TYPES);
  if (type === 'expire') {
    if (raw.targetStorageClass !== undefined) throw policyFailure('targetStorageClass can only be specified when the action type is transition');
    return { type: 'expire' };
  }
  if (raw.targetStorageClass === undefined) throw policyFailure('targetStorageClass is required when the action type is transition');
  expectEnum(raw.targetStorageClass, TARGET_STORAGE_CLASSES);
  return { type: 'transition', targetStorageClass: 'archive' };
}

/** Which actions each count type may take: pull age only archives, archive age only expires. */
function checkActionFitsSelection(selection: LifecycleSelection, action: LifecycleAction): void {
  if (selection.countType === 'sinceImagePulled' && action.type !== 'transition') {
    throw policyFailure('countType sinceImagePulled can only be used with the transition action');
  }
  if (selection.countType === 'sinceImageTransitioned' && action.type !== 'expire') {
    throw policyFailure('countType sinceImageTransitioned can only be used with the expire action');
  }
}

function parseRule(value: unknown): LifecycleRule {
  const raw = expectObject(value, RULE_PROPERTIES);
  const rulePriority = expectPositiveInteger(raw.rulePriority);
  if (raw.description !== undefined) expectType(raw.description, 'string');
  const rule: LifecycleRule = {
    rulePriority,
    selection: parseSelection(raw.selection),
    action: parseAction(raw.action),
  };
  checkActionFitsSelection(rule.selection, rule.action);
  if (raw.description !== undefined) rule.description = raw.description as string;
  return rule;
}

function tagListKey(selection: LifecycleSelection): string | undefined {
  if (selection.tagPrefixList) return `prefix:${JSON.stringify([...new Set(selection.tagPrefixList)].sort())}`;
  if (selection.tagPatternList) return `pattern:${JSON.stringify([...new Set(selection.tagPatternList)].sort())}`;
  return undefined;
}

function checkRulesTogether(rules: LifecycleRule[]): void {
  const priorities = new Set<number>();
  for (const rule of rules) {
    if (priorities.has(rule.rulePriority)) {
      throw policyFailure(`Rule priorities must be unique. Found duplicate rulePriority ${rule.rulePriority}.`);
    }
    priorities.add(rule.rulePriority);
  }

  // The remaining constraints hold among the rules that select one storage class.
  for (const storageClass of ['standard', 'archive'] as const) {
    const ofClass = rules.filter((rule) => rule.selection.storageClass === storageClass);
    if (ofClass.length === 0) continue;
    const highest = Math.max(...ofClass.map((rule) => rule.rulePriority));
    if (ofClass.some((rule) => rule.selection.tagStatus === 'any' && rule.rulePriority !== highest)) {
      throw policyFailure('Rule for tagStatus=ANY must have the lowest priority per storage class');
    }

    if (ofClass.filter((rule) => rule.selection.tagStatus === 'untagged').length > 1) {
      throw policyFailure('Only one rule can select Untagged images per storage class.');
    }

    const tagLists = new Set<string>();
    for (const rule of ofClass) {
      const key = tagListKey(rule.selection);
      if (key === undefined) continue;
      if (tagLists.has(key)) {
        throw policyFailure('The set of rules must contain a unique set of tag prefixes and tag patterns.');
      }
      tagLists.add(key);
    }
  }
}

/** Parses and validates lifecycle policy text as ECR's PutLifecyclePolicy does. */
export function parseLifecyclePolicy(text: string): LifecyclePolicy {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw policyFailure('Could not map policyString into LifecyclePolicy.');
  }
  if (jsonType(document) !== 'object') throw policyFailure('Could not map policyString into LifecyclePolicy.');

  const raw = expectObject(document, POLICY_PROPERTIES);
  expectType(raw.rules, 'array');
  const rawRules = raw.rules as unknown[];
  if (rawRules.length === 0) {
    throw policyFailure('array is too short: must have at least 1 elements but instance has 0 elements');
  }
  if (rawRules.length > LIFECYCLE_POLICY_MAX_RULES) {
    throw policyFailure(
      `array is too long: must have at most ${LIFECYCLE_POLICY_MAX_RULES} elements but instance has ${rawRules.length} elements`,
    );
  }

  const rules = rawRules.map(parseRule);
  checkRulesTogether(rules);
  return { rules: rules.sort((a, b) => a.rulePriority - b.rulePriority) };
}
