import type { SqlDb, SqlValue } from './sql.js';

/** One recorded call: the lookup columns and the CloudTrail record (JSON). */
export interface AuditRow {
  eventId: string;
  /** Epoch ms. */
  eventTime: number;
  eventName: string;
  eventSource: string;
  username: string | null;
  accessKeyId: string | null;
  readOnly: boolean;
  resourceType: string | null;
  resourceName: string | null;
  record: string;
}

/** The columns LookupEvents can filter on, one at a time (CloudTrail allows one attribute). */
export type AuditAttribute = 'eventId' | 'eventName' | 'eventSource' | 'username' | 'accessKeyId' | 'readOnly' | 'resourceType' | 'resourceName';

export interface AuditQuery {
  attribute?: { key: AuditAttribute; value: string };
  /** Epoch ms, inclusive. */
  start?: number;
  end?: number;
  /** Continue after this row (the last one of the previous page). */
  after?: { eventTime: number; eventId: string };
  limit: number;
  /** Oldest first instead of newest first. */
  oldestFirst?: boolean;
}

const COLUMNS: Record<AuditAttribute, string> = {
  eventId: 'event_id',
  eventName: 'event_name',
  eventSource: 'event_source',
  username: 'username',
  accessKeyId: 'access_key_id',
  readOnly: 'read_only',
  resourceType: 'resource_type',
  resourceName: 'resource_name',
};

interface RawRow {
  event_id: string;
  event_time: number | string;
  event_name: string;
  event_source: string;
  username: string | null;
  access_key_id: string | null;
  read_only: number | string;
  resource_type: string | null;
  resource_name: string | null;
  record: string;
}

function toRow(r: RawRow): AuditRow {
  return {
    eventId: r.event_id,
    eventTime: Number(r.event_time),
    eventName: r.event_name,
    eventSource: r.event_source,
    username: r.username,
    accessKeyId: r.access_key_id,
    readOnly: Number(r.read_only) === 1,
    resourceType: r.resource_type,
    resourceName: r.resource_name,
    record: r.record,
  };
}

/** Rows per INSERT statement: well under SQLite's 32766 and PostgreSQL's 65535 parameters. */
export const AUDIT_ROWS_PER_INSERT = 200;

/** The audit trail's rows. */
export class AuditStore {
  constructor(private readonly db: SqlDb) {}

  /**
   * Inserts the rows, AUDIT_ROWS_PER_INSERT per statement, each statement atomic; a row whose event
   * id is already stored is skipped, so a retry after a failure part-way writes each row once.
   * Commits are not flushed to disk one by one (a power failure may lose the last ones, a crash
   * of the process does not): the trail is written often, and must not stall requests on fsync.
   */
  async append(rows: AuditRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += AUDIT_ROWS_PER_INSERT) {
      const chunk = rows.slice(i, i + AUDIT_ROWS_PER_INSERT);
      const params: SqlValue[] = [];
      for (const r of chunk) params.push(r.eventId, r.eventTime, r.eventName, r.eventSource, r.username, r.accessKeyId, r.readOnly ? 1 : 0, r.resourceType, r.resourceName, r.record);
      await this.db.runUnsynced(
        `INSERT INTO audit_events (event_id, event_time, event_name, event_source, username, access_key_id, read_only, resource_type, resource_name, record)
         VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
         ON CONFLICT (event_id) DO NOTHING`,
        params,
      );
    }
  }

  async lookup(q: AuditQuery): Promise<AuditRow[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (q.attribute) {
      where.push(`${COLUMNS[q.attribute.key]} = ?`);
      params.push(q.attribute.key === 'readOnly' ? (q.attribute.value === 'true' ? 1 : 0) : q.attribute.value);
    }
    if (q.start !== undefined) {
      where.push('event_time >= ?');
      params.push(q.start);
    }
    if (q.end !== undefined) {
      where.push('event_time <= ?');
      params.push(q.end);
    }
    const cmp = q.oldestFirst ? '>' : '<';
    if (q.after) {
      where.push(`(event_time ${cmp} ? OR (event_time = ? AND event_id ${cmp} ?))`);
      params.push(q.after.eventTime, q.after.eventTime, q.after.eventId);
    }
    const order = q.oldestFirst ? 'ASC' : 'DESC';
    params.push(q.limit);
    const rows = await this.db.all<RawRow>(
      `SELECT * FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY event_time ${order}, event_id ${order} LIMIT ?`,
      params,
    );
    return rows.map(toRow);
  }

  /** Deletes rows older than `before` (epoch ms); returns how many. */
  async prune(before: number): Promise<number> {
    return (await this.db.run('DELETE FROM audit_events WHERE event_time < ?', [before])).changes;
  }
}
