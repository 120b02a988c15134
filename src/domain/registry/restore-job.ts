import { PermanentJobFailure, type JobHandler } from '../jobs/worker.js';

/** Completes a restore from the archive that UpdateImageStorageClass started. */
export const RESTORE_JOB = 'image.restore';

export interface RestoreJobPayload {
  repoId: string;
  /** The image being restored… */
  digest: string;
  /** …and, for an index, the archived images it lists that are restored with it. */
  children: string[];
}

/** Runs the job; completing a restore twice changes nothing, so a job that runs again is harmless. */
export function restoreJobHandler(images: { completeRestore(restore: RestoreJobPayload): Promise<unknown> }): JobHandler {
  return async (job) => {
    await images.completeRestore(restorePayload(job.payload));
  };
}

function restorePayload(p: Record<string, unknown>): RestoreJobPayload {
  const { repoId, digest, children } = p;
  if (typeof repoId !== 'string' || typeof digest !== 'string' || !Array.isArray(children) || !children.every((c) => typeof c === 'string')) {
    throw new PermanentJobFailure(`not a restore job's payload: ${JSON.stringify(p)}`);
  }
  return { repoId, digest, children };
}
