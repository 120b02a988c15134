import type { Logger } from 'pino';
import type { MetadataStore } from '../../store/meta/metadata-store.js';
import type { StorageHour, StorageMark, UsageKey } from '../../store/meta/usage-store.js';
import { scheduleJob, type PeriodicTask } from '../jobs/periodic.js';
import type { JobQueue } from '../jobs/queue.js';
import type { JobHandler } from '../jobs/worker.js';
import { MS_PER_HOUR } from './pricing.js';
import { USAGE_SCOPE } from './usage-meter.js';

export const USAGE_SAMPLE_JOB = 'usage.sample-storage';

/**
 * The storage a repository held from its last sample (`mark`) until `now`, cut at hour
 * boundaries: the bytes of that sample in each storage class, held for each piece of time.
 * Storage is sampled, so a change (a push, an archive, a restore) counts from the sample after it.
 */
export function storageHours(mark: StorageMark, now: number): StorageHour[] {
  const hours: StorageHour[] = [];
  for (let from = mark.sampledAt; from < now; ) {
    const hour = Math.floor(from / MS_PER_HOUR) * MS_PER_HOUR;
    const to = Math.min(hour + MS_PER_HOUR, now);
    const held = (to - from) / MS_PER_HOUR;
    hours.push({ ...keyOf(mark), hour, byteHours: mark.bytes * held, archiveByteHours: mark.archiveBytes * held, bytes: mark.bytes, archiveBytes: mark.archiveBytes, sampledAt: to });
    from = to;
  }
  return hours;
}

function keyOf(k: UsageKey): UsageKey {
  return { registryId: k.registryId, region: k.region, repositoryName: k.repositoryName };
}

function hourOf(at: number): number {
  return Math.floor(at / MS_PER_HOUR) * MS_PER_HOUR;
}

/**
 * Samples every repository's stored bytes at `now` and integrates each repository's storage since
 * its previous sample into hourly byte-hours. A repository sampled for the first time starts its
 * clock at `now`; one that is gone is charged until `now` (its deletion is noticed at the next
 * sample) and then holds 0 bytes. One transaction, scoped so that pushes go on beside it and two
 * samplers (nodes, or `berth admin usage`) take turns: each interval is integrated once.
 */
export async function sampleStorage(meta: MetadataStore, region: string, now: number): Promise<void> {
  await meta.transaction(async (tx) => {
    const usage = tx.usage;
    const marks = new Map((await usage.storageMarks(region)).map((m) => [`${m.registryId}\n${m.repositoryName}`, m]));
    for (const held of await usage.storedBytes()) {
      const key: UsageKey = { registryId: held.registryId, region, repositoryName: held.repositoryName };
      const mark = marks.get(`${held.registryId}\n${held.repositoryName}`);
      marks.delete(`${held.registryId}\n${held.repositoryName}`);
      if (mark && mark.sampledAt >= now) continue;
      const hours = mark ? storageHours(mark, now) : [];
      hours.push({ ...key, hour: hourOf(now), byteHours: 0, archiveByteHours: 0, bytes: held.bytes, archiveBytes: held.archiveBytes, sampledAt: now });
      await usage.addStorage(hours);
      await usage.setStorageMark({ ...key, sampledAt: now, bytes: held.bytes, archiveBytes: held.archiveBytes });
    }
    for (const gone of marks.values()) {
      if (gone.sampledAt >= now) continue;
      await usage.addStorage([...storageHours(gone, now), { ...keyOf(gone), hour: hourOf(now), byteHours: 0, archiveByteHours: 0, bytes: 0, archiveBytes: 0, sampledAt: now }]);
      await usage.deleteStorageMark(gone);
    }
  }, USAGE_SCOPE);
}

/** Enqueues a storage sample every `intervalSeconds` (0: never), one per interval across all nodes. */
export function startUsageSampler(queue: JobQueue, intervalSeconds: number, log: Logger): PeriodicTask {
  return scheduleJob(queue, USAGE_SAMPLE_JOB, intervalSeconds, log);
}

/** Runs the job: samples storage, then deletes hourly rows older than the retention. */
export function usageSampleJobHandler(meta: MetadataStore, region: string, retentionDays: number, log?: Logger, now: () => number = Date.now): JobHandler {
  return async () => {
    const at = now();
    await sampleStorage(meta, region, at);
    const deleted = await meta.usage.prune(at - retentionDays * 86_400_000);
    if (deleted > 0) log?.info({ deleted, retentionDays }, 'old usage rows deleted');
  };
}
