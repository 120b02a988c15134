import type { Logger } from 'pino';
import type { Repository } from '../registry/model.js';
import type { Registry } from '../registry/registry.js';
import { planLifecycle } from './plan.js';
import { parseLifecyclePolicy } from './policy.js';

export interface ExpiredImage {
  digest: string;
  tags: string[];
  rulePriority: number | null;
}

export interface LifecycleRunResult {
  registryId: string;
  repositoryName: string;
  expired: ExpiredImage[];
  /** Chosen by the policy but left alone because they changed (new tag, new index) before deletion. */
  skipped: string[];
}

/**
 * Evaluates the repository's stored policy and expires what it selects through the domain, then
 * the referrers (signatures, SBOMs) whose subject went with them. Returns undefined without a policy.
 */
export async function runLifecyclePolicy(registry: Registry, repo: Repository, log: Logger, now = new Date()): Promise<LifecycleRunResult | undefined> {
  const text = repo.settings.lifecyclePolicyText;
  if (text === undefined) return undefined;
  const result: LifecycleRunResult = { registryId: repo.registryId, repositoryName: repo.name, expired: [], skipped: [] };
  const expire = async (digest: string, tags: string[], rulePriority: number | null, reason: 'rule' | 'subject-expired') => {
    if (!(await registry.images.expire(repo, digest, tags, { rulePriority, reason }))) return false;
    result.expired.push({ digest, tags, rulePriority });
    log.info({ event: 'lifecycle.expired', registryId: repo.registryId, repository: repo.name, digest, tags, rulePriority, reason }, 'lifecycle policy expired an image');
    return true;
  };
  for (const decision of await planLifecycle(registry, repo, parseLifecyclePolicy(text), now)) {
    if (!(await expire(decision.digest, decision.tags, decision.rulePriority, 'rule'))) result.skipped.push(decision.digest);
  }
  for (const gone of [...result.expired]) {
    for (const referrer of await registry.images.referrerManifests(repo, gone.digest)) {
      await expire(referrer.digest, await registry.images.tagsOf(repo, referrer.digest), null, 'subject-expired');
    }
  }
  await registry.repositories.changeSettings(repo, { lifecyclePolicyLastEvaluatedAt: now.getTime() });
  return result;
}

/** Runs every repository's policy (or only `only`); one failing repository does not stop the rest. */
export async function runAllLifecyclePolicies(registry: Registry, log: Logger, only?: { registryId?: string; name: string }): Promise<LifecycleRunResult[]> {
  const results: LifecycleRunResult[] = [];
  for (const repo of await registry.repositories.listAll()) {
    if (only && (repo.name !== only.name || (only.registryId !== undefined && repo.registryId !== only.registryId))) continue;
    try {
      const result = await runLifecyclePolicy(registry, repo, log);
      if (result) results.push(result);
    } catch (err) {
      log.error({ err, repository: repo.name, registryId: repo.registryId }, 'lifecycle run failed');
    }
  }
  return results;
}
