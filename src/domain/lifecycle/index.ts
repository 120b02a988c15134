export {
  parseLifecyclePolicy,
  checkLifecyclePolicyTextLength,
  LifecyclePolicyValidationError,
  LIFECYCLE_POLICY_TEXT_MIN_LENGTH,
  LIFECYCLE_POLICY_TEXT_MAX_LENGTH,
  LIFECYCLE_POLICY_MAX_RULES,
  TAG_PATTERN_MAX_WILDCARDS,
} from './policy.js';
export type {
  LifecyclePolicy,
  LifecycleRule,
  LifecycleSelection,
  LifecycleAction,
  TagStatus,
  CountType,
  StorageClass,
} from './policy.js';
export { evaluateLifecycle, previewResult, summarizePreview, selectionMatches, matchesTagPattern } from './evaluate.js';
export type {
  LifecycleImage,
  LifecycleDecision,
  LifecyclePolicyPreviewResult,
  LifecyclePolicyPreviewSummary,
} from './evaluate.js';
