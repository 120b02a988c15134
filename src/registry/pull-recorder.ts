import type { Logger } from 'pino';
import type { MetadataStore } from '../store/meta/metadata-store.js';
import type { Registry } from './registry.js';

/**
 * Records image pulls for ECR's lastRecordedPullTime. Pulls are batched in memory and written
 * once per interval, so a burst of pulls costs one write per image rather than one per request.
 */
export class PullRecorder {
  private readonly pending = new Map<string, { repoId: string; digest: string; at: number }>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    registry: Registry,
    private readonly meta: MetadataStore,
    private readonly log: Logger,
    intervalMs = 1000,
  ) {
    registry.events.on('image.pulled', ({ repository, digest }) => {
      this.pending.set(`${repository.id} ${digest}`, { repoId: repository.id, digest, at: Date.now() });
    });
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.pending.size === 0) return;
      const batch = [...this.pending.values()];
      this.pending.clear();
      try {
        await this.meta.recordPulls(batch);
      } catch (err) {
        this.log.warn({ err }, 'could not record pulls');
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
