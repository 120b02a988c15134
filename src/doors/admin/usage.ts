import { InvalidArgumentError, Option, type Command } from 'commander';
import { loadConfig } from '../../config.js';
import { monthOf, parseMonth, type Month } from '../../domain/usage/pricing.js';
import { usageReport, type RepositoryUsage, type UsageReport } from '../../domain/usage/report.js';
import { sampleStorage } from '../../domain/usage/storage-sampler.js';
import { openRegionDomains } from '../../wiring.js';
import { table } from './text-table.js';

interface UsageOptions {
  month: Month;
  json?: boolean;
  csv?: boolean;
  top: number;
  sample: boolean;
  dataDir?: string;
  databaseUrl?: string;
  blobStore?: string;
}

function month(value: string): Month {
  const m = parseMonth(value);
  if (!m) throw new InvalidArgumentError('expected a month as YYYY-MM, e.g. 2026-01');
  return m;
}

function count(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}

const CSV_COLUMNS = [
  'month', 'repositoryName', 'region', 'registryId', 'accountId', 'public', 'storageBytes', 'storageGbMonth', 'transferOutBytes',
  'pushCount', 'pullCount', 'storageCostUsd', 'transferOutCostUsd', 'estimatedCostUsd', 'previousMonthCostUsd',
  // Added after the first columns, so readers of those find them where they were.
  'archiveStorageBytes', 'archiveStorageGbMonth', 'archiveStorageCostUsd',
] as const;

function csvCell(v: unknown): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

function csv(report: UsageReport): string {
  const rows = report.repositories.map((r) => CSV_COLUMNS.map((c) => csvCell(c === 'month' ? report.month : r[c])).join(','));
  return [CSV_COLUMNS.join(','), ...rows].join('\n') + '\n';
}

/** Binary units, as AWS bills them (a GB is 2^30 bytes). */
function size(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

const usd = (n: number) => `$${n.toFixed(n !== 0 && Math.abs(n) < 0.01 ? 4 : 2)}`;

function change(now: number, before: number): string {
  if (before === 0) return now === 0 ? '' : 'new';
  const pct = ((now - before) / before) * 100;
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(0)}%`;
}

function repositoryRow(r: RepositoryUsage): string[] {
  const name = r.public ? `${r.repositoryName} (public)` : r.repositoryName;
  return [
    name, r.registryId.replace(/^ecr-public:/, ''), r.region, size(r.storageBytes), r.storageGbMonth.toFixed(6), size(r.archiveStorageBytes), r.archiveStorageGbMonth.toFixed(6), size(r.transferOutBytes),
    String(r.pushCount), String(r.pullCount), usd(r.estimatedCostUsd), change(r.estimatedCostUsd, r.previousMonthCostUsd),
  ];
}

function text(report: UsageReport, top: number): string {
  const p = report.prices;
  const out: string[] = [];
  out.push(`Usage for ${report.month}, estimated at $${p.storageGbMonthUsd}/GB-month stored (${p.freeStorageGbMonth} GB-month free per account; ` +
    `public: ${p.publicFreeStorageGbMonth}), $${p.archiveStorageGbMonthUsd}/GB-month archived and $${p.transferOutGbUsd}/GB transferred out (GB = 2^30 bytes)\n\n`);
  if (report.repositories.length === 0) out.push('No usage recorded in this month.\n');
  else {
    const shown = report.repositories.slice(0, top);
    out.push(`Top ${shown.length} of ${report.repositories.length} repositories by estimated cost:\n`);
    const t = report.totals;
    const rows = shown.map(repositoryRow);
    rows.push(['TOTAL', '', '', '', t.storageGbMonth.toFixed(6), '', t.archiveStorageGbMonth.toFixed(6), size(t.transferOutBytes), String(t.pushCount), String(t.pullCount), usd(t.estimatedCostUsd),
      change(t.estimatedCostUsd, report.trend.at(-2)?.estimatedCostUsd ?? 0)]);
    out.push(table(['REPOSITORY', 'ACCOUNT', 'REGION', 'STORED', 'GB-MONTH', 'ARCHIVED', 'ARCHIVE GB-MONTH', 'TRANSFER OUT', 'PUSHES', 'PULLS', 'EST. COST', 'VS PREV'], rows, new Set([3, 4, 5, 6, 7, 8, 9, 10])));
  }
  out.push('\nTrend:\n');
  out.push(table(
    ['MONTH', 'GB-MONTH', 'ARCHIVE GB-MONTH', 'TRANSFER OUT', 'PUSHES', 'PULLS', 'EST. COST'],
    report.trend.map((m) => [m.month, m.storageGbMonth.toFixed(6), m.archiveStorageGbMonth.toFixed(6), size(m.transferOutBytes), String(m.pushCount), String(m.pullCount), usd(m.estimatedCostUsd)]),
    new Set([1, 2, 3, 4, 5, 6]),
  ));
  return out.join('');
}

/** `berth admin usage`: a month's metered usage and its estimated cost at ECR's list prices. */
export function registerUsageAdmin(admin: Command): void {
  admin
    .command('usage')
    .description('metered usage per repository (storage GB-months, transfer out, pushes, pulls) and its estimated cost')
    .option('--month <YYYY-MM>', 'the month (UTC) to report; default: the current one', month)
    .addOption(new Option('--json', 'print JSON').conflicts('csv'))
    .addOption(new Option('--csv', 'print CSV, one line per repository').conflicts('json'))
    .option('--top <n>', 'how many repositories the table shows', count, 20)
    .option('--no-sample', 'report what the server recorded, without sampling storage up to now first')
    .option('--data-dir <dir>', 'data dir (env BERTH_DATA_DIR)')
    .option('--database-url <url>', 'PostgreSQL metadata database (env BERTH_DATABASE_URL)')
    .option('--blob-store <url>', 'S3 blob store, s3://BUCKET/PREFIX (env BERTH_BLOB_STORE)')
    .action(async (opts: UsageOptions) => {
      const config = loadConfig({ dataDir: opts.dataDir, databaseUrl: opts.databaseUrl, blobStore: opts.blobStore });
      // Every region the deployment serves (BERTH_REGIONS), in one report.
      const domains = await openRegionDomains(config);
      try {
        const now = Date.now();
        // Brings storage up to now, so the current month's GB-months count until this moment.
        if (opts.sample) for (const [region, domain] of domains) await sampleStorage(domain.stores.meta, region, now);
        const report = await usageReport([...domains.values()].map((d) => d.stores.meta.usage), opts.month ?? monthOf(now), config.usage.prices);
        if (opts.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
        else if (opts.csv) process.stdout.write(csv(report));
        else process.stdout.write(text(report, opts.top));
      } finally {
        await Promise.all([...domains.values()].map((d) => d.close()));
      }
    });
}
