import { InvalidArgumentError, Option, type Command } from 'commander';
import { loadConfig } from '../../config.js';
import type { StoredEvent } from '../../domain/events/event-log.js';
import type { Job, JobStatus } from '../../domain/jobs/queue.js';
import type { Domain } from '../../wiring.js';
import { withRegionDomains } from './regions.js';
import { table } from './text-table.js';

interface StoreOptions {
  region?: string;
  dataDir?: string;
  databaseUrl?: string;
  blobStore?: string;
}

const STATUSES: JobStatus[] = ['queued', 'running', 'succeeded', 'dead'];

/** The home region's domain, or the one `--region` names. */
async function withDomain<T>(opts: StoreOptions, fn: (domain: Domain) => Promise<T>): Promise<T> {
  const config = loadConfig({ dataDir: opts.dataDir, databaseUrl: opts.databaseUrl, blobStore: opts.blobStore });
  return withRegionDomains(config, { region: opts.region, every: false }, ([[, domain]]) => fn(domain!));
}

function count(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
}

const time = (ms: number) => new Date(ms).toISOString();


function jobRow(j: Job): string[] {
  return [String(j.id), j.kind, j.status, `${j.attempts}/${j.maxAttempts}`, time(j.runAfter), (j.lastError ?? '').replace(/\s+/g, ' ')];
}

function eventRow(e: StoredEvent): string[] {
  const image = [e.digest, e.tag && `tag ${e.tag}`].filter(Boolean).join(' ');
  return [String(e.seq), time(e.createdAt), e.type, `${e.registryId}/${e.repositoryName}`, image];
}

/** `berth admin jobs …` and `berth admin events …`: the job queue and the event outbox. */
export function registerJobsAdmin(admin: Command): void {
  admin
    .command('jobs')
    .description('background jobs (lifecycle runs, garbage collection…)')
    .command('list')
    .description('list jobs, newest first')
    .addOption(new Option('--status <status>', 'only jobs with this status').choices(STATUSES))
    .option('--kind <kind>', 'only jobs of this kind (e.g. gc.run, lifecycle.run-all)')
    .option('--limit <n>', 'at most this many', count, 100)
    .option('--json', 'print JSON')
    .option('--region <region>', 'the region whose queue to list (default: the home region)')
    .option('--data-dir <dir>', 'data dir (env BERTH_DATA_DIR)')
    .option('--database-url <url>', 'PostgreSQL metadata database (env BERTH_DATABASE_URL)')
    .option('--blob-store <url>', 'S3 blob store, s3://BUCKET/PREFIX (env BERTH_BLOB_STORE)')
    .action(async (opts: StoreOptions & { status?: JobStatus; kind?: string; limit: number; json?: boolean }) => {
      const jobs = await withDomain(opts, (domain) => domain.jobs.list({ status: opts.status, kind: opts.kind, limit: opts.limit }));
      if (opts.json) process.stdout.write(JSON.stringify(jobs, null, 2) + '\n');
      else process.stdout.write(table(['ID', 'KIND', 'STATUS', 'ATTEMPTS', 'RUN AFTER', 'LAST ERROR'], jobs.map(jobRow)));
    });

  admin
    .command('events')
    .description('the event outbox')
    .command('list')
    .description('list events in the order they happened')
    .option('--after <seq>', 'only events after this sequence number', count, 0)
    .option('--type <type>', 'only events of this type (e.g. image.pushed)')
    .option('--limit <n>', 'at most this many', count, 100)
    .option('--json', 'print JSON')
    .option('--region <region>', 'the region whose outbox to list (default: the home region)')
    .option('--data-dir <dir>', 'data dir (env BERTH_DATA_DIR)')
    .option('--database-url <url>', 'PostgreSQL metadata database (env BERTH_DATABASE_URL)')
    .option('--blob-store <url>', 'S3 blob store, s3://BUCKET/PREFIX (env BERTH_BLOB_STORE)')
    .action(async (opts: StoreOptions & { after: number; type?: string; limit: number; json?: boolean }) => {
      const events = await withDomain(opts, (domain) => domain.events.list({ after: opts.after, type: opts.type, limit: opts.limit }));
      if (opts.json) process.stdout.write(JSON.stringify(events, null, 2) + '\n');
      else process.stdout.write(table(['SEQ', 'TIME', 'TYPE', 'REPOSITORY', 'IMAGE'], events.map(eventRow)));
    });
}
