import type { Logger } from 'pino';
import { startPeriodic, type PeriodicTask } from '../lifecycle/scheduler.js';
import type { BlobStore } from '../store/blob/blob-store.js';
import type { MetadataStore } from '../store/meta/metadata-store.js';
import { collectGarbage } from './collect.js';

export function startGcScheduler(meta: MetadataStore, blobs: BlobStore, intervalSeconds: number, graceSeconds: number, log: Logger): PeriodicTask {
  return startPeriodic('gc', intervalSeconds, async () => {
    await collectGarbage(meta, blobs, { graceMs: graceSeconds * 1000, log });
  }, log, meta);
}
