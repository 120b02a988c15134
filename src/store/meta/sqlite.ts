import Database from 'better-sqlite3';
import type { SpaceReserve } from '../space-reserve.js';
import { MetadataFullError, type SqlDb, type SqlValue } from './sql.js';

type Statement = Database.Statement<unknown[], unknown>;
type Row = Record<string, unknown>;

/**
 * A prepared statement and, for one that returns rows, how to read them: as arrays (raw), made into
 * objects here. better-sqlite3 makes each row's keys from the column names anew, which measured
 * about 3 µs a row on a manifest's 20 columns, a fifth of a manifest lookup.
 */
class Prepared {
  private readonly names?: string[];

  constructor(readonly statement: Statement) {
    if (!statement.reader) return;
    statement.raw(true);
    this.names = statement.columns().map((c) => c.name);
  }

  get(params: unknown[]): Row | undefined {
    const values = this.statement.get(...params) as unknown[] | undefined;
    return values && this.row(values);
  }

  all(params: unknown[]): Row[] {
    return (this.statement.all(...params) as unknown[][]).map((values) => this.row(values));
  }

  run(params: unknown[]): Database.RunResult {
    return this.statement.run(...params);
  }

  private row(values: unknown[]): Row {
    const names = this.names!;
    const row: Row = {};
    for (let i = 0; i < names.length; i++) row[names[i]!] = values[i];
    return row;
  }
}

/**
 * SQLite through better-sqlite3. Calls are synchronous underneath; a transaction holds the one
 * connection, so other callers wait for it to finish instead of running inside it.
 */
export class SqliteDb implements SqlDb {
  readonly dialect = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Prepared>();
  private txTail: Promise<void> = Promise.resolve();
  private txActive = false;

  /** `reserve`: space this database may take when its disk is full (see SpaceReserve). */
  constructor(
    file: string,
    private readonly reserve?: SpaceReserve,
  ) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 10000');
    this.db.pragma('foreign_keys = ON');
  }

  private prepare(sql: string): Prepared {
    let st = this.statements.get(sql);
    if (!st) {
      st = new Prepared(this.db.prepare(sql));
      this.statements.set(sql, st);
    }
    return st;
  }

  private async idle(): Promise<void> {
    while (this.txActive) await this.txTail;
  }

  async all<T>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    if (this.txActive) await this.idle();
    return this.prepare(sql).all(params) as T[];
  }

  async get<T>(sql: string, params: SqlValue[] = []): Promise<T | undefined> {
    if (this.txActive) await this.idle();
    return this.prepare(sql).get(params) as T | undefined;
  }

  async run(sql: string, params: SqlValue[] = []): Promise<{ changes: number }> {
    return this.write(async () => {
      if (this.txActive) await this.idle();
      return { changes: this.prepare(sql).run(params).changes };
    });
  }

  runUnsynced(sql: string, params: SqlValue[] = []): Promise<{ changes: number }> {
    return this.write(() => this.runUnsyncedOnce(sql, params));
  }

  private async runUnsyncedOnce(sql: string, params: SqlValue[]): Promise<{ changes: number }> {
    if (this.txActive) await this.idle();
    // In WAL mode NORMAL skips the fsync of this commit only; the next FULL commit flushes it too.
    this.db.pragma('synchronous = NORMAL');
    try {
      return { changes: this.prepare(sql).run(params).changes };
    } finally {
      this.db.pragma('synchronous = FULL');
    }
  }

  /** One connection, one transaction at a time: every scope is the whole database. */
  transaction<T>(fn: (tx: SqlDb) => Promise<T>, _scope?: string): Promise<T> {
    return this.write(() => this.transactionOnce(fn));
  }

  async lock(_key: string): Promise<void> {}

  /** A write that finds the disk full takes the reserved space, if any is left, and runs once more. */
  private async write<T>(attempt: () => Promise<T>): Promise<T> {
    try {
      const result = await attempt();
      this.reserve?.restoreSoon();
      return result;
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      if (!(await this.reserve?.release())) throw new MetadataFullError(err);
    }
    try {
      return await attempt();
    } catch (err) {
      throw isDiskFull(err) ? new MetadataFullError(err) : err;
    }
  }

  private async transactionOnce<T>(fn: (tx: SqlDb) => Promise<T>): Promise<T> {
    // No await between the check and taking the flag, or two callers could both begin.
    while (this.txActive) await this.txTail;
    this.txActive = true;
    let release!: () => void;
    this.txTail = new Promise((r) => (release = r));
    const tx = new SqliteTx(this);
    try {
      this.db.prepare('BEGIN IMMEDIATE').run();
      try {
        const result = await fn(tx);
        this.db.prepare('COMMIT').run();
        return result;
      } catch (e) {
        if (this.db.inTransaction) this.db.prepare('ROLLBACK').run();
        throw e;
      }
    } finally {
      this.txActive = false;
      release();
    }
  }

  /** Statement access for the transaction handle, which must not wait on itself. */
  direct(): { prepare(sql: string): Prepared } {
    return { prepare: (sql) => this.prepare(sql) };
  }

  exec(sql: string): void {
    this.db.exec(sql);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

function isDiskFull(err: unknown): boolean {
  return (err as { code?: string } | undefined)?.code === 'SQLITE_FULL';
}

class SqliteTx implements SqlDb {
  readonly dialect = 'sqlite' as const;
  constructor(private readonly owner: SqliteDb) {}
  async all<T>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    return this.owner.direct().prepare(sql).all(params) as T[];
  }
  async get<T>(sql: string, params: SqlValue[] = []): Promise<T | undefined> {
    return this.owner.direct().prepare(sql).get(params) as T | undefined;
  }
  async run(sql: string, params: SqlValue[] = []): Promise<{ changes: number }> {
    return { changes: this.owner.direct().prepare(sql).run(params).changes };
  }
  runUnsynced(sql: string, params: SqlValue[] = []): Promise<{ changes: number }> {
    return this.run(sql, params);
  }
  async transaction<T>(fn: (tx: SqlDb) => Promise<T>, _scope?: string): Promise<T> {
    return fn(this);
  }
  async lock(_key: string): Promise<void> {}
  async close(): Promise<void> {}
}
