import type { SqlDb, SqlValue } from './sql.js';

/**
 * What a call's CloudTrail record is built from when it is read (see cloudtrail-record.ts): the
 * request's own facts, its parameters and response already without secrets, as JSON.
 */
export interface AuditCallColumns {
  requestId: string;
  /** null for an anonymous caller. */
  principalArn: string | null;
  principalAccount: string | null;
  /** The user's unique id (AIDA…), when known. */
  principalId: string | null;
  sourceIp: string;
  userAgent: string;
  requestParameters: string | null;
  responseElements: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  recipientAccountId: string;
  region: string;
}

/**
 * One recorded call: the lookup columns, and either its CloudTrail record (JSON) or, with `record`
 * empty, the `call` columns the record is built from when read.
 */
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
  call?: AuditCallColumns;
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
  request_id: string | null;
  principal_arn: string | null;
  principal_account: string | null;
  principal_id: string | null;
  source_ip: string | null;
  user_agent: string | null;
  request_parameters: string | null;
  response_elements: string | null;
  error_code: string | null;
  error_message: string | null;
  recipient_account_id: string | null;
  region: string | null;
}

function toRow(r: RawRow): AuditRow {
  const row: AuditRow = {
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
  if (r.record === '') {
    row.call = {
      requestId: r.request_id ?? '',
      principalArn: r.principal_arn,
      principalAccount: r.principal_account,
      principalId: r.principal_id,
      sourceIp: r.source_ip ?? '',
      userAgent: r.user_agent ?? '',
      requestParameters: r.request_parameters,
      responseElements: r.response_elements,
      errorCode: r.error_code,
      errorMessage: r.error_message,
      recipientAccountId: r.recipient_account_id ?? '',
      region: r.region ?? '',
    };
  }
  return row;
}

/** Rows per INSERT statement: well under SQLite's 32766 and PostgreSQL's 65535 parameters. */
export const AUDIT_ROWS_PER_INSERT = 200;

const INSERT_COLUMNS = [
  'event_id', 'event_time', 'event_name', 'event_source', 'username', 'access_key_id', 'read_only', 'resource_type', 'resource_name', 'record',
  'request_id', 'principal_arn', 'principal_account', 'principal_id', 'source_ip', 'user_agent', 'request_parameters', 'response_elements', 'error_code', 'error_message', 'recipient_account_id', 'region',
];
const ROW_PLACEHOLDERS = `(${INSERT_COLUMNS.map(() => '?').join(', ')})`;
const insertStatements = new Map<number, string>();

/**
 * How many of `left` rows the next INSERT takes: AUDIT_ROWS_PER_INSERT, else the largest power of
 * two. A database keeps one prepared statement per row count (a third of a megabyte each at 200
 * rows), so batches of any size use at most nine of them.
 */
function chunkSize(left: number): number {
  if (left >= AUDIT_ROWS_PER_INSERT) return AUDIT_ROWS_PER_INSERT;
  return 2 ** Math.floor(Math.log2(left));
}

/** The INSERT of `rows` rows; the same text for the same count, so the prepared statement is reused. */
function insertStatement(rows: number): string {
  let sql = insertStatements.get(rows);
  if (!sql) {
    sql = `INSERT INTO audit_events (${INSERT_COLUMNS.join(', ')}) VALUES ${Array.from({ length: rows }, () => ROW_PLACEHOLDERS).join(', ')} ON CONFLICT (event_id) DO NOTHING`;
    insertStatements.set(rows, sql);
  }
  return sql;
}

/** What the audit trail reads and writes its rows through (`AuditStore`, or a test's stand-in). */
export interface AuditTrailStore {
  append(rows: AuditRow[]): Promise<void>;
  lookup(q: AuditQuery): Promise<AuditRow[]>;
  /** Deletes rows older than `before` (epoch ms); returns how many. */
  prune(before: number): Promise<number>;
}

/** The audit trail's rows. */
export class AuditStore implements AuditTrailStore {
  constructor(private readonly db: SqlDb) {}

  /**
   * Inserts the rows, up to AUDIT_ROWS_PER_INSERT per statement, each statement atomic; a row whose
   * event id is already stored is skipped, so a retry after a failure part-way writes each row once.
   * Commits are not flushed to disk one by one (a power failure may lose the last ones, a crash
   * of the process does not): the trail is written often, and must not stall requests on fsync.
   */
  async append(rows: AuditRow[]): Promise<void> {
    for (let i = 0; i < rows.length; ) {
      const chunk = rows.slice(i, i + chunkSize(rows.length - i));
      i += chunk.length;
      const params: SqlValue[] = [];
      for (const r of chunk) {
        const c = r.call;
        params.push(r.eventId, r.eventTime, r.eventName, r.eventSource, r.username, r.accessKeyId, r.readOnly ? 1 : 0, r.resourceType, r.resourceName, c ? '' : r.record);
        if (c) params.push(c.requestId, c.principalArn, c.principalAccount, c.principalId, c.sourceIp, c.userAgent, c.requestParameters, c.responseElements, c.errorCode, c.errorMessage, c.recipientAccountId, c.region);
        else params.push(null, null, null, null, null, null, null, null, null, null, null, null);
      }
      await this.db.runUnsynced(insertStatement(chunk.length), params);
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

  /**
   * SQLite only: moves the rows of another database's `audit_events` (the metadata database, where
   * the trail was kept before it had a file of its own) into this one. Copy, then delete: a crash in
   * between copies them again at the next start, and rows already here are skipped.
   */
  async adoptRowsOf(file: string): Promise<number> {
    await this.db.run('ATTACH DATABASE ? AS earlier', [file]);
    try {
      const found = await this.db.get<{ present: number }>("SELECT COUNT(*) AS present FROM earlier.sqlite_master WHERE type = 'table' AND name = 'audit_events'");
      if (!found?.present) return 0;
      const columns = INSERT_COLUMNS.join(', ');
      const { changes } = await this.db.run(`INSERT INTO main.audit_events (${columns}) SELECT ${columns} FROM earlier.audit_events WHERE true ON CONFLICT (event_id) DO NOTHING`);
      await this.db.run('DELETE FROM earlier.audit_events');
      return changes;
    } finally {
      await this.db.run('DETACH DATABASE earlier');
    }
  }
}
