import type { Logger } from 'pino';
import { scheduleJob, type PeriodicTask } from '../jobs/periodic.js';
import type { JobQueue } from '../jobs/queue.js';
import type { JobHandler } from '../jobs/worker.js';
import type { Registry } from '../registry/registry.js';
import { runAllLifecyclePolicies, type LifecycleRunResult } from './runner.js';

export const LIFECYCLE_JOB = 'lifecycle.run-all';

/** Enqueues a lifecycle run of every repository every `intervalSeconds` (0: never). */
export function startLifecycleScheduler(queue: JobQueue, intervalSeconds: number, log: Logger): PeriodicTask {
  return scheduleJob(queue, LIFECYCLE_JOB, intervalSeconds, log);
}

/** Runs the job: evaluating the policies again expires only what is still there, so reruns are safe. */
export function lifecycleJobHandler(registry: Registry, log: Logger, onFinished?: (results: LifecycleRunResult[]) => void): JobHandler {
  return async () => {
    const results = await runAllLifecyclePolicies(registry, log);
    onFinished?.(results);
  };
}
