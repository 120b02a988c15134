import type { Logger } from 'pino';
import { scheduleJob, type PeriodicTask } from '../jobs/periodic.js';
import type { JobQueue } from '../jobs/queue.js';
import type { JobHandler } from '../jobs/worker.js';
import type { AuditTrail } from './audit-trail.js';

export const AUDIT_PRUNE_JOB = 'audit.prune';
/** How often the trail is pruned; retention is counted in days, so hourly is plenty. */
export const AUDIT_PRUNE_INTERVAL_SECONDS = 3600;

/** Enqueues a prune of the audit trail every `intervalSeconds`. */
export function startAuditPruneScheduler(queue: JobQueue, log: Logger, intervalSeconds = AUDIT_PRUNE_INTERVAL_SECONDS): PeriodicTask {
  return scheduleJob(queue, AUDIT_PRUNE_JOB, intervalSeconds, log);
}

/** Runs the job: deletes records older than the retention; deleting again deletes nothing more. */
export function auditPruneJobHandler(trail: AuditTrail, retentionDays: number, log: Logger): JobHandler {
  return async () => {
    const deleted = await trail.prune(retentionDays);
    if (deleted > 0) log.info({ deleted, retentionDays }, 'audit trail pruned');
  };
}
