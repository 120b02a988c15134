import type { SqlDb } from './sql.js';

export interface RepositoryStorage {
  registryId: string;
  repositoryName: string;
  /** Bytes of the blobs linked to the repository, each counted once (as ECR bills storage). */
  bytes: number;
}

/** Aggregate figures over the metadata, for metrics; each query reads the whole of its tables. */
export class StatsStore {
  constructor(private readonly db: SqlDb) {}

  async storageByRepository(): Promise<RepositoryStorage[]> {
    const rows = await this.db.all<{ registry_id: string; name: string; bytes: number | string | null }>(
      `SELECT r.registry_id, r.name, SUM(b.size) AS bytes
         FROM repositories r
         LEFT JOIN repo_blobs rb ON rb.repo_id = r.id
         LEFT JOIN blobs b ON b.digest = rb.digest
        GROUP BY r.id, r.registry_id, r.name
        ORDER BY r.registry_id, r.name`,
    );
    return rows.map((r) => ({ registryId: r.registry_id, repositoryName: r.name, bytes: Number(r.bytes ?? 0) }));
  }

  /** Bytes of every stored blob once, however many repositories link it. */
  async totalBlobBytes(): Promise<number> {
    const row = await this.db.get<{ bytes: number | string | null }>('SELECT SUM(size) AS bytes FROM blobs');
    return Number(row?.bytes ?? 0);
  }

  async uploadsInProgress(): Promise<number> {
    const row = await this.db.get<{ n: number | string }>('SELECT COUNT(*) AS n FROM uploads');
    return Number(row?.n ?? 0);
  }

  async jobCounts(): Promise<Array<{ kind: string; status: string; count: number }>> {
    const rows = await this.db.all<{ kind: string; status: string; n: number | string }>(
      'SELECT kind, status, COUNT(*) AS n FROM jobs GROUP BY kind, status ORDER BY kind, status',
    );
    return rows.map((r) => ({ kind: r.kind, status: r.status, count: Number(r.n) }));
  }
}
