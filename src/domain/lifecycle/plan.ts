import type { Repository } from '../registry/model.js';
import type { Registry } from '../registry/registry.js';
import { evaluateLifecycle, type LifecycleDecision, type LifecycleImage } from './evaluate.js';
import type { LifecyclePolicy } from './policy.js';

/**
 * The images a policy may act on: everything except manifests an index in the repository lists
 * while that index is not archived (an index must be deleted or archived before its images can be),
 * and images being restored from the archive (in neither storage class until the restore completes).
 */
export async function lifecycleImages(registry: Registry, repo: Repository): Promise<LifecycleImage[]> {
  const manifests = await registry.images.list(repo);
  const held = await registry.images.manifestsHeldByActiveIndexes(repo);
  const date = (ms: number | null) => (ms === null ? undefined : new Date(ms));
  return manifests
    .filter((m) => !held.has(m.digest) && m.imageStatus !== 'ACTIVATING')
    .map((m) => {
      const image: LifecycleImage = {
        digest: m.digest,
        tags: m.tags,
        pushedAt: new Date(m.pushedAt),
        storageClass: m.imageStatus === 'ACTIVE' ? 'standard' : 'archive',
      };
      if (m.lastPulledAt !== null) image.lastPulledAt = date(m.lastPulledAt);
      if (m.lastArchivedAt !== null) image.lastArchivedAt = date(m.lastArchivedAt);
      if (m.lastActivatedAt !== null) image.lastActivatedAt = date(m.lastActivatedAt);
      return image;
    });
}

/** What the policy expires or archives in the repository right now; the same answer for previews and runs. */
export async function planLifecycle(registry: Registry, repo: Repository, policy: LifecyclePolicy, now: Date): Promise<LifecycleDecision[]> {
  return evaluateLifecycle(policy, await lifecycleImages(registry, repo), now);
}
