import type { Logger } from 'pino';
import type { JobQueue } from './queue.js';

export interface PeriodicTask {
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

/** Runs `task` every `intervalSeconds` in this process, never two at once; 0 disables it. */
export function startPeriodic(name: string, intervalSeconds: number, task: () => Promise<void>, log: Logger): PeriodicTask {
  if (intervalSeconds <= 0) return { stop: async () => undefined };
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = task()
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
    },
  };
}

/**
 * Enqueues a job of `kind` every `intervalSeconds` (0: never). Its dedupe key names the interval
 * it belongs to, so however many nodes run this, each interval gets one job; and it is
 * exclusive, so while one runs (or waits for a retry) no other of its kind is queued and two
 * never run at once, even when a run takes longer than the interval.
 */
export function scheduleJob(queue: JobQueue, kind: string, intervalSeconds: number, log: Logger, payload: Record<string, unknown> = {}): PeriodicTask {
  return startPeriodic(kind, intervalSeconds, async () => {
    const slot = Math.floor(Date.now() / (intervalSeconds * 1000));
    await queue.enqueue({ kind, payload, dedupeKey: `${kind}:${slot}`, exclusive: true });
  }, log);
}
