import type { Logger } from 'pino';
import { scheduleJob, type PeriodicTask } from '../jobs/periodic.js';
import type { JobQueue } from '../jobs/queue.js';
import type { JobHandler } from '../jobs/worker.js';
import type { GcOptions, GcReport } from './collect.js';

export const GC_JOB = 'gc.run';

/** Enqueues a garbage collection every `intervalSeconds` (0: never). */
export function startGcScheduler(queue: JobQueue, intervalSeconds: number, log: Logger): PeriodicTask {
  return scheduleJob(queue, GC_JOB, intervalSeconds, log);
}

/** Runs the job: mark-and-sweep removes only what is unreferenced now, so reruns are safe. */
export function gcJobHandler(collect: (opts: GcOptions) => Promise<GcReport>, graceSeconds: number, log: Logger): JobHandler {
  return async () => {
    await collect({ graceMs: graceSeconds * 1000, log });
  };
}
