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
  /** Moved to the archive storage class by a transition rule, or with their archived subject. */
  transitioned: ExpiredImage[];
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
  const result: LifecycleRunResult = { registryId: repo.registryId, repositoryName: repo.name, expired: [], transitioned: [], skipped: [] };
  const expire = async (digest: string, tags: string[], rulePriority: number | null, reason: 'rule' | 'subject-expired') => {
    if (!(await registry.images.expire(repo, digest, tags, { rulePriority, reason }))) return false;
    result.expired.push({ digest, tags, rulePriority });
    log.info({ event: 'lifecycle.expired', registryId: repo.registryId, repository: repo.name, digest, tags, rulePriority, reason }, 'lifecycle policy expired an image');
    return true;
  };
  const archive = async (digest: string, tags: string[], rulePriority: number | null) => {
    const record = rulePriority === null ? { rulePriority: null, reason: 'subject-archived' as const } : { rulePriority, reason: 'rule' as const };
    if (!(await registry.images.archiveByLifecycle(repo, digest, tags, record))) return false;
    result.transitioned.push({ digest, tags, rulePriority });
    log.info({ event: 'lifecycle.transitioned', registryId: repo.registryId, repository: repo.name, digest, tags, rulePriority, targetStorageClass: 'ARCHIVE' }, 'lifecycle policy archived an image');
    return true;
  };
  for (const decision of await planLifecycle(registry, repo, parseLifecyclePolicy(text), now)) {
    const done =
      decision.action === 'TRANSITION'
        ? await archive(decision.digest, decision.tags, decision.rulePriority)
        : await expire(decision.digest, decision.tags, decision.rulePriority, 'rule');
    if (!done) result.skipped.push(decision.digest);
  }
  for (const gone of [...result.expired]) {
    for (const referrer of await registry.images.referrerManifests(repo, gone.digest)) {
      await expire(referrer.digest, await registry.images.tagsOf(repo, referrer.digest), null, 'subject-expired');
    }
  }
  // Referrers (signatures, SBOMs) follow their subject into the archive, however it got there.
  const manifests = await registry.images.list(repo);
  const archived = new Set(manifests.filter((m) => m.imageStatus === 'ARCHIVED').map((m) => m.digest));
  for (const referrer of manifests) {
    if (referrer.subject && referrer.imageStatus === 'ACTIVE' && archived.has(referrer.subject)) await archive(referrer.digest, referrer.tags, null);
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
