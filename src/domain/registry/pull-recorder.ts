import type { Logger } from 'pino';
import type { MetadataStore } from '../../store/meta/metadata-store.js';

/**
 * Records image pulls for ECR's lastRecordedPullTime. Pulls are batched in memory and written
 * once per interval, so a burst of pulls costs one write per image rather than one per request.
 */
export class PullRecorder {
  private readonly pending = new Map<string, { repoId: string; digest: string; at: number }>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly meta: MetadataStore,
    private readonly log?: Logger,
    private readonly intervalMs = 1000,
  ) {}

  record(repoId: string, digest: string): void {
    this.pending.set(`${repoId} ${digest}`, { repoId, digest, at: Date.now() });
    if (!this.timer) {
      this.timer = setInterval(() => void this.flush(), this.intervalMs);
      this.timer.unref();
    }
  }

  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.pending.size === 0) return;
      const batch = [...this.pending.values()];
      this.pending.clear();
      try {
        await this.meta.recordPulls(batch);
      } catch (err) {
        this.log?.warn({ err }, 'could not record pulls');
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
