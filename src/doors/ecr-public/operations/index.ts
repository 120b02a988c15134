import type { EcrPublicOperation } from '../context.js';
import { IMAGE_OPERATIONS } from './images.js';
import { LAYER_OPERATIONS } from './layers.js';
import { POLICY_OPERATIONS } from './policies.js';
import { REGISTRY_OPERATIONS } from './registry.js';
import { REPOSITORY_OPERATIONS } from './repositories.js';

/** Every ECR Public operation berth answers, by name: all of the model's. */
export const OPERATIONS: Record<string, EcrPublicOperation> = {
  ...REPOSITORY_OPERATIONS,
  ...IMAGE_OPERATIONS,
  ...LAYER_OPERATIONS,
  ...POLICY_OPERATIONS,
  ...REGISTRY_OPERATIONS,
};
