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

/** Counts by hour, registry id and repository name. */
type Pending = Map<number, Map<string, Map<string, UsageCounts>>>;

/**
 * Counts transfer out, pushes and pulls per repository and hour in memory, and adds them to the
 * hourly rows every `flushIntervalMs` and on close: the request path only adds to a map. A flush
 * that fails keeps its counts for the next one.
 */
export class UsageMeter {
  /** Nested maps rather than one joined key: counting a request builds no string. */
  private pending: Pending = new Map();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly meta: MetadataStore,
    private readonly region: string,
    private readonly opts: { flushIntervalMs?: number; log?: Logger; now?: () => number } = {},
  ) {}

  count(repo: MeteredRepositoryRef, request: MeteredRequest, at = (this.opts.now ?? Date.now)()): void {
    const hour = Math.floor(at / MS_PER_HOUR) * MS_PER_HOUR;
    const row = this.rowFor(repo.registryId, repo.name, hour);
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
      const batch = [...this.pending.values()].flatMap((registries) => [...registries.values()].flatMap((names) => [...names.values()]));
      this.pending = new Map();
      try {
        await this.meta.transaction((tx) => tx.usage.addCounts(batch), USAGE_SCOPE);
      } catch (err) {
        this.opts.log?.warn({ err }, 'could not record usage; keeping it for the next try');
        for (const row of batch) this.restore(row);
      }
    });
    return this.flushing;
  }

  private rowFor(registryId: string, repositoryName: string, hour: number): UsageCounts {
    let registries = this.pending.get(hour);
    if (!registries) this.pending.set(hour, (registries = new Map()));
    let names = registries.get(registryId);
    if (!names) registries.set(registryId, (names = new Map()));
    let row = names.get(repositoryName);
    if (!row) {
      row = { registryId, region: this.region, repositoryName, hour, transferOutBytes: 0, pushCount: 0, pullCount: 0 };
      names.set(repositoryName, row);
    }
    return row;
  }

  private restore(row: UsageCounts): void {
    const kept = this.rowFor(row.registryId, row.repositoryName, row.hour);
    kept.transferOutBytes += row.transferOutBytes;
    kept.pushCount += row.pushCount;
    kept.pullCount += row.pullCount;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
