import type { Repository } from '../registry/model.js';
import type { Registry } from '../registry/registry.js';
import { evaluateLifecycle, type LifecycleDecision, type LifecycleImage } from './evaluate.js';
import type { LifecyclePolicy } from './policy.js';

/** The images a policy may act on: everything except manifests an index in the repository lists. */
export async function lifecycleImages(registry: Registry, repo: Repository): Promise<LifecycleImage[]> {
  const manifests = await registry.images.list(repo);
  const indexed = await registry.images.indexedManifests(repo);
  return manifests
    .filter((m) => !indexed.has(m.digest))
    .map((m) => ({
      digest: m.digest,
      tags: m.tags,
      pushedAt: new Date(m.pushedAt),
      ...(m.lastPulledAt !== null ? { lastPulledAt: new Date(m.lastPulledAt) } : {}),
    }));
}

/** What the policy expires in the repository right now; the same answer for previews and runs. */
export async function planLifecycle(registry: Registry, repo: Repository, policy: LifecyclePolicy, now: Date): Promise<LifecycleDecision[]> {
  return evaluateLifecycle(policy, await lifecycleImages(registry, repo), now);
}
