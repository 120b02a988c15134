import type { RepositoryStorage, StatsStore } from '../../store/meta/stats-store.js';

export interface StorageFigures {
  repositories: RepositoryStorage[];
  /** Every stored blob once, however many repositories link it. */
  totalBytes: number;
  uploadsInProgress: number;
  jobs: Array<{ kind: string; status: string; count: number }>;
  /** When these were read, epoch ms. */
  readAt: number;
}

/**
 * Storage, upload and job-queue figures, read from the metadata at most once per `maxAgeMs`:
 * scrapes in between get the last reading, and scrapes during a reading share it.
 */
export class CachedStorageFigures {
  private last?: StorageFigures;
  private reading?: Promise<StorageFigures>;

  constructor(
    private readonly stats: () => StatsStore,
    private readonly maxAgeMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  async current(): Promise<StorageFigures> {
    if (this.last && this.now() - this.last.readAt < this.maxAgeMs) return this.last;
    this.reading ??= this.read().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async read(): Promise<StorageFigures> {
    const stats = this.stats();
    const [repositories, totalBytes, uploadsInProgress, jobs] = await Promise.all([
      stats.storageByRepository(),
      stats.totalBlobBytes(),
      stats.uploadsInProgress(),
      stats.jobCounts(),
    ]);
    this.last = { repositories, totalBytes, uploadsInProgress, jobs, readAt: this.now() };
    return this.last;
  }
}
