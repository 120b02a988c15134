import type { SqlDb } from './sql.js';
import { CORE_SCHEMA } from './schema/001-core.js';
import { IDENTITY_SCHEMA } from './schema/002-identity.js';
import { ECR_SCHEMA } from './schema/003-ecr.js';
import { LIFECYCLE_SCHEMA } from './schema/004-lifecycle.js';
import { LEASES_SCHEMA } from './schema/005-leases.js';

/**
 * One migration set for both databases. `{bytes}` becomes BLOB or BYTEA; everything else is the
 * common subset of SQLite and PostgreSQL. Times are epoch milliseconds in BIGINT columns.
 * On PostgreSQL every TEXT column gets the "C" collation: SQLite compares text bytewise (BINARY),
 * and ORDER BY, `name > ?` paging and their indexes must agree on both.
 */
const MIGRATIONS: string[] = [CORE_SCHEMA, IDENTITY_SCHEMA, ECR_SCHEMA, LIFECYCLE_SCHEMA, LEASES_SCHEMA];

export async function migrate(db: SqlDb): Promise<void> {
  // Inside the transaction, so several servers starting on one database migrate one at a time.
  await db.transaction(async (tx) => {
    await tx.run('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
    const row = await tx.get<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
    const current = Number(row?.v ?? 0);
    for (let i = current; i < MIGRATIONS.length; i++) {
      const sql = forDialect(MIGRATIONS[i]!, db.dialect);
      if (sql.trim() === '') continue;
      for (const statement of sql.split(';').map((s) => s.trim()).filter(Boolean)) {
        await tx.run(statement);
      }
      await tx.run('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)', [i + 1, Date.now()]);
    }
  });
}

function forDialect(sql: string, dialect: SqlDb['dialect']): string {
  if (dialect === 'sqlite') return sql.replaceAll('{bytes}', 'BLOB');
  return sql.replaceAll('{bytes}', 'BYTEA').replace(/\bTEXT\b/g, 'TEXT COLLATE "C"');
}
