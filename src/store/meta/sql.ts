/** The one query layer both metadata databases implement: `?` placeholders, plain rows back. */
export type SqlValue = string | number | bigint | Buffer | null;

export interface SqlDb {
  readonly dialect: 'sqlite' | 'postgres';
  all<T>(sql: string, params?: SqlValue[]): Promise<T[]>;
  get<T>(sql: string, params?: SqlValue[]): Promise<T | undefined>;
  run(sql: string, params?: SqlValue[]): Promise<{ changes: number }>;
  /** A write that a power failure may lose (a process crash never does): no flush at commit. */
  runUnsynced(sql: string, params?: SqlValue[]): Promise<{ changes: number }>;
  /**
   * Runs `fn` in one transaction that takes the write lock up front; commits when it resolves.
   * Without `scope` it excludes every other transaction. With one (e.g. a repository id) it excludes
   * only unscoped transactions and those of the same scope, so on a database that can run
   * transactions side by side (PostgreSQL) pushes to different repositories do; SQLite runs one at
   * a time anyway. A scoped transaction must only change rows of its scope, rows that inserts with
   * ON CONFLICT keep consistent (blobs), or rows it takes a `lock` for.
   */
  transaction<T>(fn: (tx: SqlDb) => Promise<T>, scope?: string): Promise<T>;
  /** Inside a transaction: holds `key` until the transaction ends, waiting while another holds it. */
  lock(key: string): Promise<void>;
  close(): Promise<void>;
}

/** The metadata database could not write: its disk is full. */
export class MetadataFullError extends Error {
  constructor(cause?: unknown) {
    super('no space left for the metadata database', { cause });
  }
}
