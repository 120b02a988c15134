import type { SqlDb } from './sql.js';

export interface PullExclusionRow {
  principalArn: string;
  createdAt: number;
}

/** Principals whose pulls do not update an image's last recorded pull time, per registry. */
export class PullExclusionStore {
  constructor(private readonly db: SqlDb) {}

  /** Adds the exclusion; false when it exists already. */
  async add(registryId: string, principalArn: string, at: number): Promise<boolean> {
    const { changes } = await this.db.run(
      'INSERT INTO pull_time_exclusions (registry_id, principal_arn, created_at) VALUES (?, ?, ?) ON CONFLICT (registry_id, principal_arn) DO NOTHING',
      [registryId, principalArn, at],
    );
    return changes > 0;
  }

  /** Removes the exclusion; false when there was none. */
  async remove(registryId: string, principalArn: string): Promise<boolean> {
    const { changes } = await this.db.run('DELETE FROM pull_time_exclusions WHERE registry_id = ? AND principal_arn = ?', [registryId, principalArn]);
    return changes > 0;
  }

  /** The registry's exclusions in ARN order. */
  async list(registryId: string): Promise<PullExclusionRow[]> {
    const rows = await this.db.all<{ principal_arn: string; created_at: number | string }>(
      'SELECT principal_arn, created_at FROM pull_time_exclusions WHERE registry_id = ? ORDER BY principal_arn',
      [registryId],
    );
    return rows.map((r) => ({ principalArn: r.principal_arn, createdAt: Number(r.created_at) }));
  }

  /** Which of `principalArns` are excluded in the registry. */
  async excluded(registryId: string, principalArns: string[]): Promise<Set<string>> {
    if (principalArns.length === 0) return new Set();
    const rows = await this.db.all<{ principal_arn: string }>(
      `SELECT principal_arn FROM pull_time_exclusions WHERE registry_id = ? AND principal_arn IN (${principalArns.map(() => '?').join(', ')})`,
      [registryId, ...principalArns],
    );
    return new Set(rows.map((r) => r.principal_arn));
  }
}
