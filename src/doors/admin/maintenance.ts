import type { Command } from 'commander';
import pino from 'pino';
import { loadConfig } from '../../config.js';
import { runAllLifecyclePolicies } from '../../domain/lifecycle/runner.js';
import { withRegionDomains } from './regions.js';

/** `berth admin` commands for lifecycle runs and garbage collection. */
export function registerMaintenanceAdmin(admin: Command): void {
  const lifecycle = admin.command('lifecycle').description('lifecycle policies');
  lifecycle
    .command('run')
    .description("evaluate repositories' lifecycle policies now and expire what they select")
    .option('--repository <name>', 'only this repository')
    .option('--region <region>', 'only this region (default: every region served)')
    .option('--data-dir <dir>', 'data dir (env BERTH_DATA_DIR)')
    .option('--database-url <url>', 'PostgreSQL metadata database (env BERTH_DATABASE_URL)')
    .option('--blob-store <url>', 'S3 blob store, s3://BUCKET/PREFIX (env BERTH_BLOB_STORE)')
    .action(async (opts: { repository?: string; region?: string; dataDir?: string; databaseUrl?: string; blobStore?: string }) => {
      const config = loadConfig({ dataDir: opts.dataDir, databaseUrl: opts.databaseUrl, blobStore: opts.blobStore });
      const log = pino({ level: config.logLevel, base: undefined }, pino.destination(2));
      await withRegionDomains(
        config,
        { region: opts.region, every: true },
        async (domains) => {
          for (const [region, domain] of domains) {
            // The region is named on each line only when the deployment serves more than one.
            const where = config.regions.length > 1 ? ` in ${region}` : '';
            const results = await runAllLifecyclePolicies(domain.registry, log, opts.repository ? { name: opts.repository } : undefined);
            for (const r of results) {
              for (const image of r.expired) {
                const rule = image.rulePriority === null ? 'subject expired' : `rule ${image.rulePriority}`;
                process.stdout.write(`expired ${r.repositoryName}@${image.digest}${where} [${image.tags.join(',')}] (${rule})\n`);
              }
              for (const image of r.transitioned) {
                const rule = image.rulePriority === null ? 'subject archived' : `rule ${image.rulePriority}`;
                process.stdout.write(`archived ${r.repositoryName}@${image.digest}${where} [${image.tags.join(',')}] (${rule})\n`);
              }
            }
            const total = results.reduce((n, r) => n + r.expired.length, 0);
            const archived = results.reduce((n, r) => n + r.transitioned.length, 0);
            // The archive count is only added when something was archived, so the line reads as before otherwise.
            process.stdout.write(`lifecycle${where}: ${results.length} repositories evaluated, ${total} images expired${archived > 0 ? `, ${archived} archived` : ''}\n`);
          }
        },
        log,
      );
    });

  admin
    .command('gc')
    .description('remove blobs, blob links and uploads nothing references (after the grace period)')
    .option('--dry-run', 'report what would be removed, remove nothing')
    .option('--region <region>', 'only this region (default: every region served)')
    .option('--data-dir <dir>', 'data dir (env BERTH_DATA_DIR)')
    .option('--database-url <url>', 'PostgreSQL metadata database (env BERTH_DATABASE_URL)')
    .option('--blob-store <url>', 'S3 blob store, s3://BUCKET/PREFIX (env BERTH_BLOB_STORE)')
    .action(async (opts: { dryRun?: boolean; region?: string; dataDir?: string; databaseUrl?: string; blobStore?: string }) => {
      const config = loadConfig({ dataDir: opts.dataDir, databaseUrl: opts.databaseUrl, blobStore: opts.blobStore });
      const log = pino({ level: config.logLevel, base: undefined }, pino.destination(2));
      await withRegionDomains(
        config,
        { region: opts.region, every: true },
        async (domains) => {
          for (const [region, domain] of domains) {
            const r = await domain.collectGarbage({ graceMs: config.gcGraceSeconds * 1000, dryRun: opts.dryRun ?? false, log });
            const verb = r.dryRun ? 'would remove' : 'removed';
            const where = config.regions.length > 1 ? ` in ${region}` : '';
            process.stdout.write(
              `gc${r.dryRun ? ' (dry run)' : ''}${where}: ${verb} ${r.blobsDeleted + r.orphanFilesDeleted} blobs (${r.bytesFreed} bytes freed), ` +
                `${r.linksRemoved} blob links, ${r.uploadsRemoved} uploads\n`,
            );
          }
        },
        log,
      );
    });
}
