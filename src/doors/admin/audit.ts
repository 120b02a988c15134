import { InvalidArgumentError, type Command } from 'commander';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { loadConfig } from '../../config.js';
import { withRecord } from '../../domain/audit/cloudtrail-record.js';
import type { AuditQuery, AuditTrailStore } from '../../store/meta/audit-store.js';
import { withRegionDomains } from './regions.js';

interface AuditOptions {
  since?: number;
  until?: number;
  eventName?: string;
  user?: string;
  limit?: number;
  oldestFirst?: boolean;
  output?: string;
  region?: string;
  dataDir?: string;
  databaseUrl?: string;
}

function when(value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError('expected an ISO 8601 time (2026-01-31T12:00:00Z) or Unix seconds');
  return ms;
}

function count(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}

const PAGE = 1000;

/** `berth admin audit`: the audit trail as JSON lines, one CloudTrail record per line. */
export function registerAuditAdmin(admin: Command): void {
  admin
    .command('audit')
    .description('print or export the audit trail as JSON lines (CloudTrail records), newest first')
    .option('--since <time>', 'only records at or after this time (ISO 8601 or Unix seconds)', when)
    .option('--until <time>', 'only records at or before this time', when)
    .option('--event-name <name>', 'only this API operation (e.g. PutImage, SetRepositoryPolicy)')
    .option('--user <name>', 'only calls by this IAM user name')
    .option('--limit <n>', 'at most this many records', count)
    .option('--oldest-first', 'oldest first (for exports)')
    .option('--output <file>', 'write to this file instead of standard output')
    .option('--region <region>', "the region whose trail to print (default: the home region), as CloudTrail's are regional")
    .option('--data-dir <dir>', 'data dir (env BERTH_DATA_DIR)')
    .option('--database-url <url>', 'PostgreSQL metadata database (env BERTH_DATABASE_URL)')
    .action(async (opts: AuditOptions) => {
      if (opts.eventName && opts.user) throw new InvalidArgumentError('give --event-name or --user, not both');
      const config = loadConfig({ dataDir: opts.dataDir, databaseUrl: opts.databaseUrl });
      await withRegionDomains(config, { region: opts.region, every: false }, async ([[, domain]]) => {
        const out: Writable = opts.output ? createWriteStream(opts.output, { mode: 0o600 }) : process.stdout;
        try {
          await printTrail(domain!.stores.audit, opts, out);
        } finally {
          if (opts.output) await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
        }
      });
    });
}

/** Writes the records the options select, a JSON line each, a page at a time. */
async function printTrail(audit: AuditTrailStore, opts: AuditOptions, out: Writable): Promise<void> {
  const query: AuditQuery = {
    start: opts.since,
    end: opts.until,
    oldestFirst: opts.oldestFirst,
    limit: PAGE,
    attribute: opts.eventName ? { key: 'eventName', value: opts.eventName } : opts.user ? { key: 'username', value: opts.user } : undefined,
  };
  let left = opts.limit ?? Number.POSITIVE_INFINITY;
  while (left > 0) {
    const rows = await audit.lookup({ ...query, limit: Math.min(PAGE, left) });
    for (const row of rows) if (!out.write(withRecord(row).record + '\n')) await once(out, 'drain');
    left -= rows.length;
    if (rows.length < Math.min(PAGE, left + rows.length)) break;
    const last = rows[rows.length - 1]!;
    query.after = { eventTime: last.eventTime, eventId: last.eventId };
  }
}
