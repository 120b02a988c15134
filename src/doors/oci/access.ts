import type { IncomingMessage } from 'node:http';
import type { RepoRef } from '../../domain/registry/registry.js';

/** Who is calling on /v2, and which registry (account) they address. */
export interface OciCaller {
  registryId: string;
  principalArn: string;
  anonymous: boolean;
}

/** The ECR action a /v2 request needs, as IAM names it. */
export type OciAction =
  | 'ecr:BatchGetImage'
  | 'ecr:GetDownloadUrlForLayer'
  | 'ecr:BatchCheckLayerAvailability'
  | 'ecr:InitiateLayerUpload'
  | 'ecr:UploadLayerPart'
  | 'ecr:CompleteLayerUpload'
  | 'ecr:PutImage'
  | 'ecr:BatchDeleteImage'
  | 'ecr:ListImages'
  | 'ecr:DescribeRepositories'
  | 'ecr:CreateRepository';

/**
 * Authentication and authorization for the /v2 door. `authenticate` throws an UNAUTHORIZED
 * OciError (the door adds the challenge); `authorize` throws DENIED or UNAUTHORIZED.
 */
export interface OciAccess {
  authenticate(req: IncomingMessage): Promise<OciCaller>;
  authorize(caller: OciCaller, action: OciAction, repo: RepoRef): Promise<void>;
  /** Whether the caller may see this repository in the catalog. */
  canList(caller: OciCaller, repo: RepoRef): Promise<boolean>;
  challenge(): string;
}
