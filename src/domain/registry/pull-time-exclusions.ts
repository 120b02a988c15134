import type { MetadataStore } from '../../store/meta/metadata-store.js';
import { RegistryError } from './errors.js';

/** ECR's limit on pull-time update exclusions per registry (the list shape's maximum). */
export const MAX_PULL_TIME_EXCLUSIONS = 100;

const ROLE_ARN = /^arn:[^:]+:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/;
const ASSUMED_ROLE_ARN = /^arn:[^:]+:sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/;

/**
 * Whether a pull by `principalArn` is excluded by the exclusion `excludedArn`: the same user or
 * role, or a session of an excluded role (roles are matched by account and name, as role
 * session ARNs carry no path).
 */
export function isExcludedPrincipal(principalArn: string, excludedArn: string): boolean {
  if (principalArn === excludedArn) return true;
  const session = ASSUMED_ROLE_ARN.exec(principalArn);
  const role = ROLE_ARN.exec(excludedArn);
  return session !== null && role !== null && session[1] === role[1] && session[2] === role[2];
}

/** IAM principals whose pulls do not update an image's lastRecordedPullTime. */
export class PullTimeExclusions {
  constructor(private readonly meta: MetadataStore) {}

  async register(registryId: string, principalArn: string): Promise<{ principalArn: string; createdAt: number }> {
    const createdAt = Date.now();
    await this.meta.transaction(async (tx) => {
      if ((await tx.pullExclusions.list(registryId)).length >= MAX_PULL_TIME_EXCLUSIONS) {
        throw new RegistryError('LimitExceeded', `A registry can have at most ${MAX_PULL_TIME_EXCLUSIONS} pull time update exclusions`);
      }
      if (!(await tx.pullExclusions.add(registryId, principalArn, createdAt))) {
        throw new RegistryError('ExclusionAlreadyExists', `The pull time update exclusion for principal '${principalArn}' already exists in the registry with id '${registryId}'`);
      }
    });
    return { principalArn, createdAt };
  }

  async deregister(registryId: string, principalArn: string): Promise<void> {
    if (!(await this.meta.pullExclusions.remove(registryId, principalArn))) {
      throw new RegistryError('ExclusionNotFound', `The pull time update exclusion for principal '${principalArn}' does not exist in the registry with id '${registryId}'`);
    }
  }

  /** The excluded principal ARNs, in ARN order. */
  async list(registryId: string): Promise<string[]> {
    return (await this.meta.pullExclusions.list(registryId)).map((e) => e.principalArn);
  }
}
