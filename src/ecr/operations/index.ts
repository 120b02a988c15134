import type { EcrOperations } from '../operation.js';

/** Every ECR operation berth answers, by name. */
export const OPERATIONS: EcrOperations = {};
