/**
 * The AWS managed policies for ECR, with the documents AWS publishes for them
 * (ReadOnly, PowerUser and FullAccess at their default version v3, PullOnly at v1), and ECR
 * Public's three (v1).
 * Users and roles can attach them by ARN, as in AWS.
 */

export interface ManagedPolicy {
  arn: string;
  description: string;
  /** The policy document as JSON text. */
  document: string;
}

const ECR_READ_ACTIONS = [
  'ecr:GetAuthorizationToken',
  'ecr:BatchCheckLayerAvailability',
  'ecr:GetDownloadUrlForLayer',
  'ecr:GetRepositoryPolicy',
  'ecr:DescribeRepositories',
  'ecr:ListImages',
  'ecr:DescribeImages',
  'ecr:BatchGetImage',
  'ecr:GetLifecyclePolicy',
  'ecr:GetLifecyclePolicyPreview',
  'ecr:ListTagsForResource',
  'ecr:DescribeImageScanFindings',
];

const ECR_PUSH_ACTIONS = ['ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage'];

/** ECR Public's read-only actions, as its managed policies list them (v1). */
const ECR_PUBLIC_READ_ACTIONS = [
  'ecr-public:GetAuthorizationToken',
  'sts:GetServiceBearerToken',
  'ecr-public:BatchCheckLayerAvailability',
  'ecr-public:GetRepositoryPolicy',
  'ecr-public:DescribeRepositories',
  'ecr-public:DescribeRegistries',
  'ecr-public:DescribeImages',
  'ecr-public:DescribeImageTags',
  'ecr-public:GetRepositoryCatalogData',
  'ecr-public:GetRegistryCatalogData',
];

const ECR_PUBLIC_PUSH_ACTIONS = ['ecr-public:InitiateLayerUpload', 'ecr-public:UploadLayerPart', 'ecr-public:CompleteLayerUpload', 'ecr-public:PutImage'];

function document(statements: object[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements }, null, 2);
}

function managed(name: string, description: string, statements: object[]): ManagedPolicy {
  return { arn: `arn:aws:iam::aws:policy/${name}`, description, document: document(statements) };
}

export const MANAGED_POLICIES = {
  AmazonEC2ContainerRegistryReadOnly: managed(
    'AmazonEC2ContainerRegistryReadOnly',
    'Provides read-only access to Amazon EC2 Container Registry repositories.',
    [{ Effect: 'Allow', Action: ECR_READ_ACTIONS, Resource: '*' }],
  ),
  AmazonEC2ContainerRegistryPowerUser: managed(
    'AmazonEC2ContainerRegistryPowerUser',
    'Provides full access to Amazon EC2 Container Registry repositories, but does not allow repository deletion or policy changes.',
    [{ Effect: 'Allow', Action: [...ECR_READ_ACTIONS, ...ECR_PUSH_ACTIONS], Resource: '*' }],
  ),
  AmazonEC2ContainerRegistryFullAccess: managed(
    'AmazonEC2ContainerRegistryFullAccess',
    'Provides administrative access to Amazon ECR resources',
    [
      { Effect: 'Allow', Action: ['ecr:*', 'cloudtrail:LookupEvents'], Resource: '*' },
      {
        Effect: 'Allow',
        Action: ['iam:CreateServiceLinkedRole'],
        Resource: '*',
        Condition: { StringEquals: { 'iam:AWSServiceName': ['replication.ecr.amazonaws.com'] } },
      },
    ],
  ),
  AmazonEC2ContainerRegistryPullOnly: managed(
    'AmazonEC2ContainerRegistryPullOnly',
    'Provides access to pull images from Amazon EC2 Container Registry repositories.',
    [
      {
        Effect: 'Allow',
        Action: [
          'ecr:GetAuthorizationToken',
          'ecr:BatchGetImage',
          'ecr:GetDownloadUrlForLayer',
          'ecr:BatchImportUpstreamImage',
        ],
        Resource: '*',
      },
    ],
  ),
  AmazonElasticContainerRegistryPublicReadOnly: managed(
    'AmazonElasticContainerRegistryPublicReadOnly',
    'Provides read-only access to Amazon ECR Public repositories.',
    [{ Effect: 'Allow', Action: ECR_PUBLIC_READ_ACTIONS, Resource: '*' }],
  ),
  AmazonElasticContainerRegistryPublicPowerUser: managed(
    'AmazonElasticContainerRegistryPublicPowerUser',
    'Provides full access to Amazon ECR Public repositories, but does not allow repository deletion or policy changes.',
    [{ Effect: 'Allow', Action: [...ECR_PUBLIC_READ_ACTIONS, ...ECR_PUBLIC_PUSH_ACTIONS], Resource: '*' }],
  ),
  AmazonElasticContainerRegistryPublicFullAccess: managed(
    'AmazonElasticContainerRegistryPublicFullAccess',
    'Provides administrative access to Amazon ECR Public resources',
    [{ Effect: 'Allow', Action: ['ecr-public:*', 'sts:GetServiceBearerToken'], Resource: '*' }],
  ),
} satisfies Record<string, ManagedPolicy>;

export type ManagedPolicyName = keyof typeof MANAGED_POLICIES;

/** Look a managed policy up by its ARN (`arn:aws:iam::aws:policy/<name>`). */
export function managedPolicyByArn(arn: string): ManagedPolicy | undefined {
  return Object.values(MANAGED_POLICIES).find((policy) => policy.arn === arn);
}
