import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Job, JobStore } from '../../store/meta/job-store.js';
import type { JobQueue } from './queue.js';

/**
 * Does the work of one job kind; a throw fails the attempt (retried with backoff, up to the job's
 * maxAttempts). Must be idempotent: a job may run again after it did its work, when its worker
 * died before recording that, or lost its lease while running, and another worker took it over.
 */
export type JobHandler = (job: Job) => Promise<void>;

/** Thrown by a handler for a failure that retrying cannot fix: the job is dead at once. */
export class PermanentJobFailure extends Error {}

export interface JobWorkerOptions {
  log: Logger;
  /** Default: host, pid and a random suffix. */
  workerId?: string;
  /** Jobs run at once by this worker; default 1. */
  concurrency?: number;
  /** How often an idle worker looks for due jobs; default 1 s (at once when poked). */
  pollMs?: number;
  /** How long a claim lasts without renewal; renewed every third of it while the job runs. Default 30 s. */
  leaseMs?: number;
  /** Succeeded and dead jobs are deleted this long after they finished; default 7 days. */
  retentionMs?: number;
}

const PRUNE_EVERY_MS = 60 * 60_000;

/** Claims due jobs of the kinds it has handlers for and runs them, `concurrency` at a time. */
export class JobWorker {
  readonly id: string;
  private readonly handlers = new Map<string, JobHandler>();
  private readonly log: Logger;
  private readonly concurrency: number;
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private readonly retentionMs: number;
  private readonly sleepers = new Set<() => void>();
  private loops: Promise<void>[] = [];
  private stopping = false;
  private pokes = 0;
  private nextPruneAt = 0;
  private unsubscribe?: () => void;

  constructor(
    private readonly store: JobStore,
    opts: JobWorkerOptions,
  ) {
    this.log = opts.log;
    this.id = opts.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.concurrency = opts.concurrency ?? 1;
    this.pollMs = opts.pollMs ?? 1000;
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.retentionMs = opts.retentionMs ?? 7 * 24 * 60 * 60_000;
  }

  /** Registers the handler for `kind`; call before start(). */
  register(kind: string, handler: JobHandler): this {
    if (this.loops.length > 0) throw new Error('register handlers before starting the worker');
    this.handlers.set(kind, handler);
    return this;
  }

  /** Starts polling; with `queue`, also wakes up at once whenever this process enqueues a job. */
  start(queue?: JobQueue): void {
    if (this.loops.length > 0) return;
    this.unsubscribe = queue?.onEnqueued(() => this.poke());
    for (let slot = 0; slot < this.concurrency; slot++) this.loops.push(this.loop(`${this.id}/${slot}`));
  }

  /** Looks for due jobs now instead of at the next poll. */
  poke(): void {
    this.pokes++;
    for (const wake of [...this.sleepers]) wake();
  }

  /**
   * Stops claiming and waits for the jobs running now to finish. A job claimed by a process that
   * never gets here (kill -9) stays claimed until its lease expires; then any worker retries it.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.unsubscribe?.();
    this.poke();
    await Promise.all(this.loops);
  }

  private async loop(workerId: string): Promise<void> {
    while (!this.stopping) {
      const pokesBefore = this.pokes;
      let job: Job | undefined;
      try {
        await this.pruneNowAndThen();
        job = await this.store.claim(workerId, [...this.handlers.keys()], this.leaseMs);
        if (job) await this.run(job, workerId);
      } catch (err) {
        // The database is unreachable, say: a claimed job's lease runs out and it is retried.
        this.log.error({ err, job: job?.id }, 'job worker: database error');
      }
      if (!job && this.pokes === pokesBefore) await this.sleep();
    }
  }

  private async run(job: Job, workerId: string): Promise<void> {
    const log = this.log.child({ job: job.id, kind: job.kind, attempt: job.attempts });
    const heartbeat = setInterval(() => {
      this.store.extend(job.id, workerId, this.leaseMs).then(
        (held) => held || log.warn('job lease lost while running: another worker may run it too'),
        (err: unknown) => log.warn({ err }, 'job lease renewal failed'),
      );
    }, this.leaseMs / 3);
    let error: unknown;
    let failed = false;
    try {
      await this.handlers.get(job.kind)!(job);
    } catch (err) {
      failed = true;
      error = err;
    } finally {
      clearInterval(heartbeat);
    }
    if (!failed) {
      if (!(await this.store.complete(job.id, workerId))) log.warn('job finished after its lease was taken over');
      else log.debug('job succeeded');
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    const after = await this.store.fail(job.id, workerId, message, Date.now(), { permanent: error instanceof PermanentJobFailure });
    log.warn({ err: error, status: after?.status, runAfter: after?.runAfter }, after?.status === 'dead' ? 'job failed for the last time' : 'job failed');
  }

  private async pruneNowAndThen(): Promise<void> {
    const now = Date.now();
    if (now < this.nextPruneAt) return;
    this.nextPruneAt = now + PRUNE_EVERY_MS;
    await this.store.prune(now - this.retentionMs);
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, this.pollMs);
      this.sleepers.add(wake);
    });
  }
}
