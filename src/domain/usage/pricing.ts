/**
 * ECR's billing units and list prices. AWS bills storage in GB-months, where a GB is 2^30 bytes and
 * a GB-month is one GB held for a whole month: the byte-hours of the month divided by 2^30 and by
 * the hours of that month (672 to 744). Data transfer out is billed per GB (2^30 bytes) sent.
 */
export const BYTES_PER_GB = 2 ** 30;
export const MS_PER_HOUR = 3_600_000;

/** What an estimate charges, in US dollars; set by the BERTH_PRICE_* settings. */
export interface UsagePrices {
  /** Per GB-month stored in the standard storage class, private and public repositories (ECR and ECR Public list $0.10). */
  storageGbMonthUsd: number;
  /**
   * Per GB-month of images in the archive storage class. ECR prices it apart: $0.10 for the first
   * 150 TB a month, $0.07 beyond (as published in 2026); one price here, default the first tier's.
   */
  archiveStorageGbMonthUsd: number;
  /** Per GB sent from private repositories (ECR lists $0.09 for the first 10 TB to the internet). */
  transferOutGbUsd: number;
  /** GB-months of private storage free each month, per account (ECR's free tier: 500 MB-month). */
  freeStorageGbMonth: number;
  /** GB-months of public storage free each month, per account (ECR Public: 50 GB-month). */
  publicFreeStorageGbMonth: number;
}

export const DEFAULT_PRICES: UsagePrices = {
  storageGbMonthUsd: 0.1,
  archiveStorageGbMonthUsd: 0.1,
  transferOutGbUsd: 0.09,
  freeStorageGbMonth: 0.5,
  publicFreeStorageGbMonth: 50,
};

/** A calendar month, UTC. */
export interface Month {
  /** YYYY-MM */
  id: string;
  /** Epoch ms of its first instant, and of the next month's. */
  start: number;
  end: number;
}

/** `YYYY-MM` as a month, or undefined when it is not one. */
export function parseMonth(text: string): Month | undefined {
  const m = /^(\d{4})-(\d{2})$/.exec(text);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  if (month < 1 || month > 12 || year < 1970) return undefined;
  return { id: text, start: Date.UTC(year, month - 1, 1), end: Date.UTC(year, month, 1) };
}

/** The month `n` months before (negative: after) this one. */
export function monthBefore(month: Month, n = 1): Month {
  const d = new Date(month.start);
  const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - n, 1);
  const s = new Date(start);
  const id = `${String(s.getUTCFullYear()).padStart(4, '0')}-${String(s.getUTCMonth() + 1).padStart(2, '0')}`;
  return parseMonth(id)!;
}

/** The month holding an instant (epoch ms). */
export function monthOf(at: number): Month {
  const d = new Date(at);
  return parseMonth(`${String(d.getUTCFullYear()).padStart(4, '0')}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`)!;
}

export function hoursIn(month: Month): number {
  return (month.end - month.start) / MS_PER_HOUR;
}

/** GB-months of byte-hours stored in a month: byteHours / (2^30 × hours in the month). */
export function gbMonths(byteHours: number, month: Month): number {
  return byteHours / (BYTES_PER_GB * hoursIn(month));
}

/** One repository's month, as the estimate needs it. */
export interface MeteredRepository {
  registryId: string;
  /** In the account's public namespace (ECR Public): its own free tier, transfer out not charged. */
  public: boolean;
  /** The account the registry belongs to; free tiers are per account. */
  accountId: string;
  /** Standard storage. */
  storageGbMonth: number;
  archiveStorageGbMonth: number;
  transferOutBytes: number;
}

export interface CostEstimate {
  storageUsd: number;
  archiveStorageUsd: number;
  transferOutUsd: number;
  totalUsd: number;
}

/**
 * Estimated costs of each repository in a month. Standard storage: GB-months × price, less the
 * account's free tier (private and public separately), which is shared among the account's
 * repositories in proportion to their GB-months, so the repositories' costs add up to the
 * account's bill. Archive storage: GB-months × the archive price (the free tier is standard
 * storage's). Transfer out: GB sent × price for private repositories; ECR Public's data transfer
 * is not charged (its free allowance, 500 GB a month anonymous and 5 TB signed in, is assumed to
 * cover it).
 */
export function estimateCosts(repositories: MeteredRepository[], prices: UsagePrices): CostEstimate[] {
  const storageByPool = new Map<string, number>();
  const pool = (r: MeteredRepository) => `${r.accountId} ${r.public ? 'public' : 'private'}`;
  for (const r of repositories) storageByPool.set(pool(r), (storageByPool.get(pool(r)) ?? 0) + r.storageGbMonth);
  return repositories.map((r) => {
    const poolGbMonths = storageByPool.get(pool(r))!;
    const free = r.public ? prices.publicFreeStorageGbMonth : prices.freeStorageGbMonth;
    const billableShare = poolGbMonths > free ? (poolGbMonths - free) / poolGbMonths : 0;
    const storageUsd = r.storageGbMonth * billableShare * prices.storageGbMonthUsd;
    const archiveStorageUsd = r.archiveStorageGbMonth * prices.archiveStorageGbMonthUsd;
    const transferOutUsd = r.public ? 0 : (r.transferOutBytes / BYTES_PER_GB) * prices.transferOutGbUsd;
    return { storageUsd, archiveStorageUsd, transferOutUsd, totalUsd: storageUsd + archiveStorageUsd + transferOutUsd };
  });
}
