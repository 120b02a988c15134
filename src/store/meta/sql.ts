/** The one query layer both metadata databases implement: `?` placeholders, plain rows back. */
export type SqlValue = string | number | bigint | Buffer | null;

export interface SqlDb {
  readonly dialect: 'sqlite' | 'postgres';
  all<T>(sql: string, params?: SqlValue[]): Promise<T[]>;
  get<T>(sql: string, params?: SqlValue[]): Promise<T | undefined>;
  run(sql: string, params?: SqlValue[]): Promise<{ changes: number }>;
  /** A write that a power failure may lose (a process crash never does): no flush at commit. */
  runUnsynced(sql: string, params?: SqlValue[]): Promise<{ changes: number }>;
  /** Runs `fn` in one transaction that takes the write lock up front; commits when it resolves. */
  transaction<T>(fn: (tx: SqlDb) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The metadata database could not write: its disk is full. */
export class MetadataFullError extends Error {
  constructor(cause?: unknown) {
    super('no space left for the metadata database', { cause });
  }
}
