import { globMatch } from '../../policy/index.js';

/** Every IAM action of Amazon ECR: one per API operation, and the permission-only ones. */
export const ECR_ACTIONS: readonly string[] = [
  'BatchCheckLayerAvailability', 'BatchDeleteImage', 'BatchGetImage', 'BatchGetRepositoryScanningConfiguration', 'CompleteLayerUpload',
  'CreatePullThroughCacheRule', 'CreateRepository', 'CreateRepositoryCreationTemplate', 'DeleteLifecyclePolicy', 'DeletePullThroughCacheRule',
  'DeleteRegistryPolicy', 'DeleteRepository', 'DeleteRepositoryCreationTemplate', 'DeleteRepositoryPolicy', 'DeleteSigningConfiguration',
  'DeregisterPullTimeUpdateExclusion', 'DescribeImageReplicationStatus', 'DescribeImageScanFindings', 'DescribeImageSigningStatus', 'DescribeImages',
  'DescribePullThroughCacheRules', 'DescribeRegistry', 'DescribeRepositories', 'DescribeRepositoryCreationTemplates', 'GetAccountSetting',
  'GetAuthorizationToken', 'GetDownloadUrlForLayer', 'GetLifecyclePolicy', 'GetLifecyclePolicyPreview', 'GetRegistryPolicy',
  'GetRegistryScanningConfiguration', 'GetRepositoryPolicy', 'GetSigningConfiguration', 'InitiateLayerUpload', 'ListImageReferrers', 'ListImages',
  'ListPullTimeUpdateExclusions', 'ListTagsForResource', 'PutAccountSetting', 'PutImage', 'PutImageScanningConfiguration', 'PutImageTagMutability',
  'PutLifecyclePolicy', 'PutRegistryPolicy', 'PutRegistryScanningConfiguration', 'PutReplicationConfiguration', 'PutSigningConfiguration',
  'RegisterPullTimeUpdateExclusion', 'SetRepositoryPolicy', 'StartImageScan', 'StartLifecyclePolicyPreview', 'TagResource', 'UntagResource',
  'UpdateImageStorageClass', 'UpdatePullThroughCacheRule', 'UpdateRepositoryCreationTemplate', 'UploadLayerPart', 'ValidatePullThroughCacheRule',
  // Permission-only: pull-through cache imports, cross-account replication, image copy status.
  'BatchImportUpstreamImage', 'ReplicateImage', 'GetImageCopyStatus',
].map((name) => `ecr:${name}`);


/**
 * Whether a policy's action (a name or a wildcard, compared case-insensitively as IAM does) names
 * ECR actions, all of them among `allowed`.
 */
export function namesOnly(action: string, allowed: readonly string[]): boolean {
  if (!action.toLowerCase().startsWith('ecr:')) return false;
  const named = ECR_ACTIONS.filter((a) => globMatch(action, a, true));
  return named.length > 0 && named.every((a) => allowed.includes(a));
}
