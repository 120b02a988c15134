import type { MetadataStore } from '../store/meta/metadata-store.js';
import type { LifecyclePolicyPreviewResult } from './evaluate.js';

export type PreviewStatus = 'IN_PROGRESS' | 'COMPLETE' | 'EXPIRED' | 'FAILED';

export interface StoredPreview {
  policyText: string;
  status: PreviewStatus;
  results: LifecyclePolicyPreviewResult[];
  startedAt: number;
  completedAt: number | null;
}

/** One preview per repository, replaced by the next StartLifecyclePolicyPreview. */
export async function savePreview(meta: MetadataStore, repoId: string, p: StoredPreview): Promise<void> {
  await meta.db.run(
    `INSERT INTO lifecycle_previews (repo_id, policy_text, status, results, started_at, completed_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (repo_id) DO UPDATE SET policy_text = excluded.policy_text, status = excluded.status, results = excluded.results,
       started_at = excluded.started_at, completed_at = excluded.completed_at`,
    [repoId, p.policyText, p.status, JSON.stringify(p.results), p.startedAt, p.completedAt],
  );
}

export async function loadPreview(meta: MetadataStore, repoId: string): Promise<StoredPreview | undefined> {
  const r = await meta.db.get<{ policy_text: string; status: string; results: string; started_at: number | string; completed_at: number | string | null }>(
    'SELECT policy_text, status, results, started_at, completed_at FROM lifecycle_previews WHERE repo_id = ?',
    [repoId],
  );
  if (!r) return undefined;
  return {
    policyText: r.policy_text,
    status: r.status as PreviewStatus,
    results: JSON.parse(r.results) as LifecyclePolicyPreviewResult[],
    startedAt: Number(r.started_at),
    completedAt: r.completed_at === null ? null : Number(r.completed_at),
  };
}
