import type { MetadataStore, RepositoryRow } from '../store/meta/metadata-store.js';
import { evaluateLifecycle, type LifecycleDecision, type LifecycleImage } from './evaluate.js';
import type { LifecyclePolicy } from './policy.js';

/** The images a policy may act on: everything except manifests an index in the repository lists. */
export async function lifecycleImages(meta: MetadataStore, repoId: string): Promise<LifecycleImage[]> {
  const manifests = await meta.listManifests(repoId);
  const referenced = new Set(
    (await meta.db.all<{ child: string }>("SELECT DISTINCT child FROM manifest_refs WHERE repo_id = ? AND kind = 'manifest'", [repoId])).map(
      (r) => r.child,
    ),
  );
  return manifests
    .filter((m) => !referenced.has(m.digest))
    .map((m) => ({
      digest: m.digest,
      tags: m.tags,
      pushedAt: new Date(m.pushedAt),
      ...(m.lastPulledAt !== null ? { lastPulledAt: new Date(m.lastPulledAt) } : {}),
    }));
}

/** What the policy expires in the repository right now; the same answer for previews and runs. */
export async function planLifecycle(meta: MetadataStore, repo: RepositoryRow, policy: LifecyclePolicy, now: Date): Promise<LifecycleDecision[]> {
  return evaluateLifecycle(policy, await lifecycleImages(meta, repo.id), now);
}
