import type { EcrOperations } from '../operation.js';
import { ACCOUNT_OPERATIONS } from './account.js';
import { IMAGE_OPERATIONS } from './images.js';
import { LAYER_OPERATIONS } from './layers.js';
import { LIFECYCLE_OPERATIONS } from './lifecycle.js';
import { POLICY_OPERATIONS } from './policies.js';
import { REPOSITORY_OPERATIONS } from './repositories.js';
import { SCANNING_OPERATIONS } from './scanning.js';

/** Every ECR operation berth answers, by name. */
export const OPERATIONS: EcrOperations = {
  ...REPOSITORY_OPERATIONS,
  ...IMAGE_OPERATIONS,
  ...LAYER_OPERATIONS,
  ...ACCOUNT_OPERATIONS,
  ...POLICY_OPERATIONS,
  ...LIFECYCLE_OPERATIONS,
  ...SCANNING_OPERATIONS,
};
