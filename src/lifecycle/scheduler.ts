import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Registry } from '../registry/registry.js';
import type { MetadataStore } from '../store/meta/metadata-store.js';
import { runAllLifecyclePolicies } from './runner.js';

export interface PeriodicTask {
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

/** A node's id for leases: random per process. */
const NODE_ID = randomUUID();

/**
 * Runs `task` every `intervalSeconds` (never two at once); 0 disables it. When several nodes share
 * the metadata store, only the one holding the task's lease runs it; the lease lasts two intervals
 * and its holder renews it on every run, so another node takes over only if the holder stops.
 */
export function startPeriodic(name: string, intervalSeconds: number, task: () => Promise<void>, log: Logger, meta?: MetadataStore): PeriodicTask {
  if (intervalSeconds <= 0) return { stop: async () => undefined };
  let running: Promise<void> | undefined;
  const lease = `task:${name}`;
  const claimed = async () => !meta || (await meta.claimLease(lease, NODE_ID, intervalSeconds * 2000));
  const timer = setInterval(() => {
    if (running) return;
    running = claimed()
      .then((mine) => (mine ? task() : undefined))
      .catch((err: unknown) => log.error({ err, task: name }, 'background task failed'))
      .finally(() => {
        running = undefined;
      });
  }, intervalSeconds * 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await meta?.releaseLease(lease, NODE_ID).catch(() => undefined);
    },
  };
}

export function startLifecycleScheduler(registry: Registry, meta: MetadataStore, intervalSeconds: number, log: Logger): PeriodicTask {
  return startPeriodic('lifecycle', intervalSeconds, async () => {
    await runAllLifecyclePolicies(registry, log);
  }, log, meta);
}
