import type { EcrOperations } from '../operation.js';
import { ACCOUNT_OPERATIONS } from './account.js';
import { IMAGE_OPERATIONS } from './images.js';
import { LAYER_OPERATIONS } from './layers.js';
import { LIFECYCLE_OPERATIONS } from './lifecycle.js';
import { POLICY_OPERATIONS } from './policies.js';
import { PULL_THROUGH_CACHE_OPERATIONS } from './pull-through-cache.js';
import { PULL_TIME_EXCLUSION_OPERATIONS } from './pull-time-exclusions.js';
import { REFERRER_OPERATIONS } from './referrers.js';
import { REPLICATION_OPERATIONS } from './replication.js';
import { REPOSITORY_OPERATIONS } from './repositories.js';
import { SIGNING_OPERATIONS } from './signing.js';
import { STORAGE_CLASS_OPERATIONS } from './storage-class.js';
import { TEMPLATE_OPERATIONS } from './templates.js';
import { SCANNING_OPERATIONS } from './scanning.js';

/** Every ECR operation berth answers, by name. */
export const OPERATIONS: EcrOperations = {
  ...REPOSITORY_OPERATIONS,
  ...IMAGE_OPERATIONS,
  ...LAYER_OPERATIONS,
  ...ACCOUNT_OPERATIONS,
  ...POLICY_OPERATIONS,
  ...LIFECYCLE_OPERATIONS,
  ...TEMPLATE_OPERATIONS,
  ...REFERRER_OPERATIONS,
  ...PULL_TIME_EXCLUSION_OPERATIONS,
  ...SIGNING_OPERATIONS,
  ...REPLICATION_OPERATIONS,
  ...PULL_THROUGH_CACHE_OPERATIONS,
  ...STORAGE_CLASS_OPERATIONS,
  ...SCANNING_OPERATIONS,
};
