/**
 * The port through which the domain asks whether an AWS service, acting with an IAM role the
 * customer named (a template's customRoleArn, an EventBridge target's RoleArn), may do what it is
 * about to do. The identity layer answers it (`src/iam/service-roles.ts`); the domain only asks.
 */
export interface ServiceRoles {
  /** Whether the account has a role with exactly this ARN. */
  exists(roleArn: string): Promise<boolean>;
  /**
   * Whether `service` (e.g. `ecr.amazonaws.com`) may assume `roleArn` and, as that role, do every
   * one of `requests`. A refusal says which part failed and names the role.
   */
  check(service: string, roleArn: string, requests: ServiceRequest[]): Promise<ServiceRoleVerdict>;
}

export interface ServiceRequest {
  /** e.g. `ecr:CreateRepository` */
  action: string;
  /** The resource ARN, or `*`. */
  resource: string;
  /** Condition keys the request carries (e.g. `kms:ViaService` when ECR calls KMS as the role). */
  context?: Record<string, string>;
}

export type ServiceRoleVerdict = { allowed: true } | { allowed: false; reason: string };

/** Where no role directory is wired in (some tests): no role exists, so none lets a service act. */
export const NO_SERVICE_ROLES: ServiceRoles = {
  exists: async () => false,
  check: async (_service, roleArn) => ({ allowed: false, reason: `the role ${roleArn} does not exist` }),
};
