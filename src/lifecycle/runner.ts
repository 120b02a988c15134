import type { Logger } from 'pino';
import { RegistryError } from '../registry/errors.js';
import type { Registry } from '../registry/registry.js';
import type { MetadataStore, RepositoryRow } from '../store/meta/metadata-store.js';
import type { LifecycleDecision } from './evaluate.js';
import { recordLifecycleEvent } from './events.js';
import { planLifecycle } from './plan.js';
import { parseLifecyclePolicy } from './policy.js';

export const POLICY_TEXT_KEY = 'lifecyclePolicyText';
export const LAST_EVALUATED_KEY = 'lifecyclePolicyLastEvaluatedAt';

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

export function storedPolicyText(repo: RepositoryRow): string | undefined {
  const text = repo.settings[POLICY_TEXT_KEY];
  return typeof text === 'string' ? text : undefined;
}

/**
 * Evaluates the repository's stored policy and expires what it selects through the domain, then
 * the referrers (signatures, SBOMs) whose subject went with them. Returns undefined without a policy.
 */
export async function runLifecyclePolicy(
  registry: Registry,
  repo: RepositoryRow,
  log: Logger,
  now = new Date(),
): Promise<LifecycleRunResult | undefined> {
  const meta = registry.meta;
  const text = storedPolicyText(repo);
  if (text === undefined) return undefined;
  const result: LifecycleRunResult = { registryId: repo.registryId, repositoryName: repo.name, expired: [], skipped: [] };
  const decisions = await planLifecycle(meta, repo, parseLifecyclePolicy(text), now);
  for (const decision of decisions) {
    if (!(await stillAsPlanned(meta, repo.id, decision))) {
      result.skipped.push(decision.digest);
      continue;
    }
    if (await expire(registry, repo, decision.digest, decision.tags, decision.rulePriority, 'rule', log)) {
      result.expired.push({ digest: decision.digest, tags: decision.tags, rulePriority: decision.rulePriority });
    }
  }
  for (const gone of [...result.expired]) {
    for (const referrer of await meta.listReferrers(repo.id, gone.digest)) {
      if (await meta.isReferencedManifest(repo.id, referrer.digest)) continue;
      const tags = await meta.tagsOf(repo.id, referrer.digest);
      if (await expire(registry, repo, referrer.digest, tags, null, 'subject-expired', log)) {
        result.expired.push({ digest: referrer.digest, tags, rulePriority: null });
      }
    }
  }
  await markEvaluated(meta, repo.id, now.getTime());
  return result;
}

/** Whether the image still has the tags it was judged by and no index has started listing it. */
async function stillAsPlanned(meta: MetadataStore, repoId: string, decision: LifecycleDecision): Promise<boolean> {
  const tags = await meta.tagsOf(repoId, decision.digest);
  const planned = [...decision.tags].sort();
  if (tags.length !== planned.length || tags.some((t, i) => t !== planned[i])) return false;
  return !(await meta.isReferencedManifest(repoId, decision.digest));
}

async function expire(
  registry: Registry,
  repo: RepositoryRow,
  digest: string,
  tags: string[],
  rulePriority: number | null,
  reason: 'rule' | 'subject-expired',
  log: Logger,
): Promise<boolean> {
  try {
    await registry.deleteManifest(repo, digest);
  } catch (err) {
    if (err instanceof RegistryError && err.code === 'MANIFEST_UNKNOWN') return false;
    throw err;
  }
  const at = Date.now();
  await recordLifecycleEvent(registry.meta, { registryId: repo.registryId, repositoryName: repo.name, digest, tags, rulePriority, reason, at });
  log.info({ event: 'lifecycle.expired', registryId: repo.registryId, repository: repo.name, digest, tags, rulePriority, reason }, 'lifecycle policy expired an image');
  return true;
}

/** Sets lastEvaluatedAt without overwriting settings others changed meanwhile. */
async function markEvaluated(meta: MetadataStore, repoId: string, at: number): Promise<void> {
  await meta.transaction(async (tx) => {
    const current = await tx.getRepositoryById(repoId);
    if (!current) return;
    await tx.updateRepositorySettings(repoId, { ...current.settings, [LAST_EVALUATED_KEY]: at });
  });
}

/** Runs every repository's policy (or only `only`); one failing repository does not stop the rest. */
export async function runAllLifecyclePolicies(
  registry: Registry,
  log: Logger,
  only?: { registryId?: string; name: string },
): Promise<LifecycleRunResult[]> {
  const results: LifecycleRunResult[] = [];
  for (const repo of await registry.meta.listAllRepositories()) {
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
