import { AuditStore } from './audit-store.js';
import { AUDIT_FILE_MIGRATIONS, migrate } from './migrations.js';
import { SqliteDb } from './sqlite.js';

/**
 * The embedded default keeps the audit trail in a SQLite file of its own beside the metadata
 * database. Every pull is a `BatchGetImage` record, so under load the trail is the busiest writer;
 * apart, its writer (a thread of its own, see AuditWriterThread) takes no lock the registry's writes
 * wait for. Opens it with its schema, after moving into it the rows an earlier version kept in the
 * metadata database.
 */
export async function openAuditFile(file: string, metadataFile: string): Promise<{ db: SqliteDb; store: AuditStore }> {
  const db = new SqliteDb(file);
  try {
    await migrate(db, AUDIT_FILE_MIGRATIONS);
    const store = new AuditStore(db);
    await store.adoptRowsOf(metadataFile);
    return { db, store };
  } catch (e) {
    await db.close();
    throw e;
  }
}
