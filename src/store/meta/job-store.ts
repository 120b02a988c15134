import type { SqlDb, SqlValue } from './sql.js';

/**
 * queued: waiting for `runAfter` (a failed attempt waiting to be retried is queued again, with
 * `lastError` set); running: claimed by a worker until `leaseUntil`; succeeded; dead: failed
 * `maxAttempts` times, never retried.
 */
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'dead';

export interface Job {
  id: number;
  kind: string;
  dedupeKey: string | null;
  payload: Record<string, unknown>;
  status: JobStatus;
  /** Claims so far, including the one running now. */
  attempts: number;
  maxAttempts: number;
  runAfter: number;
  claimedBy: string | null;
  leaseUntil: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface NewJob {
  kind: string;
  payload?: Record<string, unknown>;
  /**
   * Unique across all jobs the store keeps (finished ones too, until pruned): enqueueing a key
   * again returns the job that has it. Put what makes the work distinct in it (a time slot, a
   * digest), e.g. `gc:<slot>`.
   */
  dedupeKey?: string;
  /** Epoch ms; default now. */
  runAfter?: number;
  /** Default 5. */
  maxAttempts?: number;
  /** Enqueue nothing while a job of this kind is queued or running: returns that job instead. */
  exclusive?: boolean;
}

export interface RetryBackoff {
  /** The wait after the first failed attempt; it doubles with every further one… */
  baseMs: number;
  /** …up to this. */
  capMs: number;
}

const DEFAULT_BACKOFF: RetryBackoff = { baseMs: 5_000, capMs: 10 * 60_000 };
const DEFAULT_MAX_ATTEMPTS = 5;
const MAX_ERROR_LENGTH = 2000;

interface RawJob {
  id: number | string;
  kind: string;
  dedupe_key: string | null;
  payload: string;
  status: JobStatus;
  attempts: number | string;
  max_attempts: number | string;
  run_after: number | string;
  claimed_by: string | null;
  lease_until: number | string | null;
  last_error: string | null;
  created_at: number | string;
  updated_at: number | string;
}

function toJob(r: RawJob): Job {
  return {
    id: Number(r.id),
    kind: r.kind,
    dedupeKey: r.dedupe_key,
    payload: JSON.parse(r.payload) as Record<string, unknown>,
    status: r.status,
    attempts: Number(r.attempts),
    maxAttempts: Number(r.max_attempts),
    runAfter: Number(r.run_after),
    claimedBy: r.claimed_by,
    leaseUntil: r.lease_until === null ? null : Number(r.lease_until),
    lastError: r.last_error,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function placeholders(n: number): string {
  return new Array(n).fill('?').join(', ');
}

/**
 * The job queue's table. A worker claims a job for a lease and completes or fails it before the
 * lease runs out (extending it while it works); a job whose worker died is claimable again once
 * its lease has expired, so work is retried, never lost. Handlers must therefore be idempotent.
 */
export class JobStore {
  private readonly backoff: RetryBackoff;

  constructor(
    private readonly db: SqlDb,
    opts: { backoff?: RetryBackoff } = {},
  ) {
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
  }

  async enqueue(job: NewJob, now = Date.now()): Promise<Job> {
    // One transaction, so the `exclusive` check and the insert cannot interleave with another's.
    const lock = `jobs:${job.kind}`;
    return this.db.transaction(async (tx) => {
      await tx.lock(lock);
      if (job.exclusive) {
        const pending = await tx.get<RawJob>("SELECT * FROM jobs WHERE kind = ? AND status IN ('queued', 'running') ORDER BY id LIMIT 1", [job.kind]);
        if (pending) return toJob(pending);
      }
      const inserted = await tx.get<RawJob>(
        `INSERT INTO jobs (kind, dedupe_key, payload, status, attempts, max_attempts, run_after, created_at, updated_at)
         VALUES (?, ?, ?, 'queued', 0, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING RETURNING *`,
        [job.kind, job.dedupeKey ?? null, JSON.stringify(job.payload ?? {}), job.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, job.runAfter ?? now, now, now],
      );
      if (inserted) return toJob(inserted);
      return toJob((await tx.get<RawJob>('SELECT * FROM jobs WHERE dedupe_key = ?', [job.dedupeKey!]))!);
    }, lock);
  }

  async get(id: number): Promise<Job | undefined> {
    const row = await this.db.get<RawJob>('SELECT * FROM jobs WHERE id = ?', [id]);
    return row && toJob(row);
  }

  /**
   * Takes the next due job of one of `kinds` for `workerId` until `now + leaseMs`, counting an
   * attempt: a queued job whose `runAfter` has come, or a running one whose lease expired (its
   * worker died). One statement, so two workers never get the same job; on PostgreSQL, SKIP
   * LOCKED lets concurrent claims pass each other instead of queueing on one row.
   */
  async claim(workerId: string, kinds: string[], leaseMs: number, now = Date.now()): Promise<Job | undefined> {
    if (kinds.length === 0) return undefined;
    // A job that keeps killing its worker must stop being retried too.
    await this.db.run(
      `UPDATE jobs SET status = 'dead', claimed_by = NULL, lease_until = NULL, updated_at = ?,
         last_error = COALESCE(last_error, 'lease expired: the worker stopped while running it')
       WHERE status = 'running' AND lease_until < ? AND attempts >= max_attempts`,
      [now, now],
    );
    const lock = this.db.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
    const row = await this.db.get<RawJob>(
      `UPDATE jobs SET status = 'running', attempts = attempts + 1, claimed_by = ?, lease_until = ?, updated_at = ?
       WHERE id = (
         SELECT id FROM jobs
         WHERE kind IN (${placeholders(kinds.length)})
           AND ((status = 'queued' AND run_after <= ?) OR (status = 'running' AND lease_until < ?))
         ORDER BY run_after, id LIMIT 1${lock}
       )
       RETURNING *`,
      [workerId, now + leaseMs, now, ...kinds, now, now],
    );
    return row && toJob(row);
  }

  /** Extends `workerId`'s lease on a running job; false when it no longer holds it. */
  async extend(id: number, workerId: string, leaseMs: number, now = Date.now()): Promise<boolean> {
    const { changes } = await this.db.run(
      "UPDATE jobs SET lease_until = ?, updated_at = ? WHERE id = ? AND claimed_by = ? AND status = 'running'",
      [now + leaseMs, now, id, workerId],
    );
    return changes === 1;
  }

  /** Marks the job succeeded; false when `workerId` no longer holds it (its lease was taken over). */
  async complete(id: number, workerId: string, now = Date.now()): Promise<boolean> {
    const { changes } = await this.db.run(
      "UPDATE jobs SET status = 'succeeded', claimed_by = NULL, lease_until = NULL, updated_at = ? WHERE id = ? AND claimed_by = ? AND status = 'running'",
      [now, id, workerId],
    );
    return changes === 1;
  }

  /**
   * Records a failed attempt: queued again after a backoff that doubles with every attempt
   * (base, 2×base, 4×base… up to the cap), or dead once it has had `maxAttempts`.
   * Returns the job as it is now, or undefined when `workerId` no longer holds it.
   */
  async fail(id: number, workerId: string, error: string, now = Date.now()): Promise<Job | undefined> {
    const job = await this.get(id);
    if (!job || job.status !== 'running' || job.claimedBy !== workerId) return undefined;
    const dead = job.attempts >= job.maxAttempts;
    const delay = Math.min(this.backoff.baseMs * 2 ** Math.max(job.attempts - 1, 0), this.backoff.capMs);
    const { changes } = await this.db.run(
      `UPDATE jobs SET status = ?, run_after = ?, last_error = ?, claimed_by = NULL, lease_until = NULL, updated_at = ?
       WHERE id = ? AND claimed_by = ? AND status = 'running' AND attempts = ?`,
      [dead ? 'dead' : 'queued', dead ? job.runAfter : now + delay, error.slice(0, MAX_ERROR_LENGTH), now, id, workerId, job.attempts],
    );
    return changes === 1 ? this.get(id) : undefined;
  }

  /** Newest first, for the admin view. */
  async list(opts: { status?: JobStatus; kind?: string; limit?: number } = {}): Promise<Job[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (opts.status !== undefined) {
      where.push('status = ?');
      params.push(opts.status);
    }
    if (opts.kind !== undefined) {
      where.push('kind = ?');
      params.push(opts.kind);
    }
    const filter = where.length ? ` WHERE ${where.join(' AND ')}` : '';
    const rows = await this.db.all<RawJob>(`SELECT * FROM jobs${filter} ORDER BY id DESC LIMIT ?`, [...params, opts.limit ?? 100]);
    return rows.map(toJob);
  }

  /** Deletes succeeded and dead jobs last updated before `finishedBefore`; returns how many. */
  async prune(finishedBefore: number): Promise<number> {
    const { changes } = await this.db.run("DELETE FROM jobs WHERE status IN ('succeeded', 'dead') AND updated_at < ?", [finishedBefore]);
    return changes;
  }
}
