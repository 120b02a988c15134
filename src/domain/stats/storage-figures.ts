import type { RepositoryStorage, StatsStore } from '../../store/meta/stats-store.js';

export interface StorageFigures {
  /** Each with the region it is in, once the figures of the regions served are combined. */
  repositories: Array<RepositoryStorage & { region?: string }>;
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

/** The figures of every region served as one: repositories named with their region, the rest summed. */
export function combineRegions(parts: Array<{ region: string; figures: StorageFigures }>): StorageFigures {
  const jobs = new Map<string, { kind: string; status: string; count: number }>();
  for (const { figures } of parts) {
    for (const j of figures.jobs) {
      const key = `${j.kind}\0${j.status}`;
      const seen = jobs.get(key);
      if (seen) seen.count += j.count;
      else jobs.set(key, { ...j });
    }
  }
  return {
    repositories: parts.flatMap(({ region, figures }) => figures.repositories.map((r) => ({ ...r, region }))),
    totalBytes: parts.reduce((n, p) => n + p.figures.totalBytes, 0),
    uploadsInProgress: parts.reduce((n, p) => n + p.figures.uploadsInProgress, 0),
    jobs: [...jobs.values()],
    readAt: Math.min(...parts.map((p) => p.figures.readAt)),
  };
}
