import { randomUUID } from 'node:crypto';
import type { MetadataStore } from '../store/meta/metadata-store.js';

export interface LifecycleEvent {
  registryId: string;
  repositoryName: string;
  digest: string;
  tags: string[];
  /** The rule that expired the image; null when it went with its subject. */
  rulePriority: number | null;
  reason: 'rule' | 'subject-expired';
  at: number;
}

export async function recordLifecycleEvent(meta: MetadataStore, e: LifecycleEvent): Promise<void> {
  await meta.db.run(
    'INSERT INTO lifecycle_events (id, registry_id, repository_name, digest, tags, rule_priority, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    [randomUUID(), e.registryId, e.repositoryName, e.digest, JSON.stringify(e.tags), e.rulePriority, e.reason, e.at],
  );
}

export async function listLifecycleEvents(meta: MetadataStore, registryId: string, repositoryName: string): Promise<LifecycleEvent[]> {
  const rows = await meta.db.all<{
    registry_id: string;
    repository_name: string;
    digest: string;
    tags: string;
    rule_priority: number | string | null;
    reason: string;
    created_at: number | string;
  }>('SELECT * FROM lifecycle_events WHERE registry_id = ? AND repository_name = ? ORDER BY created_at, digest', [registryId, repositoryName]);
  return rows.map((r) => ({
    registryId: r.registry_id,
    repositoryName: r.repository_name,
    digest: r.digest,
    tags: JSON.parse(r.tags) as string[],
    rulePriority: r.rule_priority === null ? null : Number(r.rule_priority),
    reason: r.reason as LifecycleEvent['reason'],
    at: Number(r.created_at),
  }));
}
