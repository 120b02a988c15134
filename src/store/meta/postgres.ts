import pg from 'pg';
import { MetadataFullError, type SqlDb, type SqlValue } from './sql.js';

/**
 * Every unscoped transaction takes this transaction-scoped advisory lock first, exclusively, so it
 * runs alone across all berth processes sharing the database: what BEGIN IMMEDIATE gives SQLite.
 * A scoped transaction takes it shared, then its scope's lock: scoped transactions of different
 * scopes run side by side, and none runs beside an unscoped one.
 */
const TX_LOCK_KEY = 0x62657274; // "bert"
/** The class (first key) of scope and `lock` advisory locks; the second key is the name's hash. */
const NAMED_LOCK_CLASS = 0x62657275;
const TAKE_NAMED_LOCK = 'SELECT pg_advisory_xact_lock(?::int4, hashtext(?))';

const INT8_OID = 20;

/** BIGINT columns (epoch ms, sizes, COUNT(*)) as numbers, like SQLite returns them. */
function parseInt8(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** Rewrites `?` placeholders to `$1…$n`, leaving quoted strings and identifiers alone. */
export function toPositional(sql: string): string {
  let out = '';
  let n = 0;
  let quote: string | undefined;
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = undefined;
      out += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      out += ch;
    } else if (ch === '?') {
      out += `$${++n}`;
    } else {
      out += ch;
    }
  }
  return out;
}

type Queryable = pg.Pool | pg.PoolClient;

async function query<T>(on: Queryable, sql: string, params: SqlValue[]): Promise<pg.QueryResult<T & pg.QueryResultRow>> {
  try {
    return await on.query<T & pg.QueryResultRow>(toPositional(sql), params);
  } catch (err) {
    // 53100 disk_full: the server has no space left to write.
    throw (err as { code?: string }).code === '53100' ? new MetadataFullError(err) : err;
  }
}

const ignore = (): void => undefined;

/**
 * Takes a client from the pool for a transaction. A client whose connection dies while it is out of
 * the pool emits 'error', which would end the process unheard; the failure reaches the caller
 * through its next query instead.
 */
async function checkout(pool: pg.Pool): Promise<pg.PoolClient> {
  const client = await pool.connect();
  client.on('error', ignore);
  return client;
}

/** Returns a client; a broken one (its connection gone) is closed instead of reused. */
function checkin(client: pg.PoolClient, broken: boolean): void {
  client.off('error', ignore);
  client.release(broken);
}

/**
 * PostgreSQL through a node-postgres pool. Within this process it keeps SqliteDb's semantics: one
 * transaction at a time, and queries issued while one runs wait for it (so they see its result).
 */
export class PostgresDb implements SqlDb {
  readonly dialect = 'postgres' as const;
  private readonly pool: pg.Pool;
  private txTail: Promise<void> = Promise.resolve();
  private txActive = false;

  /** `schema`: the PostgreSQL schema every statement works in (created on first use); else the default. */
  constructor(connectionString: string, options: { max?: number; schema?: string } = {}) {
    const searchPath = options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` };
    this.pool = new pg.Pool({ connectionString, max: options.max ?? 10, types, ...searchPath });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    this.pool.on('error', () => undefined);
  }

  private async idle(): Promise<void> {
    while (this.txActive) await this.txTail;
  }

  async all<T>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    if (this.txActive) await this.idle();
    return (await query<T>(this.pool, sql, params)).rows;
  }

  async get<T>(sql: string, params: SqlValue[] = []): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  async run(sql: string, params: SqlValue[] = []): Promise<{ changes: number }> {
    if (this.txActive) await this.idle();
    return { changes: (await query(this.pool, sql, params)).rowCount ?? 0 };
  }

  async runUnsynced(sql: string, params: SqlValue[] = []): Promise<{ changes: number }> {
    if (this.txActive) await this.idle();
    const client = await checkout(this.pool);
    let broken = false;
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL synchronous_commit = off');
      const { rowCount } = await query(client, sql, params);
      await client.query('COMMIT');
      return { changes: rowCount ?? 0 };
    } catch (e) {
      broken = await client.query('ROLLBACK').then(
        () => false,
        () => true,
      );
      throw e;
    } finally {
      checkin(client, broken);
    }
  }

  transaction<T>(fn: (tx: SqlDb) => Promise<T>, scope?: string): Promise<T> {
    return scope === undefined ? this.exclusiveTransaction(fn) : this.scopedTransaction(fn, scope);
  }

  async lock(): Promise<void> {
    throw new Error('lock() is for transactions');
  }

  /** Beside other scopes' transactions, in this process and in others; after any unscoped one here. */
  private async scopedTransaction<T>(fn: (tx: SqlDb) => Promise<T>, scope: string): Promise<T> {
    if (this.txActive) await this.idle();
    const client = await checkout(this.pool);
    let broken = false;
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock_shared($1)', [TX_LOCK_KEY]);
      await query(client, TAKE_NAMED_LOCK, [NAMED_LOCK_CLASS, scope]);
      try {
        const result = await fn(new PostgresTx(client));
        await client.query('COMMIT');
        return result;
      } catch (e) {
        broken = await client.query('ROLLBACK').then(
          () => false,
          () => true,
        );
        throw e;
      }
    } finally {
      checkin(client, broken);
    }
  }

  private async exclusiveTransaction<T>(fn: (tx: SqlDb) => Promise<T>): Promise<T> {
    // No await between the check and taking the flag, or two callers could both begin.
    while (this.txActive) await this.txTail;
    this.txActive = true;
    let release!: () => void;
    this.txTail = new Promise((r) => (release = r));
    let client: pg.PoolClient | undefined;
    let broken = false;
    try {
      client = await checkout(this.pool);
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [TX_LOCK_KEY]);
      try {
        const result = await fn(new PostgresTx(client));
        await client.query('COMMIT');
        return result;
      } catch (e) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        throw e;
      }
    } finally {
      if (client) checkin(client, broken);
      this.txActive = false;
      release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** The handle a transaction's callback gets: everything on the transaction's own client. */
class PostgresTx implements SqlDb {
  readonly dialect = 'postgres' as const;
  constructor(private readonly client: pg.PoolClient) {}
  async all<T>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    return (await query<T>(this.client, sql, params)).rows;
  }
  async get<T>(sql: string, params: SqlValue[] = []): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }
  async run(sql: string, params: SqlValue[] = []): Promise<{ changes: number }> {
    return { changes: (await query(this.client, sql, params)).rowCount ?? 0 };
  }
  runUnsynced(sql: string, params: SqlValue[] = []): Promise<{ changes: number }> {
    return this.run(sql, params);
  }
  async transaction<T>(fn: (tx: SqlDb) => Promise<T>, _scope?: string): Promise<T> {
    return fn(this);
  }
  async lock(key: string): Promise<void> {
    await query(this.client, TAKE_NAMED_LOCK, [NAMED_LOCK_CLASS, key]);
  }
  async close(): Promise<void> {}
}
