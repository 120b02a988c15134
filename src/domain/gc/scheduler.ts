import type { Logger } from 'pino';
import { scheduleJob, type PeriodicTask } from '../jobs/periodic.js';
import type { JobQueue } from '../jobs/queue.js';
import type { JobHandler } from '../jobs/worker.js';
import type { BlobStore } from '../../store/blob/blob-store.js';
import type { MetadataStore } from '../../store/meta/metadata-store.js';
import { collectGarbage } from './collect.js';

export const GC_JOB = 'gc.run';

/** Enqueues a garbage collection every `intervalSeconds` (0: never). */
export function startGcScheduler(queue: JobQueue, intervalSeconds: number, log: Logger): PeriodicTask {
  return scheduleJob(queue, GC_JOB, intervalSeconds, log);
}

/** Runs the job: mark-and-sweep removes only what is unreferenced now, so reruns are safe. */
export function gcJobHandler(meta: MetadataStore, blobs: BlobStore, graceSeconds: number, log: Logger): JobHandler {
  return async () => {
    await collectGarbage(meta, blobs, { graceMs: graceSeconds * 1000, log });
  };
}
