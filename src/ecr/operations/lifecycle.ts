import type { EcrOperations } from '../operation.js';

/** Lifecycle policy operations and previews. */
export const LIFECYCLE_OPERATIONS: EcrOperations = {};
