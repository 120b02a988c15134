import { randomUUID } from 'node:crypto';
import type { SqlDb } from './sql.js';

export type PreviewStatus = 'IN_PROGRESS' | 'COMPLETE' | 'EXPIRED' | 'FAILED';

export interface StoredPreview<Result = unknown> {
  policyText: string;
  status: PreviewStatus;
  results: Result[];
  startedAt: number;
  completedAt: number | null;
}

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

/** Lifecycle policy previews (one per repository) and the record of what lifecycle expired. */
export class LifecycleStore {
  constructor(private readonly db: SqlDb) {}

  async savePreview(repoId: string, p: StoredPreview): Promise<void> {
    await this.db.run(
      `INSERT INTO lifecycle_previews (repo_id, policy_text, status, results, started_at, completed_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (repo_id) DO UPDATE SET policy_text = excluded.policy_text, status = excluded.status, results = excluded.results,
         started_at = excluded.started_at, completed_at = excluded.completed_at`,
      [repoId, p.policyText, p.status, JSON.stringify(p.results), p.startedAt, p.completedAt],
    );
  }

  async loadPreview<Result>(repoId: string): Promise<StoredPreview<Result> | undefined> {
    const r = await this.db.get<{ policy_text: string; status: string; results: string; started_at: number | string; completed_at: number | string | null }>(
      'SELECT policy_text, status, results, started_at, completed_at FROM lifecycle_previews WHERE repo_id = ?',
      [repoId],
    );
    if (!r) return undefined;
    return {
      policyText: r.policy_text,
      status: r.status as PreviewStatus,
      results: JSON.parse(r.results) as Result[],
      startedAt: Number(r.started_at),
      completedAt: r.completed_at === null ? null : Number(r.completed_at),
    };
  }

  async recordEvent(e: LifecycleEvent): Promise<void> {
    await this.db.run(
      'INSERT INTO lifecycle_events (id, registry_id, repository_name, digest, tags, rule_priority, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [randomUUID(), e.registryId, e.repositoryName, e.digest, JSON.stringify(e.tags), e.rulePriority, e.reason, e.at],
    );
  }

  async listEvents(registryId: string, repositoryName: string): Promise<LifecycleEvent[]> {
    const rows = await this.db.all<{
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
}
