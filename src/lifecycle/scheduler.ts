import type { Logger } from 'pino';
import type { Registry } from '../registry/registry.js';
import { runAllLifecyclePolicies } from './runner.js';

export interface PeriodicTask {
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

/** Runs `task` every `intervalSeconds` (never two at once); 0 disables it. */
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

export function startLifecycleScheduler(registry: Registry, intervalSeconds: number, log: Logger): PeriodicTask {
  return startPeriodic('lifecycle', intervalSeconds, async () => {
    await runAllLifecyclePolicies(registry, log);
  }, log);
}
