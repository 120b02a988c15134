import type { EcrOperations } from '../operation.js';
import { LIFECYCLE_OPERATIONS } from './lifecycle.js';

/** Every ECR operation berth answers, by name. */
export const OPERATIONS: EcrOperations = {
  ...LIFECYCLE_OPERATIONS,
};
