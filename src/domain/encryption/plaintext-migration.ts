import type { Logger } from 'pino';
import type { MetadataStore } from '../../store/meta/metadata-store.js';
import { scheduleJob, type PeriodicTask } from '../jobs/periodic.js';
import type { JobQueue } from '../jobs/queue.js';
import type { JobHandler } from '../jobs/worker.js';
import { toRepository } from '../registry/model.js';
import type { BlobEncryption } from './blob-encryption.js';

/**
 * Blobs an earlier version stored in plaintext are encrypted in place in the background: a job
 * soon after start and then every hour, one node at a time, while they are served as they are. A
 * blob whose repository's KMS key cannot be used now is left for a later run.
 */
export const ENCRYPT_PLAINTEXT_JOB = 'blob.encrypt-plaintext';

const PAGE = 100;
const INTERVAL_SECONDS = 3600;

export interface PlaintextMigrationReport {
  encrypted: number;
  left: number;
}

export async function encryptPlaintextBlobs(meta: MetadataStore, encryption: BlobEncryption, log?: Logger): Promise<PlaintextMigrationReport> {
  const report: PlaintextMigrationReport = { encrypted: 0, left: 0 };
  // Plaintext is how blobs are meant to be stored when the object store encrypts them.
  if (encryption.storeEncrypts) return report;
  let after = '';
  for (;;) {
    const page = await meta.kms.plaintextBlobs(after, PAGE);
    if (page.length === 0) return report;
    for (const blob of page) {
      after = blob.digest;
      const rows = await Promise.all(blob.repoIds.map((id) => meta.getRepositoryById(id)));
      const repos = rows.filter((r) => r !== undefined).map(toRepository);
      try {
        if (await encryption.encryptStoredPlaintext(blob.digest, blob.size, repos)) report.encrypted++;
        else report.left++;
      } catch (err) {
        report.left++;
        log?.warn({ err, digest: blob.digest }, 'a blob stored in plaintext could not be encrypted; it is served as it is');
      }
    }
  }
}

export function encryptPlaintextJobHandler(meta: MetadataStore, encryption: BlobEncryption, log: Logger): JobHandler {
  return async () => {
    const report = await encryptPlaintextBlobs(meta, encryption, log);
    if (report.encrypted > 0 || report.left > 0) log.info(report, 'blobs stored in plaintext by an earlier version encrypted');
  };
}

/** Queues a run now when any blob is stored in plaintext, and one every hour after. */
export async function startPlaintextMigration(meta: MetadataStore, jobs: JobQueue, log: Logger): Promise<PeriodicTask> {
  if ((await meta.kms.plaintextBlobs('', 1)).length > 0) {
    const slot = Math.floor(Date.now() / (INTERVAL_SECONDS * 1000));
    await jobs.enqueue({ kind: ENCRYPT_PLAINTEXT_JOB, dedupeKey: `${ENCRYPT_PLAINTEXT_JOB}:start:${slot}`, exclusive: true });
  }
  return scheduleJob(jobs, ENCRYPT_PLAINTEXT_JOB, INTERVAL_SECONDS, log);
}
