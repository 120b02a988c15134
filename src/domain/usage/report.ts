import { publicNamespaceAccount } from '../registry/names.js';
import type { UsageStore, UsageTotals } from '../../store/meta/usage-store.js';
import { estimateCosts, gbMonths, monthBefore, type Month, type UsagePrices } from './pricing.js';

export interface RepositoryUsage {
  repositoryName: string;
  region: string;
  registryId: string;
  accountId: string;
  /** An ECR Public repository. */
  public: boolean;
  /** Standard storage: the bytes held at the month's latest storage sample, and its byte-hours and GB-months. */
  storageBytes: number;
  storageByteHours: number;
  storageGbMonth: number;
  /** Archive storage (archived images, and images being restored), the same way. */
  archiveStorageBytes: number;
  archiveStorageByteHours: number;
  archiveStorageGbMonth: number;
  transferOutBytes: number;
  pushCount: number;
  pullCount: number;
  storageCostUsd: number;
  archiveStorageCostUsd: number;
  transferOutCostUsd: number;
  estimatedCostUsd: number;
  /** The same repository's estimate for the month before; 0 when it had no usage then. */
  previousMonthCostUsd: number;
}

export interface UsageSummary {
  month: string;
  storageGbMonth: number;
  archiveStorageGbMonth: number;
  transferOutBytes: number;
  pushCount: number;
  pullCount: number;
  estimatedCostUsd: number;
}

export interface UsageReport {
  month: string;
  currency: 'USD';
  prices: UsagePrices;
  /** Most expensive first. */
  repositories: RepositoryUsage[];
  totals: UsageSummary;
  /** The months up to this one, oldest first: each month's totals. */
  trend: UsageSummary[];
}

const TREND_MONTHS = 6;

/** Amounts in dollars to 8 decimal places, as AWS's detailed bills show them. */
const dollars = (n: number) => Math.round(n * 1e8) / 1e8;

function priced(rows: UsageTotals[], month: Month, prices: UsagePrices): RepositoryUsage[] {
  const metered = rows.map((r) => {
    const publicAccount = publicNamespaceAccount(r.registryId);
    return { ...r, public: publicAccount !== undefined, accountId: publicAccount ?? r.registryId, storageGbMonth: gbMonths(r.storageByteHours, month), archiveStorageGbMonth: gbMonths(r.archiveStorageByteHours, month) };
  });
  const costs = estimateCosts(metered, prices);
  return metered.map((r, i) => ({
    repositoryName: r.repositoryName,
    region: r.region,
    registryId: r.registryId,
    accountId: r.accountId,
    public: r.public,
    storageBytes: r.storageBytes,
    storageByteHours: r.storageByteHours,
    storageGbMonth: r.storageGbMonth,
    archiveStorageBytes: r.archiveStorageBytes,
    archiveStorageByteHours: r.archiveStorageByteHours,
    archiveStorageGbMonth: r.archiveStorageGbMonth,
    transferOutBytes: r.transferOutBytes,
    pushCount: r.pushCount,
    pullCount: r.pullCount,
    storageCostUsd: dollars(costs[i]!.storageUsd),
    archiveStorageCostUsd: dollars(costs[i]!.archiveStorageUsd),
    transferOutCostUsd: dollars(costs[i]!.transferOutUsd),
    estimatedCostUsd: dollars(costs[i]!.totalUsd),
    previousMonthCostUsd: 0,
  }));
}

function summary(month: Month, repositories: RepositoryUsage[]): UsageSummary {
  const sum = (f: (r: RepositoryUsage) => number) => repositories.reduce((s, r) => s + f(r), 0);
  return {
    month: month.id,
    storageGbMonth: sum((r) => r.storageGbMonth),
    archiveStorageGbMonth: sum((r) => r.archiveStorageGbMonth),
    transferOutBytes: sum((r) => r.transferOutBytes),
    pushCount: sum((r) => r.pushCount),
    pullCount: sum((r) => r.pullCount),
    estimatedCostUsd: dollars(sum((r) => r.estimatedCostUsd)),
  };
}

const keyOf = (r: { registryId: string; region: string; repositoryName: string }) => `${r.registryId}\n${r.region}\n${r.repositoryName}`;

/**
 * A month's usage and estimated cost per repository, most expensive first, with the months before
 * it; over the usage stores of every region served (an account's free tier covers all its regions).
 */
export async function usageReport(stores: UsageStore[], month: Month, prices: UsagePrices): Promise<UsageReport> {
  const months = Array.from({ length: TREND_MONTHS }, (_, i) => monthBefore(month, TREND_MONTHS - 1 - i));
  const totals = async (m: Month) => (await Promise.all(stores.map((store) => store.totals(m.start, m.end)))).flat();
  const byMonth = await Promise.all(months.map(async (m) => priced(await totals(m), m, prices)));
  const repositories = byMonth[TREND_MONTHS - 1]!;
  const previous = new Map(byMonth[TREND_MONTHS - 2]!.map((r) => [keyOf(r), r.estimatedCostUsd]));
  for (const r of repositories) r.previousMonthCostUsd = previous.get(keyOf(r)) ?? 0;
  repositories.sort((a, b) => b.estimatedCostUsd - a.estimatedCostUsd || b.storageByteHours + b.archiveStorageByteHours - (a.storageByteHours + a.archiveStorageByteHours) || keyOf(a).localeCompare(keyOf(b)));
  return {
    month: month.id,
    currency: 'USD',
    prices,
    repositories,
    totals: summary(month, repositories),
    trend: months.map((m, i) => summary(m, byMonth[i]!)),
  };
}
