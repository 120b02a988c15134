import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { isStale } from '../../domain/scanning/vulndb/vulndb.js';
import type { ImportReport } from '../../domain/scanning/vulndb/import.js';
import { openDomain, openRegionDomains, type Domain } from '../../wiring.js';

interface StoreOptions {
  dataDir?: string;
  databaseUrl?: string;
}

async function withDomain<T>(opts: StoreOptions, fn: (domain: Domain) => Promise<T>): Promise<T> {
  const domain = await openDomain(loadConfig({ dataDir: opts.dataDir, databaseUrl: opts.databaseUrl }));
  try {
    return await fn(domain);
  } finally {
    await domain.close();
  }
}

/**
 * Runs `fn` on every region's domain, the home region first; reports the home region's result.
 * Each region scans against a vulnerability database of its own, so each gets the same records.
 */
async function inEveryRegion<T>(opts: StoreOptions, fn: (domain: Domain) => Promise<T>): Promise<T> {
  const domains = await openRegionDomains(loadConfig({ dataDir: opts.dataDir, databaseUrl: opts.databaseUrl }));
  try {
    const [home, ...others] = domains.values();
    const result = await fn(home!);
    for (const domain of others) await fn(domain);
    return result;
  } finally {
    await Promise.all([...domains.values()].map((d) => d.close()));
  }
}

function printReport(report: ImportReport, json: boolean | undefined): void {
  if (json) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  } else {
    process.stdout.write(
      `files ${report.files}: ${report.added} added, ${report.replaced} replaced, ${report.unchanged} unchanged, ${report.failed} failed\n`,
    );
    for (const f of report.failures) process.stderr.write(`  ${f.where}: ${f.message}\n`);
    if (report.failed > report.failures.length) process.stderr.write(`  … and ${report.failed - report.failures.length} more\n`);
  }
  // Some records failing is worth an exit status; the good ones are in.
  if (report.failed > 0) process.exitCode = 2;
}

function storeOptions(cmd: Command): Command {
  return cmd
    .option('--json', 'print JSON')
    .option('--data-dir <dir>', 'data dir (env BERTH_DATA_DIR)')
    .option('--database-url <url>', 'PostgreSQL metadata database (env BERTH_DATABASE_URL)');
}

/** `berth admin vulndb …`: the vulnerability database image scans match against. */
export function registerVulnDbAdmin(admin: Command): void {
  const vulndb = admin.command('vulndb').description('the vulnerability database scans use (OSV records)');

  storeOptions(
    vulndb
      .command('import')
      .description('load OSV JSON files, directories, OSV all.zip files, Debian security-tracker JSON or Alpine secdb JSON')
      .argument('<path...>', 'files or directories'),
  ).action(async (paths: string[], opts: StoreOptions & { json?: boolean }) => {
    printReport(await inEveryRegion(opts, (d) => d.scanning.vulnDb.import(paths)), opts.json);
  });

  storeOptions(
    vulndb
      .command('update')
      .description('fetch an OSV zip (e.g. an ecosystem\'s all.zip) over HTTP(S) and import it')
      .requiredOption('--url <url>', 'where to fetch it'),
  ).action(async (opts: StoreOptions & { url: string; json?: boolean }) => {
    printReport(await inEveryRegion(opts, (d) => d.scanning.vulnDb.update(opts.url)), opts.json);
  });

  storeOptions(vulndb.command('status').description('records per ecosystem, sources, newest modified time')).action(
    async (opts: StoreOptions & { json?: boolean }) => {
      const status = await withDomain(opts, (d) => d.scanning.vulnDb.status());
      const stale = isStale(status.newestModified);
      if (opts.json) {
        process.stdout.write(JSON.stringify({ ...status, stale }, null, 2) + '\n');
        return;
      }
      const time = (ms: number | null) => (ms === null ? 'never' : new Date(ms).toISOString());
      const lines = [
        `records: ${status.records}`,
        `newest modified: ${time(status.newestModified)}${stale ? ' (older than 7 days: findings carry a warning)' : ''}`,
        `last import: ${time(status.updatedAt)}`,
      ];
      lines.push('ecosystems:', ...status.ecosystems.map((e) => `  ${e.ecosystem}  ${e.records}`));
      lines.push('sources:', ...status.sources.map((s) => `  ${s.source}  ${s.records}`));
      process.stdout.write(lines.join('\n') + '\n');
    },
  );
}
