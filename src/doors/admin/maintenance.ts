import type { Command } from 'commander';
import pino from 'pino';
import { loadConfig } from '../../config.js';
import { runAllLifecyclePolicies } from '../../domain/lifecycle/runner.js';
import { openDomain } from '../../wiring.js';

/** `berth admin` commands for lifecycle runs and garbage collection. */
export function registerMaintenanceAdmin(admin: Command): void {
  const lifecycle = admin.command('lifecycle').description('lifecycle policies');
  lifecycle
    .command('run')
    .description("evaluate repositories' lifecycle policies now and expire what they select")
    .option('--repository <name>', 'only this repository')
    .option('--data-dir <dir>', 'data dir (env BERTH_DATA_DIR)')
    .option('--database-url <url>', 'PostgreSQL metadata database (env BERTH_DATABASE_URL)')
    .option('--blob-store <url>', 'S3 blob store, s3://BUCKET/PREFIX (env BERTH_BLOB_STORE)')
    .action(async (opts: { repository?: string; dataDir?: string; databaseUrl?: string; blobStore?: string }) => {
      const config = loadConfig({ dataDir: opts.dataDir, databaseUrl: opts.databaseUrl, blobStore: opts.blobStore });
      const log = pino({ level: config.logLevel, base: undefined }, pino.destination(2));
      const domain = await openDomain(config, log);
      try {
        const results = await runAllLifecyclePolicies(domain.registry, log, opts.repository ? { name: opts.repository } : undefined);
        for (const r of results) {
          for (const image of r.expired) {
            const rule = image.rulePriority === null ? 'subject expired' : `rule ${image.rulePriority}`;
            process.stdout.write(`expired ${r.repositoryName}@${image.digest} [${image.tags.join(',')}] (${rule})\n`);
          }
          for (const image of r.transitioned) {
            const rule = image.rulePriority === null ? 'subject archived' : `rule ${image.rulePriority}`;
            process.stdout.write(`archived ${r.repositoryName}@${image.digest} [${image.tags.join(',')}] (${rule})\n`);
          }
        }
        const total = results.reduce((n, r) => n + r.expired.length, 0);
        const archived = results.reduce((n, r) => n + r.transitioned.length, 0);
        // The archive count is only added when something was archived, so the line reads as before otherwise.
        process.stdout.write(`lifecycle: ${results.length} repositories evaluated, ${total} images expired${archived > 0 ? `, ${archived} archived` : ''}\n`);
      } finally {
        await domain.close();
      }
    });

  admin
    .command('gc')
    .description('remove blobs, blob links and uploads nothing references (after the grace period)')
    .option('--dry-run', 'report what would be removed, remove nothing')
    .option('--data-dir <dir>', 'data dir (env BERTH_DATA_DIR)')
    .option('--database-url <url>', 'PostgreSQL metadata database (env BERTH_DATABASE_URL)')
    .option('--blob-store <url>', 'S3 blob store, s3://BUCKET/PREFIX (env BERTH_BLOB_STORE)')
    .action(async (opts: { dryRun?: boolean; dataDir?: string; databaseUrl?: string; blobStore?: string }) => {
      const config = loadConfig({ dataDir: opts.dataDir, databaseUrl: opts.databaseUrl, blobStore: opts.blobStore });
      const log = pino({ level: config.logLevel, base: undefined }, pino.destination(2));
      const domain = await openDomain(config, log);
      try {
        const r = await domain.collectGarbage({ graceMs: config.gcGraceSeconds * 1000, dryRun: opts.dryRun ?? false, log });
        const verb = r.dryRun ? 'would remove' : 'removed';
        process.stdout.write(
          `gc${r.dryRun ? ' (dry run)' : ''}: ${verb} ${r.blobsDeleted + r.orphanFilesDeleted} blobs (${r.bytesFreed} bytes freed), ` +
            `${r.linksRemoved} blob links, ${r.uploadsRemoved} uploads\n`,
        );
      } finally {
        await domain.close();
      }
    });
}
