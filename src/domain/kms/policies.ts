/** Key policies as AWS writes them. */

/** The default key policy of CreateKey without a Policy: the account decides through IAM. */
export function defaultKeyPolicy(accountId: string): string {
  return awsJson({
    Version: '2012-10-17',
    Id: 'key-default-1',
    Statement: [
      {
        Sid: 'Enable IAM User Permissions',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
    ],
  });
}

/**
 * The policy of the AWS managed key `alias/aws/ecr`: principals of the account may use it through
 * ECR; the account may read its metadata.
 */
export function ecrManagedKeyPolicy(accountId: string, region: string): string {
  return awsJson({
    Version: '2012-10-17',
    Id: 'auto-ecr-1',
    Statement: [
      {
        Sid: 'Allow access through Amazon ECR for all principals in the account that are authorized to use Amazon ECR',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:CreateGrant', 'kms:DescribeKey'],
        Resource: '*',
        Condition: { StringEquals: { 'kms:CallerAccount': accountId, 'kms:ViaService': ecrViaService(region) } },
      },
      {
        Sid: 'Allow direct access to key metadata to the account',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: ['kms:Describe*', 'kms:Get*', 'kms:List*', 'kms:RevokeGrant'],
        Resource: '*',
      },
    ],
  });
}

/** The `kms:ViaService` value of requests ECR makes on a caller's behalf. */
export function ecrViaService(region: string): string {
  return `ecr.${region}.amazonaws.com`;
}

/** JSON as KMS prints policies: two-space indent and ` : ` between key and value. */
function awsJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/^(\s*"[^"]*"):/gm, '$1 :');
}
