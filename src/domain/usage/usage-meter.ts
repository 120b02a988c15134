import type { Logger } from 'pino';
import type { MetadataStore } from '../../store/meta/metadata-store.js';
import type { UsageCounts } from '../../store/meta/usage-store.js';
import { MS_PER_HOUR } from './pricing.js';

/**
 * The transaction scope of every write to the usage rows: writers take turns (across nodes too),
 * so two batches of upserts never lock the same rows in different orders.
 */
export const USAGE_SCOPE = 'usage';

/** The repository a metered request used, as the registry knows it. */
export interface MeteredRepositoryRef {
  registryId: string;
  name: string;
}

export interface MeteredRequest {
  transferOutBytes?: number;
  push?: boolean;
  pull?: boolean;
}

/**
 * Counts transfer out, pushes and pulls per repository and hour in memory, and adds them to the
 * hourly rows every `flushIntervalMs` and on close: the request path only adds to a map. A flush
 * that fails keeps its counts for the next one.
 */
export class UsageMeter {
  private pending = new Map<string, UsageCounts>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly meta: MetadataStore,
    private readonly region: string,
    private readonly opts: { flushIntervalMs?: number; log?: Logger; now?: () => number } = {},
  ) {}

  count(repo: MeteredRepositoryRef, request: MeteredRequest, at = (this.opts.now ?? Date.now)()): void {
    const hour = Math.floor(at / MS_PER_HOUR) * MS_PER_HOUR;
    const key = `${repo.registryId}\n${repo.name}\n${hour}`;
    let row = this.pending.get(key);
    if (!row) {
      row = { registryId: repo.registryId, region: this.region, repositoryName: repo.name, hour, transferOutBytes: 0, pushCount: 0, pullCount: 0 };
      this.pending.set(key, row);
    }
    row.transferOutBytes += request.transferOutBytes ?? 0;
    if (request.push) row.pushCount++;
    if (request.pull) row.pullCount++;
    if (!this.timer) {
      this.timer = setInterval(() => void this.flush(), this.opts.flushIntervalMs ?? 5000);
      this.timer.unref();
    }
  }

  /** Writes what has been counted so far; resolves when it is written (or kept for later). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.pending.size === 0) return;
      const batch = this.pending;
      this.pending = new Map();
      try {
        await this.meta.transaction((tx) => tx.usage.addCounts([...batch.values()]), USAGE_SCOPE);
      } catch (err) {
        this.opts.log?.warn({ err }, 'could not record usage; keeping it for the next try');
        for (const [key, row] of batch) this.restore(key, row);
      }
    });
    return this.flushing;
  }

  private restore(key: string, row: UsageCounts): void {
    const newer = this.pending.get(key);
    if (!newer) return void this.pending.set(key, row);
    newer.transferOutBytes += row.transferOutBytes;
    newer.pushCount += row.pushCount;
    newer.pullCount += row.pullCount;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
